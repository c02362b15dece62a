"""A test harness that drives sans-IO connections directly, without IP or a simulator.

``Peer`` wraps one :class:`Connection` and keeps what it emitted; tests pass segments
between peers by hand, so each step of an RFC figure can be checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from synack.tcp import events as ev
from synack.tcp.config import TCPConfig
from synack.tcp.connection import Connection
from synack.tcp.states import State, Trigger
from synack.wire.tcp import Flags, TCPSegment

A_ADDR = ("10.0.0.1", 40000)
B_ADDR = ("10.0.0.2", 80)

#: Every (source, trigger, target) observed by any Peer in this test session.
OBSERVED: set[tuple[State, Trigger, State]] = set()
#: Every Peer made, so a test can drain the events of peers it never flushed itself.
CREATED: list[Peer] = []


@dataclass
class Peer:
    conn: Connection
    events: list[ev.Event] = field(default_factory=list)
    sent: list[TCPSegment] = field(default_factory=list)

    @classmethod
    def make(cls, addr: tuple[str, int] = A_ADDR, **cfg: object) -> Peer:
        config = TCPConfig().with_(**cfg) if cfg else TCPConfig()
        peer = cls(Connection(addr, config=config, secret=b"k" * 16))
        CREATED.append(peer)
        return peer

    @property
    def state(self) -> State:
        return self.conn.state

    def flush(self, now: float) -> list[TCPSegment]:
        """Drain events, then collect the segments to send."""
        while (e := self.conn.next_event()) is not None:
            self.events.append(e)
            if isinstance(e, ev.StateChanged):
                OBSERVED.add((e.old, e.trigger, e.new))
        out = self.conn.segments_to_send(now)
        self.sent += out
        return out

    def states(self) -> list[State]:
        seq = [e.new for e in self.events if isinstance(e, ev.StateChanged)]
        first = next((e.old for e in self.events if isinstance(e, ev.StateChanged)), None)
        return ([first] if first is not None else []) + seq

    def errors(self) -> list[int]:
        return [e.errno for e in self.events if isinstance(e, ev.ConnectionError)]

    def recv_segment(
        self, seg: TCPSegment, now: float, src: tuple[str, int] | None = None
    ) -> list[TCPSegment]:
        self.conn.receive_segment(seg, now, src)
        return self.flush(now)

    def recv_ack(self, seg: TCPSegment, now: float) -> list[TCPSegment]:
        """Receive, and if the answer is a delayed ACK, let the delayed-ACK timer run."""
        out = self.recv_segment(seg, now)
        if not out and self.conn.acks.deadline is not None:
            out = self.timer(self.conn.acks.deadline)
        return out

    def timer(self, now: float) -> list[TCPSegment]:
        self.conn.handle_timer(now)
        return self.flush(now)


def seg(
    flags: Flags,
    seq: int,
    ack: int = 0,
    payload: bytes = b"",
    window: int = 65535,
    src: int = 80,
    dst: int = 40000,
) -> TCPSegment:
    return TCPSegment(src, dst, seq, ack, flags, window, payload=payload)


def handshake(now: float = 0.0, rtt: float = 0.0, **cfg: object) -> tuple[Peer, Peer]:
    """A (client, at A_ADDR) and B (server in LISTEN at B_ADDR), through the handshake
    over a path with round-trip time ``rtt``."""
    a = Peer.make(A_ADDR, **cfg)
    b = Peer.make(B_ADDR, **cfg)
    b.conn.listen()
    b.flush(now)
    a.conn.connect(B_ADDR, now)
    (syn,) = a.flush(now)
    (synack,) = b.recv_segment(syn, now + rtt / 2, A_ADDR)
    (ack,) = a.recv_segment(synack, now + rtt)
    assert b.recv_segment(ack, now + rtt * 1.5) == []
    assert a.state is State.ESTABLISHED and b.state is State.ESTABLISHED
    return a, b


def exchange(x: Peer, y: Peer, segs: list[TCPSegment], now: float) -> None:
    """Deliver segments back and forth until both are quiet."""
    pending = [(y, s) for s in segs]
    while pending:
        to, s = pending.pop(0)
        other = x if to is y else y
        for r in to.recv_segment(s, now):
            pending.append((other, r))
