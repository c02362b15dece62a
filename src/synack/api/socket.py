"""A blocking API shaped like Python's :mod:`socket` module, on a synack host.

::

    from synack.api.socket import socket, SimRuntime
    rt = SimRuntime(testbed.sim, testbed.client)        # or RealtimeRuntime on a TUN
    with socket(rt) as s:
        s.connect(("192.0.2.2", 80))
        s.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
        reply = s.recv(4096)

The calls and their errors follow Linux's (checked against it): ``send`` on a socket
that never connected raises BrokenPipeError (EPIPE), ``recv`` raises ENOTCONN, a reset
shows once as ConnectionResetError and then as end of stream, a refused connect raises
ConnectionRefusedError, a timed-out one TimeoutError (ETIMEDOUT), a taken port
EADDRINUSE.  A socket timeout (``settimeout``) raises ``TimeoutError("timed out")`` like
Python's; non-blocking calls that would block raise BlockingIOError (EAGAIN, or
EINPROGRESS from ``connect``).

Blocking means running the runtime until the condition holds: in the simulator that is
virtual time, so one thread can drive both ends of a connection (the other end's
progress happens while this one "waits").  Addresses are IPv4 literals only.
"""

from __future__ import annotations

import errno
import os
import socket as _socket
import weakref
from functools import partial
from typing import Any

from synack.api.address import Address, parse_address
from synack.api.blocking import Blocking
from synack.api.dgram import DatagramSocket
from synack.api.runtime import RealtimeRuntime, Runtime, SimRuntime
from synack.api.sockopts import SocketOptions, core_supports
from synack.stack.host import Host
from synack.stack.listener import Listener
from synack.stack.socket import TcpHandle
from synack.tcp import events as ev
from synack.tcp.states import State

__all__ = [
    "AF_INET",
    "SHUT_RD",
    "SHUT_RDWR",
    "SHUT_WR",
    "SOCK_DGRAM",
    "SOCK_STREAM",
    "RealtimeRuntime",
    "SimRuntime",
    "Socket",
    "socket",
]

AF_INET = _socket.AF_INET
SOCK_STREAM = _socket.SOCK_STREAM
SOCK_DGRAM = _socket.SOCK_DGRAM
SHUT_RD = _socket.SHUT_RD
SHUT_WR = _socket.SHUT_WR
SHUT_RDWR = _socket.SHUT_RDWR

_CONNECTING = (State.SYN_SENT, State.SYN_RECEIVED)
_LIVE_OPTIONS = ("nodelay", "keepalive", "sndbuf", "rcvbuf", "user_timeout")
#: Ports taken by bind() on each host (listeners and connections are in the host).
_bound: weakref.WeakKeyDictionary[Host, set[int]] = weakref.WeakKeyDictionary()


def _oserror(code: int) -> OSError:
    """OSError(code) -- Python picks the subclass (ConnectionRefusedError...) by errno."""
    return OSError(code, os.strerror(code))


def bound_ports(host: Host) -> set[int]:
    ports = _bound.get(host)
    if ports is None:
        ports = _bound[host] = set()
    return ports


def socket(
    runtime: Runtime, family: int = AF_INET, type: int = SOCK_STREAM, proto: int = 0
) -> Socket | DatagramSocket:
    """A new socket on ``runtime``'s host: TCP (SOCK_STREAM) or UDP (SOCK_DGRAM)."""
    if family != AF_INET:
        raise OSError(errno.EAFNOSUPPORT, "only AF_INET is supported")
    if type == SOCK_DGRAM:
        return DatagramSocket(runtime)
    if type != SOCK_STREAM:
        raise OSError(errno.EPROTONOSUPPORT, "only SOCK_STREAM and SOCK_DGRAM")
    return Socket(runtime)


def _byte_buffer(data: bytes | bytearray | memoryview) -> bytes | bytearray | memoryview:
    """``data`` as a buffer of octets whose len() counts octets (a view of another
    format is cast; a non-contiguous one copied), without copying bytes or byte views."""
    if type(data) is bytes or type(data) is bytearray:
        return data
    view = memoryview(data)
    if view.itemsize == 1 and view.ndim == 1 and view.c_contiguous:
        return view
    return view.cast("B") if view.c_contiguous else view.tobytes()


class Socket(Blocking):
    """A TCP socket (see the module docstring)."""

    family = AF_INET
    type = SOCK_STREAM
    proto = 0

    def __init__(self, runtime: Runtime, *, _handle: TcpHandle | None = None) -> None:
        self._rt = runtime
        self._host = runtime.host
        self._timeout: float | None = _socket.getdefaulttimeout()
        self.options = SocketOptions()
        self._port: int | None = None  # bound (reserved) local port
        self._listener: Listener | None = None
        self._handle: TcpHandle | None = None
        self._closed = False
        self._shut_rd = False
        self._error_shown = False  # a reset is reported once, then reads see EOF
        self._wakeups = 0  # events seen from the connection (a blocking send waits on it)
        if _handle is not None:
            self._adopt(_handle)

    def _adopt(self, handle: TcpHandle) -> None:
        self._handle = handle
        handle.on_event = self._on_event

    def _on_event(self, handle: TcpHandle, event: ev.Event) -> None:
        self._wakeups += 1

    def __repr__(self) -> str:
        state = self._handle.state.value if self._handle else "LISTEN" if self._listener else "-"
        return f"<synack Socket {self.getsockname()} {state}>"

    def __enter__(self) -> Socket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- waiting ----------------------------------------------------------------------

    def fileno(self) -> int:
        return -1  # not a kernel descriptor

    # --- addresses --------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise OSError(errno.EBADF, "Bad file descriptor")

    def _config(self) -> Any:
        return self.options.config(self._host.config)

    def bind(self, address: Any) -> None:
        self._check_open()
        ip, port = parse_address(address)
        if self._port is not None or self._handle is not None:
            raise OSError(errno.EINVAL, "Invalid argument")  # already bound
        if ip not in ("0.0.0.0", self._host.ip):
            raise OSError(errno.EADDRNOTAVAIL, "Cannot assign requested address")
        host = self._host
        taken = bound_ports(host)
        if port == 0:
            free = host.ports.allocate(
                lambda p: p in taken or p in host.listeners or host.local_port_used(p)
            )
            if free is None:
                raise _oserror(errno.EADDRINUSE)
            port = free
        elif port in taken or port in host.listeners:
            raise _oserror(errno.EADDRINUSE)
        elif not self.options.reuseaddr and host.local_port_used(port):
            raise _oserror(errno.EADDRINUSE)  # Linux: TIME_WAIT holds the port without it
        taken.add(port)
        self._port = port

    def _release_port(self) -> None:
        if self._port is not None:
            bound_ports(self._host).discard(self._port)
            self._port = None

    def getsockname(self) -> Address:
        if self._handle is not None:
            return self._handle.local
        if self._port is not None:
            return ("0.0.0.0" if self._listener is None else self._host.ip, self._port)
        return ("0.0.0.0", 0)

    def getpeername(self) -> Address:
        self._check_open()
        if self._handle is None or self._handle.remote is None:
            raise _oserror(errno.ENOTCONN)
        if self._handle.state is State.CLOSED and self._handle.error is not None:
            raise _oserror(errno.ENOTCONN)
        return self._handle.remote

    # --- passive open -----------------------------------------------------------------

    def listen(self, backlog: int = 128) -> None:
        self._check_open()
        if self._handle is not None:
            raise OSError(errno.EINVAL, "Invalid argument")
        if self._listener is not None:
            return
        if self._port is None:
            self.bind(("", 0))
        assert self._port is not None
        self._listener = self._host.listen(self._port, max(backlog, 0), config=self._config())

    def accept(self) -> tuple[Socket, Address]:
        self._check_open()
        lst = self._listener
        if lst is None:
            raise OSError(errno.EINVAL, "Invalid argument")
        self._wait(lambda: bool(lst.accept_queue) or lst.closed)
        handle = lst.accept()
        if handle is None:
            raise OSError(errno.EINVAL, "Invalid argument")  # closed meanwhile
        child = Socket(self._rt, _handle=handle)
        child.options = SocketOptions(**vars(self.options))
        child.settimeout(self._timeout if self._timeout != 0.0 else None)
        assert handle.remote is not None
        return child, handle.remote

    # --- active open ------------------------------------------------------------------

    def connect(self, address: Any) -> None:
        code = self._connect(address, raise_errors=True)
        if code:
            raise _oserror(code)

    def connect_ex(self, address: Any) -> int:
        try:
            return self._connect(address, raise_errors=False)
        except TimeoutError:
            return errno.EAGAIN if self._timeout == 0.0 else errno.ETIMEDOUT

    def _connect(self, address: Any, *, raise_errors: bool) -> int:
        self._check_open()
        ip, port = parse_address(address)
        if self._listener is not None:
            return errno.EISCONN
        h = self._handle
        if h is not None:
            if h.state in _CONNECTING:
                if self._timeout == 0.0:
                    return errno.EALREADY
            elif h.error is not None and not self._error_shown:
                self._error_shown = True
                return h.error
            elif h.state is not State.CLOSED:
                return errno.EISCONN
            else:
                h = None  # a failed attempt: try again, as Linux does
        if h is None:
            if ip == "0.0.0.0" or port == 0:
                return errno.ECONNREFUSED if port else errno.EINVAL
            cfg = self._config()
            h = self._host.connect(ip, port, local_port=self._port, config=cfg)
            self._error_shown = False
            self._adopt(h)
            if self._timeout == 0.0:
                return errno.EINPROGRESS
        handle = h
        try:
            self._wait(lambda: handle.state not in _CONNECTING)
        except BlockingIOError:
            return errno.EINPROGRESS
        if handle.error is not None:
            self._error_shown = True
            return handle.error
        if handle.state is State.CLOSED:
            return errno.ECONNREFUSED
        return 0

    # --- data -------------------------------------------------------------------------

    def _pending_error(self) -> OSError | None:
        """The connection's error, once (as Linux reports sk_err once)."""
        h = self._handle
        if h is not None and h.error is not None and not self._error_shown:
            self._error_shown = True
            return _oserror(h.error)
        return None

    def send(self, data: bytes | bytearray | memoryview, flags: int = 0) -> int:
        self._check_open()
        h = self._handle
        if h is None or h.state in (State.CLOSED, State.LISTEN):
            err = self._pending_error()
            raise err or _oserror(errno.EPIPE)
        if not data:
            return 0
        # No copy here: the send buffer keeps immutable bytes as they are and copies
        # only the part of a mutable buffer that fits (sendall calls this with views
        # of what is left, which copying would make quadratic).
        payload = _byte_buffer(data)
        while True:
            err = self._pending_error()
            if err is not None:
                raise err
            mark = self._wakeups
            try:
                n = h.send(payload)
            except BrokenPipeError:
                raise self._pending_error() or _oserror(errno.EPIPE) from None
            except OSError as e:
                raise _oserror(e.errno or errno.EPIPE) from None
            if n:
                return n
            self._wait(partial(self._progress_since, mark, h))

    def _progress_since(self, mark: int, h: TcpHandle) -> bool:
        """The connection reported something (acknowledged bytes, an error...) since ``mark``."""
        return self._wakeups != mark or h.state is State.CLOSED

    def sendall(self, data: bytes | bytearray | memoryview, flags: int = 0) -> None:
        # One copy of a mutable buffer, whose owner may change it once sendall returns
        # early with an error; bytes are used as they are.
        view = memoryview(data if type(data) is bytes else bytes(data))
        while view:
            n = self.send(view)
            view = view[n:]

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        self._check_open()
        if bufsize < 0:
            raise ValueError("negative buffersize in recv")
        h = self._handle
        if h is None:
            raise _oserror(errno.ENOTCONN)
        if bufsize == 0:
            return b""

        def ready() -> bool:
            return (
                self._shut_rd
                or h.conn.readable > 0
                or h.at_eof
                or h.state is State.CLOSED
                or (h.error is not None and not self._error_shown)
            )

        self._wait(ready)
        data = h.recv(bufsize) if not self._shut_rd else b""
        if data:
            return data
        err = self._pending_error()
        if err is not None:
            raise err
        if h.state in _CONNECTING:
            raise _oserror(errno.ENOTCONN)
        return b""

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        view = memoryview(buffer).cast("B")
        data = self.recv(nbytes or len(view), flags)
        view[: len(data)] = data
        return len(data)

    def shutdown(self, how: int) -> None:
        self._check_open()
        h = self._handle
        if how not in (SHUT_RD, SHUT_WR, SHUT_RDWR):
            raise OSError(errno.EINVAL, "Invalid argument")
        if h is None or h.state in (State.CLOSED, State.LISTEN, State.SYN_SENT):
            if self._listener is not None and how != SHUT_WR:
                self._listener.close()  # Linux: shutdown(SHUT_RD) stops a listener
                return
            raise _oserror(errno.ENOTCONN)
        if how in (SHUT_RD, SHUT_RDWR):
            self._shut_rd = True
            h.conn.shutdown_read()
        if how in (SHUT_WR, SHUT_RDWR):
            h.shutdown()

    # --- closing ----------------------------------------------------------------------

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        h = self._handle
        if h is not None:
            h.on_event = None
            onoff, secs = self.options.linger
            if onoff and secs == 0:
                h.abort()  # SO_LINGER {1, 0}: RST now (socket(7))
            else:
                h.close()
                if onoff and self._timeout != 0.0 and h.state is not State.CLOSED:
                    # SO_LINGER {1, t}: wait for the FIN to be acknowledged.
                    self._rt.wait_until(
                        lambda: h.state in (State.FIN_WAIT_2, State.TIME_WAIT, State.CLOSED),
                        float(secs),
                    )
        self._release_port()

    def detach(self) -> TcpHandle | None:
        """Give up the connection without closing it (returns its handle)."""
        h, self._handle = self._handle, None
        if h is not None:
            h.on_event = None
        self._closed = True
        self._release_port()
        return h

    # --- options and introspection ----------------------------------------------------

    def setsockopt(self, level: int, optname: int, value: int | bytes) -> None:
        self._check_open()
        self.options.set(level, optname, value)
        h = self._handle
        if h is not None and h.state is not State.CLOSED:
            # The live connection follows (Connection.configure, as setsockopt does).
            cfg = self.options.config(h.conn.config)
            changes = {
                k: getattr(cfg, k)
                for k in _LIVE_OPTIONS
                if core_supports(k) and getattr(cfg, k) != getattr(h.conn.config, k)
            }
            if changes:
                h.configure(**changes)  # re-arms timers (keepalive), sends what now may go

    def getsockopt(self, level: int, optname: int, buflen: int | None = None) -> int | bytes:
        self._check_open()
        h = self._handle
        if level == _socket.SOL_SOCKET and optname == _socket.SO_ERROR:
            err = self._pending_error()
            return err.errno if err is not None and err.errno else 0
        if level == _socket.SOL_SOCKET and optname == _socket.SO_TYPE:
            return SOCK_STREAM
        live = h is not None and h.state not in (State.CLOSED, State.SYN_SENT)
        if level == _socket.IPPROTO_TCP and optname == _socket.TCP_MAXSEG and live:
            assert h is not None
            return int(h.conn.eff_mss)
        config = h.conn.config if h is not None else self._config()
        value = self.options.get(level, optname, config)
        if buflen is not None and isinstance(value, int):
            return value.to_bytes(4, "little", signed=True)[:buflen]
        return value

    def info(self) -> dict[str, object]:
        """A TCP_INFO-like snapshot of the connection (state, rto, srtt, cwnd...)."""
        h = self._handle
        if h is None:
            state = "LISTEN" if self._listener is not None else "CLOSED"
            return {"state": state}
        return h.conn.info(h.host.clock())

    @property
    def handle(self) -> TcpHandle | None:
        """The stack's handle on the connection, for inspection."""
        return self._handle
