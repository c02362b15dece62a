"""One TCP connection (the TCB of RFC 9293 §3.3.1), sans-IO.

Theory of operation
-------------------
A :class:`Connection` is a plain object.  It never reads a clock, a random source or a
socket: every entry point takes ``now`` (seconds, from whatever clock the caller runs —
the simulator's virtual clock or the real one), and the ISN and timestamp offset come
from an injected secret.  The caller drives it with four kinds of input:

* user calls: :meth:`connect`, :meth:`listen`, :meth:`send`, :meth:`recv`,
  :meth:`shutdown`, :meth:`close`, :meth:`abort`;
* segments from the network: :meth:`receive_segment`;
* timer expiry: :meth:`handle_timer`, when ``now`` reaches :meth:`get_timer`;

and after each of them collects the output:

* :meth:`next_event` until it returns None (state changes, data ready, peer closed,
  errors) — deliver these to the application *first*;
* then :meth:`segments_to_send` — segments to put on the wire.  Data, FIN and a pending
  ACK are only turned into segments here, so an ACK the application's reaction makes
  unnecessary (a FIN it sends at once, or reply data) is merged, as the RFC 9293 §3.10.7.4
  note on piggybacking suggests;
* :meth:`get_timer` for the next deadline.

Every rule below carries the section of RFC 9293 (or the RFC that updates it) it comes
from.  State changes go through :func:`synack.tcp.states.lookup`, so the connection can
only make the transitions listed in :data:`synack.tcp.states.TRANSITIONS`.
"""

from __future__ import annotations

import errno as errnos
from collections import deque
from collections.abc import MutableMapping

from synack.tcp import events as ev
from synack.tcp.config import TCPConfig
from synack.tcp.handshake import Agreement, Offer, agree, syn_options
from synack.tcp.isn import rfc6528_isn, ts_offset
from synack.tcp.receiver import ReceiveBuffer
from synack.tcp.rto import RTOEstimator
from synack.tcp.sender import SendBuffer
from synack.tcp.seq import (
    MASK,
    seq_add,
    seq_ge,
    seq_gt,
    seq_in_window,
    seq_le,
    seq_lt,
    seq_sub,
)
from synack.tcp.states import SYNCHRONIZED, State, Trigger, lookup
from synack.wire.options import NOP, TCPOption, Timestamps
from synack.wire.tcp import Flags, TCPSegment

Address = tuple[str, int]
Counters = MutableMapping[str, int]

A, S, F, R, P = Flags.ACK, Flags.SYN, Flags.FIN, Flags.RST, Flags.PSH
#: States in which our send side may still carry data or a FIN.
_SENDING = frozenset(
    {State.ESTABLISHED, State.CLOSE_WAIT, State.FIN_WAIT_1, State.CLOSING, State.LAST_ACK}
)


class Connection:
    """A TCP connection: all eleven states, driven by segments, user calls and timers."""

    def __init__(
        self,
        local: Address,
        *,
        config: TCPConfig | None = None,
        secret: bytes = b"synack",
        counters: Counters | None = None,
        name: str = "",
    ) -> None:
        self.config = config or TCPConfig()
        self.local = local
        self.remote: Address | None = None
        self.name = name
        self._secret = secret
        self.counters: Counters = counters if counters is not None else {}
        self.state = State.CLOSED
        self._events: deque[ev.Event] = deque()
        self._out: list[TCPSegment] = []
        #: True when created by a listener for one SYN (Linux's child socket): on RST in
        #: SYN_RECEIVED it is deleted instead of going back to LISTEN.
        self.listener_child = False
        self._passive = False
        self._forced_iss: int | None = None
        self._peer_offer: Offer | None = None

        # Send sequence variables (RFC 9293 §3.3.1).
        self.iss = 0
        self.snd_una = 0
        self.snd_nxt = 0
        self.snd_max = 0  # highest sequence number sent so far (+1)
        self.snd_wnd = 0
        self.snd_wl1 = 0
        self.snd_wl2 = 0
        self.max_snd_wnd = 0  # RFC 5961 §5.2 MAX.SND.WND
        # Receive sequence variables.
        self.irs = 0
        self.rcv_nxt = 0
        self._rcv_adv = 0  # right edge of the window we last announced (RCV.NXT + RCV.WND)
        self.agreement: Agreement | None = None

        self.sndbuf = SendBuffer(self.config.sndbuf)
        self.rcvbuf = ReceiveBuffer(self.config.rcvbuf)
        self.rto = RTOEstimator(self.config.rto_initial, self.config.rto_min, self.config.rto_max)
        self.cwnd = 0
        self.ssthresh = 1 << 30

        self._fin_queued = False  # the user shut down the write side
        self._fin_seq: int | None = None  # sequence number of our FIN once it is queued
        self._orphan = False  # close() was called: nobody reads any more
        self._read_closed = False  # SHUT_RD
        self._peer_fin = False  # the peer's FIN was received (in order)
        self._ack_pending = False
        self._syn_retries = 0
        self.retransmits = 0  # consecutive RTO expiries without progress
        self.total_retrans = 0
        self._rto_deadline: float | None = None
        self._tw_deadline: float | None = None
        self._fw2_deadline: float | None = None
        self._timed: tuple[int, float] | None = None  # (end seq, send time) for Karn RTT
        self._ts_offset = 0
        self.ts_recent = 0
        self._last_ack_sent = 0
        self._last_challenge = -1e18
        self.error: int | None = None

    # ------------------------------------------------------------------------------
    # Small helpers
    # ------------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"<Connection {self.describe()} {self.state}>"

    def describe(self) -> str:
        r = f"{self.remote[0]}:{self.remote[1]}" if self.remote else "*:*"
        return f"{self.local[0]}:{self.local[1]} > {r}"

    def _count(self, name: str, n: int = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + n

    def _set_state(self, trigger: Trigger, prefer: State | None = None) -> None:
        """Make one transition of the table (RFC 9293 §3.3.2)."""
        old = self.state
        new = lookup(old, trigger, prefer)
        self.state = new
        # MIB counters as RFC 1213 / Linux define them.
        if new is State.SYN_SENT:
            self._count("ActiveOpens")
        elif old is State.LISTEN and new is State.SYN_RECEIVED:
            self._count("PassiveOpens")
        if old in (State.SYN_SENT, State.SYN_RECEIVED) and new in (State.CLOSED, State.LISTEN):
            self._count("AttemptFails")
        reset = trigger in (Trigger.RCV_RST, Trigger.ABORT)
        if reset and old in (State.ESTABLISHED, State.CLOSE_WAIT) and new is State.CLOSED:
            self._count("EstabResets")
        was = old in (State.ESTABLISHED, State.CLOSE_WAIT)
        now_in = new in (State.ESTABLISHED, State.CLOSE_WAIT)
        if now_in and not was:
            self._count("CurrEstab")
        elif was and not now_in:
            self._count("CurrEstab", -1)
        self._events.append(ev.StateChanged(old, new, trigger))
        if new is State.ESTABLISHED:
            self._events.append(ev.Connected())
        if new is State.CLOSED:
            self._rto_deadline = self._tw_deadline = self._fw2_deadline = None
            self._ack_pending = False
            self._events.append(ev.Closed())

    def _fail(self, code: int, reason: str, trigger: Trigger) -> None:
        self.error = code
        self._events.append(ev.ConnectionError(code, reason))
        self._set_state(trigger, prefer=State.CLOSED)

    def _ts_now(self, now: float) -> int:
        """TSval: a millisecond clock with a per-connection offset (RFC 7323 §5.4)."""
        return (int(now * 1000) + self._ts_offset) & MASK

    @property
    def eff_mss(self) -> int:
        """Largest payload per segment: the peer's MSS less our TCP options (RFC 9293 §3.7.1)."""
        a = self.agreement
        if a is None:
            return self.config.default_peer_mss
        mss = min(a.peer_mss, self.config.mss)
        return max(mss - (12 if a.timestamps else 0), 1)

    def _rcv_window(self, syn: bool = False) -> int:
        """The window to announce: free buffer space, never shrinking the right edge we
        announced before (RFC 9293 §3.8.6.2.2, RFC 7323 §2.4)."""
        free = min(self.rcvbuf.free, self.config.initial_rcv_wnd, self.config.rcvbuf)
        shift = self.agreement.rcv_wscale if self.agreement and not syn else 0
        free = (free >> shift) << shift
        promised = seq_sub(self._rcv_adv, self.rcv_nxt)
        return max(free, promised, 0)

    def _window_field(self, window: int, syn: bool) -> int:
        if syn:  # RFC 7323 §2.2: the window in a SYN or SYN-ACK is never scaled
            return min(window, 0xFFFF)
        shift = self.agreement.rcv_wscale if self.agreement else 0
        return min(window >> shift, 0xFFFF)

    def _options(self, now: float) -> tuple[TCPOption, ...]:
        if self.agreement and self.agreement.timestamps:
            # RFC 7323 §3.2 (Linux's layout: nop,nop,TS on every non-SYN segment).
            return (NOP(), NOP(), Timestamps(self._ts_now(now), self.ts_recent))
        return ()

    def _emit(
        self,
        now: float,
        flags: Flags,
        seq: int,
        payload: bytes = b"",
        *,
        options: tuple[TCPOption, ...] | None = None,
        retrans: bool = False,
    ) -> TCPSegment:
        assert self.remote is not None
        if retrans:
            self._count("RetransSegs")
            self.total_retrans += 1
        else:
            self._count("OutSegs")
        syn = bool(flags & S)
        wnd = self._rcv_window(syn)
        if flags & A:
            self._rcv_adv = seq_add(self.rcv_nxt, wnd)
            self._last_ack_sent = self.rcv_nxt
            self._ack_pending = False
        seg = TCPSegment(
            src_port=self.local[1],
            dst_port=self.remote[1],
            seq=seq,
            ack=self.rcv_nxt if flags & A else 0,
            flags=flags,
            window=self._window_field(wnd, syn),
            options=self._options(now) if options is None else options,
            payload=payload,
        )
        self._out.append(seg)
        return seg

    def _send_ack(self, now: float) -> None:
        """<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> (RFC 9293 §3.10.7.4)."""
        self._emit(now, A, self.snd_nxt)

    def _challenge_ack(self, now: float) -> None:
        """A challenge ACK, rate-limited per connection (RFC 5961 §3.2, §4.2, §7)."""
        if now - self._last_challenge < self.config.challenge_ack_interval:
            self._count("TCPChallengeACKLimited")
            return
        self._last_challenge = now
        self._count("TCPChallengeACK")
        self._send_ack(now)

    def _send_rst(self, now: float, seq: int) -> None:
        """<SEQ=seq><CTL=RST> for our side of the connection (RFC 9293 §3.10.5)."""
        assert self.remote is not None
        self._count("OutRsts")
        self._count("OutSegs")
        self._out.append(TCPSegment(self.local[1], self.remote[1], seq, 0, R, 0, options=()))

    def _start_rto(self, now: float) -> None:
        self._rto_deadline = now + self.rto.rto

    # ------------------------------------------------------------------------------
    # User calls (RFC 9293 §3.10.1 - §3.10.6)
    # ------------------------------------------------------------------------------

    def listen(self) -> None:
        """Passive OPEN (RFC 9293 §3.10.1): wait in LISTEN for a SYN from anyone."""
        if self.state is not State.CLOSED:
            raise ValueError(f"listen() in state {self.state}")
        self._passive = True
        self._set_state(Trigger.PASSIVE_OPEN)

    def connect(self, remote: Address, now: float) -> None:
        """Active OPEN (RFC 9293 §3.10.1): choose the ISS and send <SEQ=ISS><CTL=SYN>."""
        if self.state is not State.CLOSED:
            raise ValueError(f"connect() in state {self.state}")
        self.remote = remote
        self._choose_iss(now)
        self._set_state(Trigger.ACTIVE_OPEN)
        self._send_syn(now)
        self._start_rto(now)

    def _choose_iss(self, now: float) -> None:
        assert self.remote is not None
        if self._forced_iss is not None:
            self.iss = self._forced_iss
        else:
            self.iss = rfc6528_isn(self._secret, self.local, self.remote, now, self.config.isn_tick)
        self._ts_offset = ts_offset(self._secret, self.local, self.remote)
        self.snd_una = self.iss
        self.snd_nxt = self.snd_max = seq_add(self.iss, 1)
        self.sndbuf.base = seq_add(self.iss, 1)

    def set_iss(self, iss: int) -> None:
        """Pin the ISS instead of RFC 6528's (scenarios that show a wrap use it)."""
        self._forced_iss = iss & MASK

    def become_listener_child(self) -> None:
        """Make this TCB a copy of a listening one, about to take one SYN.

        A listener keeps its LISTEN TCB and answers each SYN with a new TCB (RFC 9293
        §3.10.7.2; Linux's request socket): this is that new TCB, which starts out in
        LISTEN like its parent.  On RST or timeout it is deleted, not put back to LISTEN.
        """
        if self.state is not State.CLOSED:
            raise ValueError("only a new TCB can become a listener's child")
        self.state = State.LISTEN
        self._passive = True
        self.listener_child = True

    def _send_syn(self, now: float, retrans: bool = False) -> None:
        opts = syn_options(self.config, self._ts_now(now))
        self._emit(now, S, self.iss, options=opts, retrans=retrans)

    def _send_syn_ack(self, now: float, retrans: bool = False) -> None:
        assert self._peer_offer is not None
        opts = syn_options(self.config, self._ts_now(now), self.ts_recent, self._peer_offer)
        self._emit(now, S | A, self.iss, options=opts, retrans=retrans)

    def send(self, data: bytes, now: float) -> int:
        """SEND (RFC 9293 §3.10.2): queue bytes; returns how many fit in the send buffer."""
        if self.state in (State.CLOSED, State.LISTEN):
            raise BrokenPipeError(errnos.EPIPE, "connection is not open")
        if self._fin_queued:
            raise BrokenPipeError(errnos.EPIPE, "connection closing: write side shut down")
        return self.sndbuf.write(bytes(data))

    def recv(self, max_bytes: int = 1 << 30) -> bytes:
        """RECEIVE (RFC 9293 §3.10.3): take buffered in-order bytes.

        Returns b"" when nothing is buffered (check :attr:`at_eof` for end of stream).
        Reading opens the window; a window update is sent when it grew by at least one
        MSS or half the buffer (receiver SWS avoidance, RFC 9293 §3.8.6.2.2).
        """
        before = self._rcv_window()
        data = self.rcvbuf.read(max_bytes)
        if data and self.state in (State.ESTABLISHED, State.FIN_WAIT_1, State.FIN_WAIT_2):
            grown = self._rcv_window() - before
            if grown >= min(self.eff_mss, self.config.rcvbuf // 2):
                self._ack_pending = True
        return data

    @property
    def at_eof(self) -> bool:
        """All bytes before the peer's FIN have been read."""
        return self._peer_fin and len(self.rcvbuf) == 0

    @property
    def readable(self) -> int:
        return len(self.rcvbuf)

    @property
    def send_queue(self) -> int:
        """Bytes written but not yet acknowledged (ss's Send-Q)."""
        return len(self.sndbuf)

    def shutdown(self, now: float) -> None:
        """Shut down the write side (a half-close): queue our FIN (RFC 9293 §3.10.4)."""
        if self._fin_queued:
            return
        if self.state in (State.CLOSED, State.LISTEN, State.SYN_SENT):
            raise OSError(errnos.ENOTCONN, "not connected")
        self._fin_queued = True
        self._fin_seq = self.sndbuf.end
        if self.state in (State.ESTABLISHED, State.SYN_RECEIVED) or self.state is State.CLOSE_WAIT:
            self._set_state(Trigger.CLOSE_SND_FIN)

    def shutdown_read(self) -> None:
        """SHUT_RD: discard what is buffered and what arrives later (Linux semantics)."""
        self._read_closed = True
        self.rcvbuf.read(len(self.rcvbuf))

    def close(self, now: float) -> None:
        """CLOSE (RFC 9293 §3.10.4): no more sending or receiving by the user.

        Unread data in the receive buffer makes it an abort instead, as Linux does
        (RFC 2525 §2.17).  Afterwards the connection is an orphan: it finishes its close
        on its own and is answered with RST if the peer sends new data.
        """
        st = self.state
        self._orphan = True
        if st is State.LISTEN:
            self._set_state(Trigger.CLOSE)
        elif st is State.SYN_SENT:
            self._set_state(Trigger.CLOSE)  # delete the TCB; no segment (§3.10.4)
        elif st is State.CLOSED:
            return
        elif len(self.rcvbuf) and st in (State.ESTABLISHED, State.CLOSE_WAIT, State.SYN_RECEIVED):
            self._count("TCPAbortOnClose")
            self.abort(now)
        elif st in (State.SYN_RECEIVED, State.ESTABLISHED, State.CLOSE_WAIT):
            self.shutdown(now)
        elif st is State.FIN_WAIT_2 and self._fw2_deadline is None:
            self._fw2_deadline = now + self.config.fin_timeout

    def abort(self, now: float) -> None:
        """ABORT (RFC 9293 §3.10.5): send <SEQ=SND.NXT><CTL=RST> where one is due, and
        delete the TCB."""
        st = self.state
        if st is State.CLOSED:
            return
        if st in (
            State.SYN_RECEIVED,
            State.ESTABLISHED,
            State.FIN_WAIT_1,
            State.FIN_WAIT_2,
            State.CLOSE_WAIT,
        ):
            self._send_rst(now, self.snd_nxt)
        self.sndbuf.clear()
        self.rcvbuf.clear()
        self._set_state(Trigger.ABORT)

    # ------------------------------------------------------------------------------
    # Output
    # ------------------------------------------------------------------------------

    def next_event(self) -> ev.Event | None:
        return self._events.popleft() if self._events else None

    def segments_to_send(self, now: float) -> list[TCPSegment]:
        """Segments to transmit now: control segments already made, then data/FIN, then
        a pure ACK if one is still owed."""
        if self.state in _SENDING:
            self._transmit(now)
        if self._ack_pending and self.state in SYNCHRONIZED:
            self._send_ack(now)
        self._ack_pending = False
        out, self._out = self._out, []
        return out

    def _flight_limit(self) -> int:
        return min(self.snd_wnd, self.cwnd)

    def _transmit(self, now: float, limit: int | None = None, probe: bool = False) -> int:
        """Send new (or, after an RTO, resent) data and the FIN within the windows
        (RFC 9293 §3.8.6; RFC 5681 §3.1 for cwnd).  Returns the number of segments."""
        sent = 0
        mss = self.eff_mss
        wnd_end = seq_add(self.snd_una, self._flight_limit())
        while limit is None or sent < limit:
            avail = self.sndbuf.available_from(self.snd_nxt)
            room = seq_sub(wnd_end, self.snd_nxt)
            if probe:
                room = max(room, 1)  # a zero-window probe carries one byte (RFC 9293 §3.8.6.1)
            n = max(min(avail, mss, room), 0)
            fin = (
                self._fin_seq is not None
                and n == avail
                and seq_add(self.snd_nxt, n) == self._fin_seq
            )
            if n == 0 and not fin:
                break
            if n == 0 and fin and room < 0:
                break
            payload = self.sndbuf.slice(self.snd_nxt, n)
            flags = A
            if n and n == avail:
                flags |= P  # PSH on the last segment of what the user wrote (RFC 9293 §3.9.1.2)
            if fin:
                flags |= F
            retrans = seq_lt(self.snd_nxt, self.snd_max)
            self._emit(now, flags, self.snd_nxt, payload, retrans=retrans)
            end = seq_add(self.snd_nxt, n + (1 if fin else 0))
            if not retrans and self._timed is None:
                self._timed = (end, now)
            self.snd_nxt = end
            if seq_gt(end, self.snd_max):
                self.snd_max = end
            if self._rto_deadline is None:
                self._start_rto(now)  # RFC 6298 §5.1
            sent += 1
            if fin:
                break
        return sent

    # ------------------------------------------------------------------------------
    # Timers (RFC 6298 §5, RFC 9293 §3.8.1, §3.10.8)
    # ------------------------------------------------------------------------------

    def get_timer(self) -> float | None:
        deadlines = [
            d for d in (self._rto_deadline, self._tw_deadline, self._fw2_deadline) if d is not None
        ]
        return min(deadlines) if deadlines else None

    def handle_timer(self, now: float) -> None:
        if self._tw_deadline is not None and now >= self._tw_deadline:
            self._tw_deadline = None
            self._set_state(Trigger.TIME_WAIT_TIMEOUT)  # RFC 9293 §3.10.8
            return
        if self._fw2_deadline is not None and now >= self._fw2_deadline:
            self._fw2_deadline = None
            if self.state is State.FIN_WAIT_2:
                self._set_state(Trigger.FIN_WAIT_2_TIMEOUT)
                return
        if self._rto_deadline is not None and now >= self._rto_deadline:
            self._rto_deadline = None
            self._on_rto(now)

    def _on_rto(self, now: float) -> None:
        st = self.state
        self._timed = None  # Karn's algorithm: no sample from a retransmitted segment
        if st is State.SYN_SENT:
            if self._syn_retries >= self.config.syn_retries:
                self._fail(errnos.ETIMEDOUT, "SYN retransmissions exhausted", Trigger.TIMEOUT)
                return
            self._syn_retries += 1
            self.rto.back_off()
            self._send_syn(now, retrans=True)
            self._start_rto(now)
            return
        if st is State.SYN_RECEIVED:
            if self._syn_retries >= self.config.synack_retries:
                if self.listener_child or self._passive:
                    self._set_state(Trigger.TIMEOUT)  # Linux drops the request silently
                else:
                    self._fail(
                        errnos.ETIMEDOUT, "SYN-ACK retransmissions exhausted", Trigger.TIMEOUT
                    )
                return
            self._syn_retries += 1
            self.rto.back_off()
            self._send_syn_ack(now, retrans=True)
            self._start_rto(now)
            return
        if st not in _SENDING:
            return
        if self.snd_una == self.snd_max:
            # Persist timer: the peer's window is zero and data waits (RFC 9293 §3.8.6.1).
            if self.sndbuf.available_from(self.snd_nxt) and self.snd_wnd == 0:
                self.rto.back_off()
                self._transmit(now, limit=1, probe=True)
                self._start_rto(now)
            return
        if self.retransmits >= self.config.retries2:
            self._fail(errnos.ETIMEDOUT, "retransmissions exhausted", Trigger.TIMEOUT)
            return
        self.retransmits += 1
        # RFC 5681 §3.1 (equation 4) and the loss window of one segment.
        flight = seq_sub(self.snd_max, self.snd_una)
        self.ssthresh = max(flight // 2, 2 * self.eff_mss)
        self.cwnd = self.eff_mss
        self.rto.back_off()  # RFC 6298 §5.5
        self.snd_nxt = self.snd_una  # go back: resend from the first unacknowledged byte
        self._start_rto(now)  # RFC 6298 §5.6
        self._transmit(now, limit=1)

    # ------------------------------------------------------------------------------
    # Segment arrives (RFC 9293 §3.10.7)
    # ------------------------------------------------------------------------------

    def receive_segment(self, seg: TCPSegment, now: float, src: Address | None = None) -> None:
        """Process one incoming segment.  ``src`` is the sender's address, needed in LISTEN."""
        st = self.state
        if st is State.CLOSED:
            return  # the stack answers segments to closed ports, not the TCB
        if st is State.LISTEN:
            self._segment_in_listen(seg, now, src)
        elif st is State.SYN_SENT:
            self._segment_in_syn_sent(seg, now)
        else:
            self._segment_in_other(seg, now)

    # --- LISTEN (§3.10.7.2) -----------------------------------------------------------

    def _segment_in_listen(self, seg: TCPSegment, now: float, src: Address | None) -> None:
        if seg.rst:
            return  # first: an incoming RST is ignored
        if seg.has_ack:
            # second: any ACK is bad in LISTEN: <SEQ=SEG.ACK><CTL=RST>
            if src is not None:
                self.remote = src
                self._send_rst(now, seg.ack)
                self.remote = None
            return
        if not seg.syn:
            return  # fourth: other text or control: drop
        if src is None:
            raise ValueError("a SYN in LISTEN needs the sender's address")
        # third: SYN.  RCV.NXT = SEG.SEQ+1, IRS = SEG.SEQ; select an ISS and send
        # <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>.  Data on a SYN is not accepted (Linux
        # without TCP Fast Open), so the SYN-ACK acknowledges the SYN only.
        self.remote = src
        self._choose_iss(now)
        self.irs = seg.seq
        self.rcv_nxt = self._rcv_adv = seq_add(seg.seq, 1)
        self._peer_offer = Offer.from_segment(seg)
        self.agreement = agree(self.config, self._peer_offer)
        self._take_timestamp(seg)
        self.snd_wnd = seg.window  # RFC 7323 §2.2: unscaled in a SYN
        self.snd_wl1, self.snd_wl2 = seg.seq, self.iss
        self._set_state(Trigger.RCV_SYN)
        self._send_syn_ack(now)
        self._start_rto(now)

    # --- SYN_SENT (§3.10.7.3) ---------------------------------------------------------

    def _segment_in_syn_sent(self, seg: TCPSegment, now: float) -> None:
        ack_ok = False
        if seg.has_ack:
            # first: If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset (unless RST).
            if seq_le(seg.ack, self.iss) or seq_gt(seg.ack, self.snd_nxt):
                if not seg.rst:
                    self._send_rst(now, seg.ack)
                return
            ack_ok = seq_le(self.snd_una, seg.ack)  # SND.UNA < SEG.ACK =< SND.NXT
        if seg.rst:
            # second: with an acceptable ACK, "error: connection reset" -> CLOSED.
            # RFC 5961 §3.2: in SYN_SENT the RST is valid if its ACK acknowledges the SYN.
            if ack_ok:
                self._fail(errnos.ECONNREFUSED, "connection refused", Trigger.RCV_RST)
            return
        if not seg.syn:
            return  # fifth: neither SYN nor RST: drop
        # fourth: SYN.
        self.irs = seg.seq
        self.rcv_nxt = self._rcv_adv = seq_add(seg.seq, 1)
        self._peer_offer = Offer.from_segment(seg)
        self.agreement = agree(self.config, self._peer_offer)
        self._take_timestamp(seg)
        if seg.has_ack:
            self._ack_advances(seg, now)
        if seq_gt(self.snd_una, self.iss):
            # Our SYN has been ACKed: ESTABLISHED, <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
            self.snd_wnd = seg.window  # unscaled in a SYN-ACK (RFC 7323 §2.2)
            self.max_snd_wnd = self.snd_wnd
            self.snd_wl1, self.snd_wl2 = seg.seq, seg.ack
            self._init_cwnd()
            self._syn_retries = 0
            self._set_state(Trigger.RCV_SYN_ACK)
            if len(self.sndbuf):
                # Data queued in SYN_SENT (RFC 9293 §3.10.2) rides on the third segment.
                self._ack_pending = True
            else:
                self._send_ack(now)  # Linux acknowledges the SYN-ACK at once
        else:
            # Simultaneous open: SYN_RECEIVED, <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>.
            self.snd_wnd = seg.window
            self.snd_wl1, self.snd_wl2 = seg.seq, self.iss
            self._syn_retries = 0
            self._set_state(Trigger.RCV_SYN)
            self._send_syn_ack(now)
            self._start_rto(now)

    def _init_cwnd(self) -> None:
        """RFC 6928: IW = 10 segments (Linux TCP_INIT_CWND)."""
        self.cwnd = self.config.initial_cwnd_segments * self.eff_mss

    def _take_timestamp(self, seg: TCPSegment) -> None:
        ts = seg.timestamps
        if ts is not None and self.agreement is not None and self.agreement.timestamps:
            self.ts_recent = ts[0]

    # --- the synchronized states and SYN_RECEIVED (§3.10.7.4) ------------------------

    def _acceptable(self, seg: TCPSegment) -> bool:
        """The four-case acceptability test of RFC 9293 §3.10.7.4, first step."""
        wnd = seq_sub(self._rcv_adv, self.rcv_nxt)
        wnd = max(wnd, 0)
        length = seg.seg_len
        if length == 0:
            if wnd == 0:
                return seg.seq == self.rcv_nxt
            return seq_in_window(seg.seq, self.rcv_nxt, wnd)
        if wnd == 0:
            return False
        last = seq_add(seg.seq, length - 1)
        return seq_in_window(seg.seq, self.rcv_nxt, wnd) or seq_in_window(last, self.rcv_nxt, wnd)

    def _segment_in_other(self, seg: TCPSegment, now: float) -> None:
        st = self.state
        # A retransmitted SYN in SYN_RECEIVED: answer with the SYN-ACK again (Linux
        # tcp_check_req), rather than a bare ACK.
        if st is State.SYN_RECEIVED and seg.syn and not seg.has_ack and seg.seq == self.irs:
            self._send_syn_ack(now, retrans=True)
            return
        # Simultaneous open: the peer's SYN,ACK reaches us in SYN_RECEIVED.  Its SYN is
        # old but its ACK is new; take it as the ACK of our SYN (Linux
        # tcp_validate_incoming makes the same exception to RFC 5961 §4.2).
        simultaneous = (
            st is State.SYN_RECEIVED
            and seg.syn
            and seg.has_ack
            and not seg.payload
            and seq_add(seg.seq, 1) == self.rcv_nxt
            and seg.ack == self.snd_nxt
        )
        if simultaneous:
            seg = TCPSegment(
                seg.src_port,
                seg.dst_port,
                self.rcv_nxt,
                seg.ack,
                seg.flags & ~S,
                seg.window,
                seg.urgent,
                seg.options,
            )

        # first: check the sequence number.
        if not self._acceptable(seg):
            if seg.rst:
                return
            if st is State.TIME_WAIT and seg.fin:
                # §3.10.7.4 eighth, TIME-WAIT: a retransmitted FIN is acknowledged and
                # the 2 MSL timeout restarted.
                self._tw_deadline = now + self.config.time_wait
            if seg.syn and st in SYNCHRONIZED:
                self._challenge_ack(now)  # RFC 5961 §4.2 (any SYN, in or out of window)
                return
            self._count("TCPOutOfWindow")
            self._send_ack(now)
            return

        # second: check the RST bit (RFC 5961 §3.2: only an exact match resets).
        if seg.rst:
            if seg.seq != self.rcv_nxt:
                self._challenge_ack(now)
                return
            self._on_valid_rst(now)
            return

        # fourth: a SYN in a synchronized state (or SYN_RECEIVED): challenge ACK,
        # RFC 5961 §4.2 (which replaces RFC 9293's reset).
        if seg.syn:
            self._challenge_ack(now)
            return

        # fifth: the ACK field.
        if not seg.has_ack:
            return
        if st is State.SYN_RECEIVED:
            if seq_lt(self.snd_una, seg.ack) and seq_le(seg.ack, self.snd_nxt):
                self.snd_wnd = seg.window << (self.agreement.snd_wscale if self.agreement else 0)
                self.max_snd_wnd = max(self.max_snd_wnd, self.snd_wnd)
                self.snd_wl1, self.snd_wl2 = seg.seq, seg.ack
                self._syn_retries = 0
                self._take_timestamp(seg)
                self._ack_advances(seg, now)
                self._init_cwnd()
                self._set_state(Trigger.RCV_ACK_OF_SYN)
                if self._fin_queued:  # close() was called in SYN_RECEIVED
                    self._set_state(Trigger.CLOSE_SND_FIN)
            else:
                self._send_rst(now, seg.ack)  # <SEQ=SEG.ACK><CTL=RST>
                return
            st = self.state
        else:
            # RFC 5961 §5.2: acceptable if SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT.
            if seq_gt(seg.ack, self.snd_max) or seq_lt(
                seg.ack, seq_sub(self.snd_una, self.max_snd_wnd) & MASK
            ):
                self._challenge_ack(now)
                return
            self._update_ts_recent(seg)
            self._ack_advances(seg, now)
        fin_acked = self._fin_seq is not None and seq_gt(self.snd_una, self._fin_seq)
        if fin_acked:
            if st is State.CLOSING:
                self._set_state(Trigger.RCV_ACK_OF_FIN)
                self._enter_time_wait(now)
                return
            elif st is State.LAST_ACK:
                self._set_state(Trigger.RCV_ACK_OF_FIN)
                return
        if st is State.TIME_WAIT:
            return

        # sixth: URG.  Urgent data is delivered in-line (RFC 6093 §3); nothing to do.
        # seventh: segment text.
        st = self.state
        if seg.payload and st in (State.ESTABLISHED, State.FIN_WAIT_1, State.FIN_WAIT_2):
            if self._orphan:
                # Linux: data for a socket nobody reads any more -> reset
                # (RFC 9293 §3.10.4 leaves it open; LINUX_MIB_TCPABORTONDATA).
                self._count("TCPAbortOnData")
                self._send_rst(now, self.snd_nxt)
                self.sndbuf.clear()
                self._set_state(Trigger.RCV_DATA_AFTER_CLOSE)
                return
            self._receive_text(seg, now)
            # CLOSE_WAIT, CLOSING, LAST_ACK: the peer already sent FIN; ignore text.

        # eighth: FIN, once everything before it has arrived.
        fin_now = False
        if seg.fin:
            fin_seq = seq_add(seg.seq, len(seg.payload))
            if fin_seq == self.rcv_nxt:
                fin_now = True
            elif seq_gt(fin_seq, self.rcv_nxt):
                self.rcvbuf.ooo_fin = fin_seq
        if self.rcvbuf.ooo_fin is not None and self.rcvbuf.ooo_fin == self.rcv_nxt:
            self.rcvbuf.ooo_fin = None
            fin_now = True
        if fin_acked and self.state is State.FIN_WAIT_1 and not fin_now:
            # fifth step, FIN-WAIT-1: our FIN is acknowledged -> FIN_WAIT_2.
            self._set_state(Trigger.RCV_ACK_OF_FIN)
            if self._orphan:
                self._fw2_deadline = now + self.config.fin_timeout
        if fin_now and not self._peer_fin:
            self._on_fin(now, fin_acked)

    def _on_valid_rst(self, now: float) -> None:
        """RST processing per state (RFC 9293 §3.10.7.4 second step)."""
        st = self.state
        self.sndbuf.clear()
        if st is State.SYN_RECEIVED:
            if self._passive and not self.listener_child:
                self._set_state(Trigger.RCV_RST, prefer=State.LISTEN)
                self.remote = None
                return
            if self.listener_child:
                self._set_state(Trigger.RCV_RST, prefer=State.CLOSED)
                return
            self._fail(errnos.ECONNREFUSED, "connection refused", Trigger.RCV_RST)
            return
        if st in (State.ESTABLISHED, State.FIN_WAIT_1, State.FIN_WAIT_2, State.CLOSE_WAIT):
            self._fail(errnos.ECONNRESET, "connection reset by peer", Trigger.RCV_RST)
            return
        self._set_state(Trigger.RCV_RST)  # CLOSING, LAST_ACK, TIME_WAIT

    def _update_ts_recent(self, seg: TCPSegment) -> None:
        """RFC 7323 §4.3: TS.Recent <- SEG.TSval if SEG.SEQ =< Last.ACK.sent."""
        ts = seg.timestamps
        if ts is None or not (self.agreement and self.agreement.timestamps):
            return
        if seq_le(seg.seq, self._last_ack_sent) and seq_ge(ts[0], self.ts_recent):
            self.ts_recent = ts[0]

    def _ack_advances(self, seg: TCPSegment, now: float) -> None:
        """Fifth step, ESTABLISHED: SND.UNA < SEG.ACK =< SND.NXT advances SND.UNA, the
        window is updated from the newest segment (SND.WL1/WL2), and an RTT is sampled."""
        ack = seg.ack
        if seq_lt(self.snd_una, ack) and seq_le(ack, self.snd_max):
            acked = seq_sub(ack, self.snd_una)
            self.snd_una = ack
            if seq_lt(self.snd_nxt, ack):
                self.snd_nxt = ack
            self.sndbuf.acknowledge(ack)
            self._rtt_sample(seg, ack, now)
            self.retransmits = 0
            # RFC 5681 §3.1: slow start below ssthresh, else about one MSS per RTT.
            if self.cwnd:
                if self.cwnd < self.ssthresh:
                    self.cwnd += min(acked, self.eff_mss)
                else:
                    self.cwnd += max(self.eff_mss * self.eff_mss // self.cwnd, 1)
            # RFC 6298 §5.2/§5.3: stop the timer when all is acked, else restart it.
            if self.snd_una == self.snd_max:
                self._rto_deadline = None
            else:
                self._start_rto(now)
            if self.state in SYNCHRONIZED:
                self._events.append(ev.SendBufferSpace(self.sndbuf.free))
        # Window update (§3.10.7.4): if SND.WL1 < SEG.SEQ, or WL1 = SEG.SEQ and WL2 =< SEG.ACK.
        if seq_le(self.snd_una, ack) and (
            seq_lt(self.snd_wl1, seg.seq) or (self.snd_wl1 == seg.seq and seq_le(self.snd_wl2, ack))
        ):
            shift = self.agreement.snd_wscale if self.agreement else 0
            self.snd_wnd = seg.window << shift
            self.max_snd_wnd = max(self.max_snd_wnd, self.snd_wnd)
            self.snd_wl1, self.snd_wl2 = seg.seq, ack

    def _rtt_sample(self, seg: TCPSegment, ack: int, now: float) -> None:
        ts = seg.timestamps
        if ts is not None and self.agreement and self.agreement.timestamps and ts[1]:
            # RFC 7323 §4.1: RTT from the echoed timestamp.
            rtt_ms = (self._ts_now(now) - ts[1]) & MASK
            if rtt_ms < 1 << 31:
                self.rto.sample(rtt_ms / 1000.0)
            self._timed = None
            return
        if self._timed is not None and seq_ge(ack, self._timed[0]):
            # Karn: only segments sent once are timed (cleared on retransmission).
            self.rto.sample(now - self._timed[1])
            self._timed = None

    def _receive_text(self, seg: TCPSegment, now: float) -> None:
        """Seventh step: accept the in-window part of the text (RFC 9293 §3.10.7.4)."""
        data = seg.payload
        seq = seg.seq
        # Trim what lies before RCV.NXT or beyond the window we announced.
        before = seq_sub(self.rcv_nxt, seq)
        if before > 0:
            data = data[before:]
            seq = self.rcv_nxt
        room = seq_sub(self._rcv_adv, seq)
        if room < len(data):
            data = data[: max(room, 0)]
        if not data:
            self._ack_pending = True
            return
        if self._read_closed:
            advanced = len(data) if seq == self.rcv_nxt else 0  # SHUT_RD: acknowledge, drop
        else:
            advanced = self.rcvbuf.accept(self.rcv_nxt, seq, data)
        if advanced:
            self.rcv_nxt = seq_add(self.rcv_nxt, advanced)
            if not self._read_closed:
                self._events.append(ev.DataReceived(advanced))
            self._ack_pending = True
        else:
            # Out of order: acknowledge at once (RFC 5681 §4.2 / RFC 9293 §3.10.7.4).
            self._send_ack(now)

    def _on_fin(self, now: float, fin_acked: bool) -> None:
        """Eighth step: the peer's FIN (RFC 9293 §3.10.7.4)."""
        st = self.state
        self.rcv_nxt = seq_add(self.rcv_nxt, 1)  # the FIN takes one sequence number
        self._peer_fin = True
        self._ack_pending = True
        self._events.append(ev.PeerClosed())
        if st in (State.SYN_RECEIVED, State.ESTABLISHED):
            self._set_state(Trigger.RCV_FIN)
        elif st is State.FIN_WAIT_1:
            if fin_acked:
                self._set_state(Trigger.RCV_FIN_ACK_OF_FIN)
                self._enter_time_wait(now)
            else:
                self._set_state(Trigger.RCV_FIN)  # simultaneous close: CLOSING
        elif st is State.FIN_WAIT_2:
            self._set_state(Trigger.RCV_FIN)
            self._enter_time_wait(now)

    def _enter_time_wait(self, now: float) -> None:
        """TIME_WAIT: only the 2 MSL timer runs (RFC 9293 §3.10.7.4 eighth)."""
        self._rto_deadline = None
        self._fw2_deadline = None
        self._tw_deadline = now + self.config.time_wait

    # ------------------------------------------------------------------------------
    # Introspection
    # ------------------------------------------------------------------------------

    def timer_description(self, now: float) -> str:
        """The timer column of ``ss -tan -o``: ``timer:(name,remaining,retries)``."""
        for name, d in (
            ("timewait", self._tw_deadline),
            ("on", self._rto_deadline),
            ("timewait", self._fw2_deadline),
        ):
            if d is not None:
                return f"timer:({name},{max(d - now, 0.0):.3f}s,{self.retransmits})"
        return ""

    def info(self) -> dict[str, object]:
        """A TCP_INFO-like snapshot."""
        return {
            "state": self.state.value,
            "rto": self.rto.rto,
            "srtt": self.rto.srtt,
            "rttvar": self.rto.rttvar,
            "snd_mss": self.eff_mss,
            "cwnd": self.cwnd,
            "ssthresh": self.ssthresh,
            "snd_una": self.snd_una,
            "snd_nxt": self.snd_nxt,
            "rcv_nxt": self.rcv_nxt,
            "snd_wnd": self.snd_wnd,
            "rcv_wnd": self._rcv_window(),
            "snd_wscale": self.agreement.snd_wscale if self.agreement else 0,
            "rcv_wscale": self.agreement.rcv_wscale if self.agreement else 0,
            "retransmits": self.retransmits,
            "total_retrans": self.total_retrans,
            "unacked": seq_sub(self.snd_max, self.snd_una),
        }
