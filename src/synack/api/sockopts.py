"""Socket options of the socket-like API, and how they map onto :class:`TCPConfig`.

=================  =======================================================================
option             effect
=================  =======================================================================
SO_REUSEADDR       bind() may take a port that connections (in TIME_WAIT, say) still use
SO_KEEPALIVE       ``TCPConfig.keepalive`` (when the core has it)
SO_LINGER          (on, 0): close() aborts with RST; (on, t): close() blocks until the FIN
                   is acknowledged or t seconds pass
SO_RCVBUF          ``TCPConfig.rcvbuf``; getsockopt reports twice the value, as Linux does
                   (it doubles the request to leave room for bookkeeping, socket(7))
SO_SNDBUF          ``TCPConfig.sndbuf``; reported doubled likewise
SO_ERROR           the pending error (read once, then cleared)
SO_TYPE            SOCK_STREAM or SOCK_DGRAM
TCP_NODELAY        ``TCPConfig.nodelay`` (Nagle off; when the core has it)
TCP_MAXSEG         ``TCPConfig.mss`` (the MSS we announce); read on a connected socket it is
                   the current effective send MSS, like Linux's mss_cache
TCP_USER_TIMEOUT   ``TCPConfig.user_timeout`` (RFC 5482), given and read in milliseconds as
                   in Linux; 0 turns it off, a negative value is EINVAL
=================  =======================================================================

Options set before ``connect``/``listen`` shape the connection's :class:`TCPConfig`;
set on a connected socket they go to the live connection through
``Connection.configure`` (buffers, Nagle, keepalive, user timeout; the MSS only counts
before the handshake).  Unknown options raise ENOPROTOOPT, as Linux does.
"""

from __future__ import annotations

import dataclasses
import errno
import socket as _socket
import struct
from dataclasses import dataclass

from synack.tcp.config import TCPConfig

__all__ = ["SocketOptions"]

_LINGER = struct.Struct("ii")
#: Linux's floors: SOCK_MIN_RCVBUF / SOCK_MIN_SNDBUF are about 2 KiB / 4.5 KiB.
_MIN_RCVBUF = 2304
_MIN_SNDBUF = 4608
_CONFIG_FIELDS = frozenset(f.name for f in dataclasses.fields(TCPConfig))

SOL_SOCKET = _socket.SOL_SOCKET
IPPROTO_TCP = _socket.IPPROTO_TCP


def core_supports(field: str) -> bool:
    """Whether the TCP core's config has ``field`` (it grows as the core does)."""
    return field in _CONFIG_FIELDS


@dataclass
class SocketOptions:
    reuseaddr: bool = False
    keepalive: bool | None = None  # None: the stack's default
    linger: tuple[bool, int] = (False, 0)
    rcvbuf: int | None = None  # None: the stack's default
    sndbuf: int | None = None
    nodelay: bool | None = None
    maxseg: int | None = None
    user_timeout: int | None = None  # milliseconds, as TCP_USER_TIMEOUT takes it

    def config(self, base: TCPConfig) -> TCPConfig:
        """``base`` with these options applied."""
        changes: dict[str, object] = {}
        if self.rcvbuf is not None:
            changes["rcvbuf"] = self.rcvbuf
        if self.sndbuf is not None:
            changes["sndbuf"] = self.sndbuf
        if self.maxseg is not None:
            changes["mss"] = self.maxseg
        if self.nodelay is not None and core_supports("nodelay"):
            changes["nodelay"] = self.nodelay
        if self.keepalive is not None and core_supports("keepalive"):
            changes["keepalive"] = self.keepalive
        if self.user_timeout is not None and core_supports("user_timeout"):
            changes["user_timeout"] = self.user_timeout / 1000
        return base.with_(**changes) if changes else base

    def set(self, level: int, name: int, value: int | bytes) -> None:
        if level == SOL_SOCKET:
            if name == _socket.SO_REUSEADDR:
                self.reuseaddr = bool(_int(value))
            elif name == _socket.SO_KEEPALIVE:
                self.keepalive = bool(_int(value))
            elif name == _socket.SO_LINGER:
                if not isinstance(value, bytes | bytearray) or len(value) < _LINGER.size:
                    raise OSError(errno.EINVAL, "SO_LINGER takes a struct linger (8 bytes)")
                onoff, secs = _LINGER.unpack_from(value)
                self.linger = (bool(onoff), max(secs, 0))
            elif name == _socket.SO_RCVBUF:
                self.rcvbuf = max(_int(value), _MIN_RCVBUF // 2)
            elif name == _socket.SO_SNDBUF:
                self.sndbuf = max(_int(value), _MIN_SNDBUF // 2)
            else:
                raise OSError(errno.ENOPROTOOPT, "Protocol not available")
        elif level == IPPROTO_TCP:
            if name == _socket.TCP_NODELAY:
                self.nodelay = bool(_int(value))
            elif name == _socket.TCP_MAXSEG:
                mss = _int(value)
                if not 88 <= mss <= 32767:  # Linux TCP_MIN_MSS .. MAX_TCP_WINDOW
                    raise OSError(errno.EINVAL, "Invalid argument")
                self.maxseg = mss
            elif name == _socket.TCP_USER_TIMEOUT:
                ms = _int(value)
                if ms < 0:  # Linux do_tcp_setsockopt
                    raise OSError(errno.EINVAL, "Invalid argument")
                self.user_timeout = ms
            else:
                raise OSError(errno.ENOPROTOOPT, "Protocol not available")
        else:
            raise OSError(errno.ENOPROTOOPT, "Protocol not available")

    def get(self, level: int, name: int, config: TCPConfig) -> int | bytes:
        """The option's value (SO_ERROR, SO_TYPE and TCP_MAXSEG on a live connection are
        answered by the socket itself)."""
        if level == SOL_SOCKET:
            if name == _socket.SO_REUSEADDR:
                return int(self.reuseaddr)
            if name == _socket.SO_KEEPALIVE:
                return int(bool(getattr(config, "keepalive", False)))
            if name == _socket.SO_LINGER:
                return _LINGER.pack(int(self.linger[0]), self.linger[1])
            if name == _socket.SO_RCVBUF:
                return 2 * self.rcvbuf if self.rcvbuf is not None else config.rcvbuf
            if name == _socket.SO_SNDBUF:
                return 2 * self.sndbuf if self.sndbuf is not None else config.sndbuf
        elif level == IPPROTO_TCP:
            if name == _socket.TCP_NODELAY:
                return int(bool(getattr(config, "nodelay", False)))
            if name == _socket.TCP_MAXSEG:
                return self.maxseg if self.maxseg is not None else config.mss
            if name == _socket.TCP_USER_TIMEOUT:
                return round(getattr(config, "user_timeout", 0.0) * 1000)
        raise OSError(errno.ENOPROTOOPT, "Protocol not available")


def _int(value: int | bytes) -> int:
    if isinstance(value, bytes | bytearray):
        if len(value) < 4:
            raise OSError(errno.EINVAL, "Invalid argument")
        return int(struct.unpack_from("i", value)[0])
    return int(value)
