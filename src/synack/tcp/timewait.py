"""What a connection in TIME_WAIT still needs once nobody holds it: Linux's
``inet_timewait_sock`` (net/ipv4/tcp_minisocks.c, tcp_time_wait).

A connection spends 2 MSL (60 s, ``TCPConfig.time_wait``) in TIME_WAIT after an active
close (RFC 9293 §3.10.7.4, "eighth"), so a busy server holds tens of thousands of them.
A whole :class:`~synack.tcp.connection.Connection` is some 4.5 KB and thirty objects
the garbage collector walks again and again; Linux likewise swaps the full socket for a
small ``tcp_timewait_sock`` at this point.  :func:`record` keeps the few values a
connection in TIME_WAIT reads -- its 4-tuple, sequence numbers, windows, the agreement
(window scales, timestamps, SACK), TS.Recent, the deadline -- in one object.

The rare segment for such a 4-tuple (a retransmitted FIN, a stray ACK, an RST, a SYN)
is handled by the connection code itself: :func:`revive` builds a connection in
TIME_WAIT from the record, it takes the segment exactly as before, and the host keeps
the record again if it is still in TIME_WAIT.  Nothing of what it would do is
re-implemented here.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass

from synack.tcp.config import TCPConfig
from synack.tcp.connection import Connection
from synack.tcp.handshake import Agreement
from synack.tcp.states import State

Address = tuple[str, int]


@dataclass(slots=True, eq=False)
class TimeWaitRecord:
    """One connection in TIME_WAIT, as small as it can be (identity-hashed: the host's
    timer table is keyed by it)."""

    local: Address
    remote: Address
    config: TCPConfig
    agreement: Agreement | None
    iss: int
    irs: int
    snd_nxt: int  # = SND.UNA = the highest sent: our FIN is acknowledged
    rcv_nxt: int
    snd_wnd: int
    max_snd_wnd: int
    snd_wl1: int
    snd_wl2: int
    rcv_adv: int
    rcv_wnd: int  # the window it announced last (Linux tw_rcv_wnd), whatever it held
    last_ack_sent: int
    ts_recent: int
    ts_offset: int
    fin_seq: int | None
    deadline: float  # when TIME_WAIT ends (2 MSL after it began or was restarted)
    last_challenge: float
    ecn_ok: bool
    ece_pending: bool

    def describe(self) -> str:
        """As :meth:`Connection.describe`."""
        return f"{self.local[0]}:{self.local[1]} > {self.remote[0]}:{self.remote[1]}"

    def timer_description(self, now: float) -> str:
        """As :meth:`Connection.timer_description` in TIME_WAIT."""
        return f"timer:(timewait,{max(self.deadline - now, 0.0):.3f}s,0)"


def recordable(conn: Connection) -> bool:
    """Whether :func:`record` can take the connection: in TIME_WAIT with its 2 MSL
    running, and closed by the application (an orphan: after close(), as after
    close(2), nothing more is reported to it; a connection only shut down for writing
    still is)."""
    return (
        conn.state is State.TIME_WAIT
        and conn.remote is not None
        and conn._tw_deadline is not None
        and conn._orphan
    )


def record(conn: Connection) -> TimeWaitRecord:
    """The record of a connection in TIME_WAIT (raises ValueError in another state)."""
    if not recordable(conn) or conn.remote is None or conn._tw_deadline is None:
        raise ValueError(f"not a connection in TIME_WAIT: {conn!r}")
    return TimeWaitRecord(
        local=conn.local,
        remote=conn.remote,
        config=conn.config,
        agreement=conn.agreement,
        iss=conn.iss,
        irs=conn.irs,
        snd_nxt=conn.snd_nxt,
        rcv_nxt=conn.rcv_nxt,
        snd_wnd=conn.snd_wnd,
        max_snd_wnd=conn.max_snd_wnd,
        snd_wl1=conn.snd_wl1,
        snd_wl2=conn.snd_wl2,
        rcv_adv=conn._rcv_adv,
        rcv_wnd=conn._rcv_window(),
        last_ack_sent=conn._last_ack_sent,
        ts_recent=conn.ts_recent,
        ts_offset=conn._ts_offset,
        fin_seq=conn._fin_seq,
        deadline=conn._tw_deadline,
        last_challenge=conn._last_challenge,
        ecn_ok=conn.ecn_ok,
        ece_pending=conn._ece_pending,
    )


def revive(
    rec: TimeWaitRecord,
    *,
    secret: bytes,
    counters: MutableMapping[str, int] | None = None,
    name: str = "",
) -> Connection:
    """A connection in TIME_WAIT with the record's values, ready for a segment.

    Its buffers are empty (whoever read from it is gone), it has no congestion control
    (it sends nothing but ACKs and resets) and no statistics of its past."""
    conn = Connection(rec.local, config=rec.config, secret=secret, counters=counters, name=name)
    conn.remote = rec.remote
    conn.state = State.TIME_WAIT
    conn.agreement = rec.agreement
    conn.iss, conn.irs = rec.iss, rec.irs
    conn.snd_una = conn.snd_nxt = conn.snd_max = rec.snd_nxt
    conn.rcv_nxt = rec.rcv_nxt
    conn.snd_wnd, conn.max_snd_wnd = rec.snd_wnd, rec.max_snd_wnd
    conn.snd_wl1, conn.snd_wl2 = rec.snd_wl1, rec.snd_wl2
    # With an empty buffer it would offer more than it did: its window is capped at the
    # recorded one, as Linux's timewait socket repeats tw_rcv_wnd.
    conn._rcv_adv, conn._rcv_ssthresh = rec.rcv_adv, rec.rcv_wnd
    conn._last_ack_sent = rec.last_ack_sent
    conn.ts_recent, conn._ts_offset = rec.ts_recent, rec.ts_offset
    conn._fin_queued = conn._peer_fin = True
    conn._fin_seq = rec.fin_seq
    conn.sndbuf.base = rec.snd_nxt
    conn._tw_deadline = rec.deadline
    conn._last_challenge = rec.last_challenge
    conn.ecn_ok, conn._ece_pending = rec.ecn_ok, rec.ece_pending
    conn.acks.started = True  # no quick-ACK grant: the data phase is long over
    return conn
