"""The script's system calls on synack: an fd table over Host, Listener and TcpHandle.

Each call becomes an :class:`Operation` whose ``attempt()`` the runner calls: the first
attempt does the call; it returns a :class:`SyscallResult` when the call is over, or
None while a blocking call waits (for a connection to accept, data to read, room in the
send buffer, the handshake to finish), and the runner attempts it again whenever virtual
time moves or a packet arrives.  Non-blocking sockets (O_NONBLOCK, SOCK_NONBLOCK,
MSG_DONTWAIT) answer EAGAIN / EINPROGRESS instead of waiting, as Linux does.

Linux semantics kept here (net/ipv4/tcp.c, af_inet.c): read returns what is there
(at least one byte), 0 at end of stream; an error is reported once, then reads return 0
and writes EPIPE; write on a socket shut down for writing is EPIPE; write and blocking
connect wait through SYN_SENT/SYN_RECEIVED; accept takes the oldest established child.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from synack.packetdrill import script as s
from synack.packetdrill.errors import PacketdrillError, Unsupported
from synack.packetdrill.sockfile import OPENING, SENDABLE, SocketFile
from synack.packetdrill.sockopts import getsockopt, setsockopt
from synack.packetdrill.symbols import SYMBOLS, describe, to_int
from synack.stack.host import Host
from synack.tcp.config import TCPConfig
from synack.tcp.states import SYNCHRONIZED, State

MSG_PEEK = SYMBOLS["MSG_PEEK"]
MSG_DONTWAIT = SYMBOLS["MSG_DONTWAIT"]
MSG_WAITALL = SYMBOLS["MSG_WAITALL"]
O_NONBLOCK = SYMBOLS["O_NONBLOCK"]
SOCK_NONBLOCK = SYMBOLS["SOCK_NONBLOCK"]


#: Flags the calls honour: MSG_DONTWAIT, MSG_PEEK, MSG_WAITALL on receive; MSG_DONTWAIT
#: and MSG_NOSIGNAL (SIGPIPE is ignored anyway, as packetdrill ignores it) on send.
RECV_FLAGS = MSG_PEEK | MSG_DONTWAIT | MSG_WAITALL
SEND_FLAGS = MSG_DONTWAIT | SYMBOLS["MSG_NOSIGNAL"]


def _check_flags(flags: int, allowed: int, call: str) -> None:
    extra = flags & ~allowed
    if extra:
        names = [n for n, v in SYMBOLS.items() if n.startswith("MSG_") and extra & v]
        raise Unsupported(
            f"{call} flags {'|'.join(names) or hex(extra)} (synack has no "
            "corking, urgent data, zero-copy or error queue)"
        )


class SyscallError(PacketdrillError):
    """A runtime error in a call (packetdrill: ``runtime error in X call: ...``)."""


@dataclass(frozen=True, slots=True)
class SyscallResult:
    value: int
    errno: int | None = None
    problem: str | None = None  # an output value (optval, revents) did not match


def ok(value: int = 0) -> SyscallResult:
    return SyscallResult(value)


def fail(code: int) -> SyscallResult:
    return SyscallResult(-1, code)


@dataclass
class Operation:
    attempt: Callable[[], SyscallResult | None]
    deadline: float | None = None  # when a waiting call times out (poll)


class Hooks(Protocol):
    """What the runner provides: addresses, configs, and the socket-under-test bookkeeping."""

    @property
    def remote_ip(self) -> str: ...
    @property
    def bind_port(self) -> int: ...
    @property
    def connect_port(self) -> int: ...

    def now(self) -> float: ...
    def config_for(self, sf: SocketFile) -> TCPConfig: ...
    def on_socket(self, fd: int) -> None: ...
    def on_listen(self, fd: int) -> None: ...
    def on_connect(self, fd: int) -> None: ...
    def on_accept(self, fd: int) -> str | None: ...


def _buffer_len(expr: s.Expr) -> bytes | None:
    return expr.value.encode() if isinstance(expr, s.Str) else None


class FdTable:
    """The script's file descriptors, numbered as the script numbers them."""

    def __init__(self, host: Host, hooks: Hooks) -> None:
        self.host = host
        self.hooks = hooks
        self.fds: dict[int, SocketFile] = {}

    def get(self, fd_expr: s.Expr) -> SocketFile:
        fd = to_int(fd_expr)
        sf = self.fds.get(fd)
        if sf is None:
            raise SyscallError(f"unable to find socket with script fd {fd}")
        return sf

    def start(self, spec: s.SyscallSpec) -> Operation:
        """Begin ``spec``; raises SyscallError/Unsupported for a call that cannot run."""
        method = getattr(self, f"_sys_{spec.name}", None)
        if method is None:
            raise Unsupported(f"system call {spec.name}() is not supported")
        op: Operation = method(spec, list(spec.args))
        return op

    @staticmethod
    def _nargs(spec: s.SyscallSpec, args: list[s.Expr], *counts: int) -> None:
        if len(args) not in counts:
            want = " or ".join(str(c) for c in counts)
            raise SyscallError(f"{spec.name} expected {want} args but got {len(args)}")

    def _expected_fd(self, spec: s.SyscallSpec) -> int:
        if isinstance(spec.result, s.Int) and spec.result.value >= 0:
            return spec.result.value
        fd = 3
        while fd in self.fds:
            fd += 1
        return fd

    def _now(self, fn: Callable[[], SyscallResult | None]) -> Operation:
        return Operation(fn)

    # --- sockets ------------------------------------------------------------------------

    def _sys_socket(self, spec: s.SyscallSpec, args: list[s.Expr]) -> Operation:
        self._nargs(spec, args, 3)
        domain = SYMBOLS["AF_INET"] if isinstance(args[0], s.Ellipsis_) else to_int(args[0])
        kind = to_int(args[1])
        proto = to_int(args[2])
        if domain != SYMBOLS["AF_INET"]:
            raise Unsupported(f"socket domain {describe(args[0])}: synack is IPv4 only")
        if kind & ~(SOCK_NONBLOCK | SYMBOLS["SOCK_CLOEXEC"]) != SYMBOLS["SOCK_STREAM"]:
            raise Unsupported(f"socket type {describe(args[1])}: only SOCK_STREAM (TCP)")
        if proto not in (0, SYMBOLS["IPPROTO_TCP"]):
            raise Unsupported(f"socket protocol {describe(args[2])}")
        fd = self._expected_fd(spec)

        def attempt() -> SyscallResult:
            if fd in self.fds:
                raise SyscallError(f"duplicate fd {fd} in script")
            self.fds[fd] = SocketFile(fd, nonblocking=bool(kind & SOCK_NONBLOCK))
            self.hooks.on_socket(fd)
            return ok(fd)

        return self._now(attempt)

    def _sys_bind(self, spec: s.SyscallSpec, args: list[s.Expr]) -> Operation:
        self._nargs(spec, args, 3)
        sf = self.get(args[0])

        def attempt() -> SyscallResult:
            if sf.bound or sf.handle is not None:
                return fail(errno.EINVAL)
            if self.hooks.bind_port in self.host.listeners:
                return fail(errno.EADDRINUSE)
            sf.bound = True
            return ok()

        return self._now(attempt)

    def _sys_listen(self, spec: s.SyscallSpec, args: list[s.Expr]) -> Operation:
        self._nargs(spec, args, 2)
        sf = self.get(args[0])
        backlog = to_int(args[1])

        def attempt() -> SyscallResult:
            if sf.handle is not None:
                return fail(errno.EINVAL)
            if sf.listener is None:
                port = self.hooks.bind_port
                if port in self.host.listeners:
                    return fail(errno.EADDRINUSE)
                cfg = self.hooks.config_for(sf)
                sf.listener = self.host.listen(port, max(backlog, 0), config=cfg)
            self.hooks.on_listen(sf.fd)
            return ok()

        return self._now(attempt)

    def _sys_accept(self, spec: s.SyscallSpec, args: list[s.Expr]) -> Operation:
        self._nargs(spec, args, 3)
        sf = self.get(args[0])
        new_fd = self._expected_fd(spec)

        def attempt() -> SyscallResult | None:
            lst = sf.listener
            if lst is None:
                return fail(errno.EINVAL)
            handle = lst.accept()
            if handle is None:
                return fail(errno.EAGAIN) if sf.nonblocking else None
            # A script may reuse a number it never closed; packetdrill then maps the
            # number to the newest socket, and so does this table.
            child = SocketFile(new_fd, bound=True, handle=handle)
            child.options = dict(sf.options)
            child.rcvbuf, child.sndbuf, child.user_mss = sf.rcvbuf, sf.sndbuf, sf.user_mss
            child.config_changes = dict(sf.config_changes)
            self.fds[new_fd] = child
            problem = self.hooks.on_accept(new_fd)
            if problem:
                raise SyscallError(problem)
            return ok(new_fd)

        return Operation(attempt)

    def _sys_connect(self, spec: s.SyscallSpec, args: list[s.Expr]) -> Operation:
        self._nargs(spec, args, 3)
        sf = self.get(args[0])
        started = False

        def attempt() -> SyscallResult | None:
            nonlocal started
            if not started:
                started = True
                if sf.listener is not None:
                    return fail(errno.EINVAL)
                if sf.handle is not None:
                    st = sf.handle.state
                    if st in OPENING:
                        return fail(errno.EALREADY)
                    if st in SYNCHRONIZED:
                        return fail(errno.EISCONN)
                    err = sf.pending_error()
                    return fail(err) if err else fail(errno.EISCONN)
                local = self.hooks.bind_port if sf.bound else None
                sf.handle = self.host.connect(
                    self.hooks.remote_ip,
                    self.hooks.connect_port,
                    local_port=local,
                    config=self.hooks.config_for(sf),
                )
                self.hooks.on_connect(sf.fd)
                if sf.nonblocking:
                    return fail(errno.EINPROGRESS)
            h = sf.handle
            assert h is not None
            if h.state in SYNCHRONIZED:
                return ok()
            err = sf.pending_error()
            if err is not None:
                return fail(err)
            if h.state is State.CLOSED:
                return fail(errno.ECONNREFUSED)
            return None

        return Operation(attempt)

    def _sys_close(self, spec: s.SyscallSpec, args: list[s.Expr]) -> Operation:
        self._nargs(spec, args, 1)
        sf = self.get(args[0])

        def attempt() -> SyscallResult:
            if sf.listener is not None:
                sf.listener.close()
            elif sf.handle is not None:
                if sf.linger_zero:
                    sf.handle.abort()
                else:
                    sf.handle.close()
            self.fds.pop(sf.fd, None)
            return ok()

        return self._now(attempt)

    def _sys_shutdown(self, spec: s.SyscallSpec, args: list[s.Expr]) -> Operation:
        self._nargs(spec, args, 2)
        sf = self.get(args[0])
        how = to_int(args[1])

        def attempt() -> SyscallResult:
            if how not in (0, 1, 2):
                return fail(errno.EINVAL)
            h = sf.handle
            if h is None or h.state in (State.CLOSED, State.LISTEN, State.SYN_SENT):
                return fail(errno.ENOTCONN)
            if how in (0, 2):
                # Linux only marks the socket (RCV_SHUTDOWN): data that arrives later is
                # still acknowledged, queued and readable (tcp_recvmsg returns 0 only
                # when nothing is queued), so the connection itself is not told.
                sf.shut_rd = True
            if how in (1, 2) and not sf.shut_wr:
                sf.shut_wr = True
                try:
                    h.shutdown()
                except OSError as e:
                    return fail(e.errno or errno.ENOTCONN)
            return ok()

        return self._now(attempt)

    # --- data ---------------------------------------------------------------------------

    def _reader(self, sf: SocketFile, count: int, flags: int) -> Operation:
        _check_flags(flags, RECV_FLAGS, "recv")
        nonblock = sf.nonblocking or bool(flags & MSG_DONTWAIT)
        got = 0

        def attempt() -> SyscallResult | None:
            nonlocal got
            h = sf.handle
            if h is None:
                return fail(errno.ENOTCONN)
            if count == 0:
                return ok(0)
            avail = h.conn.readable
            if avail and flags & MSG_PEEK:
                return ok(min(avail, count))
            if avail:
                got += len(h.recv(count - got))
                if got >= count or not flags & MSG_WAITALL:
                    return ok(got)
            if got and (h.conn.at_eof or h.error is not None):
                return ok(got)
            err = sf.pending_error()
            if err is not None:
                return fail(err)
            if h.conn.at_eof or h.state is State.CLOSED or sf.shut_rd:
                return ok(got)
            if nonblock:
                return ok(got) if got else fail(errno.EAGAIN)
            return None

        return Operation(attempt)

    def _writer(self, sf: SocketFile, data: bytes, flags: int) -> Operation:
        _check_flags(flags, SEND_FLAGS, "send")
        nonblock = sf.nonblocking or bool(flags & MSG_DONTWAIT)
        sent = 0

        def attempt() -> SyscallResult | None:
            nonlocal sent
            h = sf.handle
            if h is None:
                return fail(errno.EPIPE)
            err = sf.pending_error()
            if err is not None:
                return fail(err)
            if sf.shut_wr:
                return fail(errno.EPIPE)
            if h.state in OPENING:
                return fail(errno.EAGAIN) if nonblock else None
            if h.state not in SENDABLE:
                return ok(sent) if sent else fail(errno.EPIPE)
            try:
                sent += h.send(data[sent:])
            except BrokenPipeError:
                return ok(sent) if sent else fail(errno.EPIPE)
            if sent == len(data):
                return ok(sent)
            if nonblock:
                return ok(sent) if sent else fail(errno.EAGAIN)
            return None

        return Operation(attempt)

    def _payload(self, expr: s.Expr, count: int) -> bytes:
        text = _buffer_len(expr)
        if text is not None:
            return (text + bytes(count))[:count]
        return bytes(count)  # "...": packetdrill writes a zeroed buffer

    def _sys_read(self, spec: s.SyscallSpec, args: list[s.Expr]) -> Operation:
        self._nargs(spec, args, 3)
        return self._reader(self.get(args[0]), to_int(args[2]), 0)

    def _sys_recv(self, spec: s.SyscallSpec, args: list[s.Expr]) -> Operation:
        self._nargs(spec, args, 4)
        return self._reader(self.get(args[0]), to_int(args[2]), to_int(args[3]))

    def _sys_recvfrom(self, spec: s.SyscallSpec, args: list[s.Expr]) -> Operation:
        self._nargs(spec, args, 6)
        return self._reader(self.get(args[0]), to_int(args[2]), to_int(args[3]))

    def _sys_write(self, spec: s.SyscallSpec, args: list[s.Expr]) -> Operation:
        self._nargs(spec, args, 3)
        count = to_int(args[2])
        return self._writer(self.get(args[0]), self._payload(args[1], count), 0)

    def _sys_send(self, spec: s.SyscallSpec, args: list[s.Expr]) -> Operation:
        self._nargs(spec, args, 4)
        count = to_int(args[2])
        return self._writer(self.get(args[0]), self._payload(args[1], count), to_int(args[3]))

    def _sys_sendto(self, spec: s.SyscallSpec, args: list[s.Expr]) -> Operation:
        self._nargs(spec, args, 6)
        sf = self.get(args[0])
        flags = to_int(args[3])
        if flags & SYMBOLS["MSG_FASTOPEN"]:
            raise Unsupported("sendto(MSG_FASTOPEN): synack has no TCP Fast Open")
        return self._writer(sf, self._payload(args[1], to_int(args[2])), flags)

    @staticmethod
    def _iov_total(expr: s.Expr) -> int:
        if not isinstance(expr, s.ListExpr):
            raise SyscallError(f"expected an iovec array, got {describe(expr)}")
        total = 0
        for item in expr.items:
            if not (isinstance(item, s.Struct) and len(item.items) == 2):
                raise SyscallError(f"bad iovec {describe(item)}")
            total += to_int(item.items[1])
        return total

    def _sys_writev(self, spec: s.SyscallSpec, args: list[s.Expr]) -> Operation:
        self._nargs(spec, args, 3)
        return self._writer(self.get(args[0]), bytes(self._iov_total(args[1])), 0)

    def _sys_readv(self, spec: s.SyscallSpec, args: list[s.Expr]) -> Operation:
        self._nargs(spec, args, 3)
        return self._reader(self.get(args[0]), self._iov_total(args[1]), 0)

    def _msghdr(self, expr: s.Expr) -> int:
        if not isinstance(expr, s.Struct):
            raise SyscallError(f"expected a msghdr, got {describe(expr)}")
        iov = expr.field("msg_iov")
        return self._iov_total(iov) if iov is not None else 0

    def _sys_sendmsg(self, spec: s.SyscallSpec, args: list[s.Expr]) -> Operation:
        self._nargs(spec, args, 3)
        return self._writer(self.get(args[0]), bytes(self._msghdr(args[1])), to_int(args[2]))

    def _sys_recvmsg(self, spec: s.SyscallSpec, args: list[s.Expr]) -> Operation:
        self._nargs(spec, args, 3)
        return self._reader(self.get(args[0]), self._msghdr(args[1]), to_int(args[2]))

    # --- control ------------------------------------------------------------------------

    def _sys_fcntl(self, spec: s.SyscallSpec, args: list[s.Expr]) -> Operation:
        self._nargs(spec, args, 2, 3)
        sf = self.get(args[0])
        cmd = to_int(args[1])
        arg = to_int(args[2]) if len(args) == 3 else 0

        def attempt() -> SyscallResult:
            if cmd == SYMBOLS["F_GETFL"]:
                return ok(SYMBOLS["O_RDWR"] | (O_NONBLOCK if sf.nonblocking else 0))
            if cmd == SYMBOLS["F_SETFL"]:
                sf.nonblocking = bool(arg & O_NONBLOCK)
                return ok()
            if cmd in (SYMBOLS["F_GETFD"], SYMBOLS["F_SETFD"]):
                return ok()
            raise Unsupported(f"fcntl command {describe(args[1])}")

        return self._now(attempt)

    def _sys_ioctl(self, spec: s.SyscallSpec, args: list[s.Expr]) -> Operation:
        self._nargs(spec, args, 3)
        sf = self.get(args[0])
        cmd = to_int(args[1])

        def attempt() -> SyscallResult:
            conn = sf.handle.conn if sf.handle is not None else None
            if cmd == SYMBOLS["SIOCINQ"]:
                value = conn.readable if conn else 0
            elif cmd == SYMBOLS["SIOCOUTQ"]:
                value = conn.send_queue if conn else 0
            else:
                raise Unsupported(f"ioctl {describe(args[1])}")
            want = args[2]
            if isinstance(want, s.ListExpr) and len(want.items) == 1:
                expected = to_int(want.items[0])
                if expected != value:
                    return SyscallResult(
                        0, None, f"Bad ioctl value: expected: {expected} actual: {value}"
                    )
            return ok()

        return self._now(attempt)

    def _sys_setsockopt(self, spec: s.SyscallSpec, args: list[s.Expr]) -> Operation:
        self._nargs(spec, args, 5)
        sf = self.get(args[0])
        return self._now(lambda: setsockopt(sf, args, self.hooks))

    def _sys_getsockopt(self, spec: s.SyscallSpec, args: list[s.Expr]) -> Operation:
        self._nargs(spec, args, 5)
        sf = self.get(args[0])
        return self._now(lambda: getsockopt(sf, args, self.hooks.config_for(sf)))

    def _sys_poll(self, spec: s.SyscallSpec, args: list[s.Expr]) -> Operation:
        from synack.packetdrill.poll import poll_operation

        self._nargs(spec, args, 3)
        return poll_operation(self, args, self.hooks.now())
