"""One socket file descriptor of a script, over synack's Host, Listener and TcpHandle.

A :class:`SocketFile` remembers what the application set before the socket became a
connection (SO_RCVBUF, TCP_MAXSEG, O_NONBLOCK...), the listener or connection behind it
once there is one, and Linux's per-socket error and shutdown state that the sans-IO
connection does not keep (an error is reported once, then reads return 0 and writes
EPIPE, as sock_error() clears sk_err).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from synack.stack.listener import Listener
from synack.stack.socket import TcpHandle
from synack.tcp.states import State

#: States in which Linux lets send() queue data (tcp_sendmsg: ESTABLISHED, CLOSE_WAIT).
SENDABLE = frozenset({State.ESTABLISHED, State.CLOSE_WAIT})
#: States in which a blocking send()/connect() waits for the handshake.
OPENING = frozenset({State.SYN_SENT, State.SYN_RECEIVED})


@dataclass
class SocketFile:
    fd: int
    nonblocking: bool = False
    bound: bool = False
    #: Values the application set, by (level, optname), for getsockopt to return.
    options: dict[tuple[int, int], int | str] = field(default_factory=dict)
    rcvbuf: int | None = None  # SO_RCVBUF as passed (Linux doubles it)
    sndbuf: int | None = None  # SO_SNDBUF as passed
    user_mss: int | None = None  # TCP_MAXSEG
    config_changes: dict[str, object] = field(default_factory=dict)  # nodelay, keepalive...
    linger_zero: bool = False  # SO_LINGER {onoff=1, linger=0}: close() resets
    rcvlowat: int = 1
    listener: Listener | None = None
    handle: TcpHandle | None = None
    shut_rd: bool = False
    shut_wr: bool = False
    error_reported: bool = False

    def pending_error(self) -> int | None:
        """The connection's error, the first time it is asked for (then None)."""
        h = self.handle
        if h is None or h.error is None or self.error_reported:
            return None
        self.error_reported = True
        return h.error

    @property
    def state(self) -> State | None:
        return self.handle.state if self.handle is not None else None

    def readable(self) -> int:
        return self.handle.conn.readable if self.handle is not None else 0

    def poll_mask(self, symbols: dict[str, int]) -> int:
        """Linux tcp_poll's event mask for this socket."""
        pin = symbols["POLLIN"] | symbols["POLLRDNORM"]
        pout = symbols["POLLOUT"] | symbols["POLLWRNORM"]
        if self.listener is not None:
            return pin if self.listener.accept_queue else 0
        h = self.handle
        if h is None:
            return pout | symbols["POLLHUP"]  # a new socket is TCP_CLOSE
        mask = 0
        st = h.state
        rcv_shut = self.shut_rd or h.conn.at_eof or (st is State.CLOSED and h.error is not None)
        snd_shut = self.shut_wr or st is State.CLOSED
        if h.error is not None and not self.error_reported:
            mask |= symbols["POLLERR"]
        if (rcv_shut and snd_shut) or st is State.CLOSED:
            mask |= symbols["POLLHUP"]
        if rcv_shut:
            mask |= pin | symbols["POLLRDHUP"]
        if st not in OPENING:
            if h.conn.readable >= self.rcvlowat:
                mask |= pin
            if snd_shut or h.conn.sndbuf.free > 0:
                mask |= pout
        return mask
