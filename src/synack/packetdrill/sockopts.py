"""setsockopt and getsockopt for the options synack has (Linux net/core/sock.c and
net/ipv4/tcp.c semantics).

Supported: SO_REUSEADDR/SO_REUSEPORT (accepted, no effect: synack binds one port per
run), SO_RCVBUF/SO_SNDBUF (doubled, as Linux does), SO_KEEPALIVE, SO_LINGER with a zero
timeout (close() then resets), SO_RCVLOWAT, SO_ERROR and SO_TYPE (get), TCP_NODELAY,
TCP_MAXSEG, TCP_CONGESTION, TCP_KEEPIDLE/KEEPINTVL/KEEPCNT, TCP_USER_TIMEOUT (in
milliseconds).  Any other option is :class:`Unsupported` (the script stops with that
reason).
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING

from synack.packetdrill import script as s
from synack.packetdrill.errors import Unsupported
from synack.packetdrill.symbols import SYMBOLS, bracketed_int, describe, to_int
from synack.tcp import congestion
from synack.tcp.config import TCPConfig
from synack.tcp.states import SYNCHRONIZED

if TYPE_CHECKING:
    from synack.packetdrill.sockfile import SocketFile
    from synack.packetdrill.syscalls import Hooks, SyscallResult

SOL_SOCKET = SYMBOLS["SOL_SOCKET"]
SOL_TCP = SYMBOLS["SOL_TCP"]
#: Linux TCP_MIN_MSS and MAX_TCP_WINDOW: the TCP_MAXSEG range (do_tcp_setsockopt).
TCP_MIN_MSS = 88
MAX_TCP_WINDOW = 32767
#: Linux TCP_MSS_DEFAULT: getsockopt(TCP_MAXSEG) before a connection has an MSS.
TCP_MSS_DEFAULT = 536
#: RFC 5482 / Linux TCP_USER_TIMEOUT, in milliseconds (TCPConfig.user_timeout: seconds).
TCP_USER_TIMEOUT = (SOL_TCP, SYMBOLS["TCP_USER_TIMEOUT"])
_NOOP = {
    (SOL_SOCKET, SYMBOLS[n])
    for n in ("SO_REUSEADDR", "SO_REUSEPORT", "SO_DEBUG", "SO_DONTROUTE", "SO_OOBINLINE")
}
#: TCPConfig fields behind integer options: (level, optname) -> (field, converter).
_CONFIG_OPTS: dict[tuple[int, int], tuple[str, type]] = {
    (SOL_SOCKET, SYMBOLS["SO_KEEPALIVE"]): ("keepalive", bool),
    (SOL_TCP, SYMBOLS["TCP_NODELAY"]): ("nodelay", bool),
    (SOL_TCP, SYMBOLS["TCP_KEEPIDLE"]): ("keepidle", float),
    (SOL_TCP, SYMBOLS["TCP_KEEPINTVL"]): ("keepintvl", float),
    (SOL_TCP, SYMBOLS["TCP_KEEPCNT"]): ("keepcnt", int),
}


_PREFIXES = {SOL_SOCKET: "SO_", SOL_TCP: "TCP_", SYMBOLS["SOL_IP"]: "IP_"}


def _name(level: int, optname: int) -> str:
    prefix = _PREFIXES.get(level)
    for key, value in SYMBOLS.items():
        if prefix and key.startswith(prefix) and value == optname:
            return key
    return f"level {level} option {optname}"


def _apply_live(sf: SocketFile, hooks: Hooks, **changes: object) -> None:
    """Carry a change to the listener (for future children) and the live connection."""
    if sf.listener is not None:
        sf.listener.config = hooks.config_for(sf)
    if sf.handle is not None and changes:
        sf.handle.configure(**changes)


def setsockopt(sf: SocketFile, args: list[s.Expr], hooks: Hooks) -> SyscallResult:
    from synack.packetdrill.syscalls import SyscallResult

    level, optname = to_int(args[1]), to_int(args[2])
    key = (level, optname)
    value = args[3]
    if key in _NOOP:
        sf.options[key] = bracketed_int(value)
        return SyscallResult(0)
    if key in _CONFIG_OPTS:
        field, conv = _CONFIG_OPTS[key]
        v = bracketed_int(value)
        sf.options[key] = v
        sf.config_changes[field] = conv(v)
        _apply_live(sf, hooks, **{field: conv(v)})
        return SyscallResult(0)
    if key in ((SOL_SOCKET, SYMBOLS["SO_RCVBUF"]), (SOL_SOCKET, SYMBOLS["SO_SNDBUF"])):
        v = bracketed_int(value)
        rcv = optname == SYMBOLS["SO_RCVBUF"]
        if rcv:
            sf.rcvbuf = v
        else:
            sf.sndbuf = v
        _apply_live(sf, hooks, **{"rcvbuf" if rcv else "sndbuf": 2 * v})
        return SyscallResult(0)
    if key == (SOL_SOCKET, SYMBOLS["SO_RCVLOWAT"]):
        sf.rcvlowat = max(bracketed_int(value), 1)
        return SyscallResult(0)
    if key == (SOL_SOCKET, SYMBOLS["SO_MAX_PACING_RATE"]):
        # Linux sock_setsockopt: ~0U means no cap; any other value caps the pacing rate
        # and turns TCP's internal pacing on (SK_PACING_NEEDED).
        v = bracketed_int(value)
        if v == 0:
            raise Unsupported("SO_MAX_PACING_RATE 0: synack needs a rate > 0")
        rate = None if v in (0xFFFFFFFF, (1 << 64) - 1) else float(v)
        sf.config_changes["max_pacing_rate"] = rate
        _apply_live(sf, hooks, max_pacing_rate=rate)
        return SyscallResult(0)
    if key == (SOL_SOCKET, SYMBOLS["SO_LINGER"]):
        if not isinstance(value, s.Struct):
            raise Unsupported(f"SO_LINGER value {describe(value)}")
        onoff, linger = value.field("onoff"), value.field("linger")
        on = to_int(onoff) if onoff is not None else 0
        secs = to_int(linger) if linger is not None else 0
        if on and secs:
            raise Unsupported("SO_LINGER with a timeout: synack's close() never blocks")
        sf.linger_zero = bool(on)
        return SyscallResult(0)
    if key == (SOL_TCP, SYMBOLS["TCP_MAXSEG"]):
        v = bracketed_int(value)
        if v and not TCP_MIN_MSS <= v <= MAX_TCP_WINDOW:
            return SyscallResult(-1, errno.EINVAL)
        sf.user_mss = v or None
        _apply_live(sf, hooks)
        return SyscallResult(0)
    if key == TCP_USER_TIMEOUT:
        v = bracketed_int(value)
        if v < 0:  # Linux do_tcp_setsockopt
            return SyscallResult(-1, errno.EINVAL)
        sf.options[key] = v
        sf.config_changes["user_timeout"] = v / 1000
        _apply_live(sf, hooks, user_timeout=v / 1000)
        return SyscallResult(0)
    if key == (SOL_TCP, SYMBOLS["TCP_CONGESTION"]):
        name = value.value if isinstance(value, s.Str) else describe(value)
        if name not in congestion.ALGORITHMS:
            return SyscallResult(-1, errno.ENOENT)
        sf.config_changes["congestion"] = name
        _apply_live(sf, hooks, congestion=name)
        return SyscallResult(0)
    raise Unsupported(f"setsockopt {_name(level, optname)} is not supported by synack")


def getsockopt(sf: SocketFile, args: list[s.Expr], config: TCPConfig) -> SyscallResult:
    from synack.packetdrill.syscalls import SyscallResult

    level, optname = to_int(args[1]), to_int(args[2])
    key = (level, optname)
    conn = sf.handle.conn if sf.handle is not None else None
    actual: int | str
    if key in _NOOP:
        actual = int(sf.options.get(key, 0))
    elif key in _CONFIG_OPTS:
        field, _ = _CONFIG_OPTS[key]
        actual = int(getattr(conn.config if conn else config, field))
    elif key == (SOL_SOCKET, SYMBOLS["SO_RCVBUF"]):
        actual = conn.rcvbuf.capacity if conn else config.rcvbuf
    elif key == (SOL_SOCKET, SYMBOLS["SO_SNDBUF"]):
        actual = conn.sndbuf.capacity if conn else config.sndbuf
    elif key == (SOL_SOCKET, SYMBOLS["SO_ERROR"]):
        actual = sf.pending_error() or 0
    elif key == (SOL_SOCKET, SYMBOLS["SO_TYPE"]):
        actual = SYMBOLS["SOCK_STREAM"]
    elif key == (SOL_SOCKET, SYMBOLS["SO_RCVLOWAT"]):
        actual = sf.rcvlowat
    elif key == (SOL_TCP, SYMBOLS["TCP_MAXSEG"]):
        # Linux: mss_cache once connected; the user's value, or 536, before.
        if conn is not None and conn.state in SYNCHRONIZED:
            actual = conn.eff_mss
        else:
            actual = sf.user_mss or TCP_MSS_DEFAULT
    elif key == (SOL_TCP, SYMBOLS["TCP_CONGESTION"]):
        actual = (conn.config if conn else config).congestion
    elif key == TCP_USER_TIMEOUT:
        actual = round((conn.config if conn else config).user_timeout * 1000)
    else:
        raise Unsupported(f"getsockopt {_name(level, optname)} is not supported by synack")
    want, optlen = args[3], args[4]
    if isinstance(want, s.Str):
        if actual != want.value:
            return SyscallResult(
                0, None, f"Bad getsockopt optval: expected: '{want.value}' actual: '{actual}'"
            )
        return SyscallResult(0)
    length = bracketed_int(optlen)
    if length != 4:
        return SyscallResult(0, None, f"Unsupported getsockopt optlen: {length}")
    expected = bracketed_int(want)
    if actual != expected:
        return SyscallResult(
            0, None, f"Bad getsockopt optval: expected: {expected} actual: {actual}"
        )
    return SyscallResult(0)
