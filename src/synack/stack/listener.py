"""Listeners with a SYN queue and an accept queue (Linux's model of listen(2)).

Each SYN to a listening port makes a new TCB (RFC 9293 §3.10.7.2) that waits in the SYN
queue while in SYN_RECEIVED, then moves to the accept queue once ESTABLISHED.  Both are
bounded by the backlog: a SYN that finds them full is answered with a SYN cookie
(:mod:`synack.stack.syncookies`, Linux's default), or, with cookies off, dropped and
counted (ListenOverflows / ListenDrops).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from synack.tcp import events as ev
from synack.tcp.config import TCPConfig
from synack.tcp.connection import Connection
from synack.tcp.states import State

if TYPE_CHECKING:
    from synack.stack.host import Host
    from synack.stack.socket import TcpHandle


class Listener:
    def __init__(
        self,
        host: Host,
        port: int,
        backlog: int,
        *,
        on_accept: Callable[[TcpHandle], None] | None = None,
        config: TCPConfig | None = None,
        iss: int | None = None,
    ) -> None:
        if backlog < 0:
            raise ValueError("backlog must be >= 0")
        self.host = host
        self.port = port
        # Linux: the accept queue holds backlog + 1 (sk_ack_backlog > sk_max_ack_backlog).
        self.backlog = max(backlog, 1)
        self.on_accept = on_accept
        self.config = config
        self.iss = iss
        self.syn_queue: list[Connection] = []
        self.accept_queue: deque[TcpHandle] = deque()
        self.closed = False
        #: When the SYN queue last overflowed into cookies (Linux last_overflow).
        self.last_overflow: float | None = None
        self.synflood_warned = False

    def has_room(self) -> bool:
        queued = len(self.syn_queue) + len(self.accept_queue)
        return queued <= self.backlog and len(self.accept_queue) <= self.backlog

    def on_state(self, host: Host, handle: TcpHandle, event: ev.StateChanged) -> None:
        """Move a child between the queues as its state changes."""
        conn = handle.conn
        leaving = event.old is State.SYN_RECEIVED or event.new is State.CLOSED
        if leaving and conn in self.syn_queue:
            self.syn_queue.remove(conn)
        if event.new is State.ESTABLISHED and event.old is State.SYN_RECEIVED:
            handle.listener = None
            if self.on_accept is not None:
                self.on_accept(handle)
            else:
                self.accept_queue.append(handle)

    def accept(self) -> TcpHandle | None:
        """The oldest established connection not yet accepted, or None."""
        return self.accept_queue.popleft() if self.accept_queue else None

    def close(self) -> None:
        """Stop listening; connections not yet accepted are reset, as Linux does."""
        self.closed = True
        self.host.unlisten(self)
        now = self.host.clock()
        for handle in list(self.accept_queue):
            handle.conn.abort(now)
            self.host._pump(handle.conn)
        self.accept_queue.clear()
