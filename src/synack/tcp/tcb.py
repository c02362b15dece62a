"""The transmission control block (RFC 9293 §3.3.1): every variable of one connection,
and the small helpers the input, output and timer code share.

:class:`synack.tcp.connection.Connection` is built from this base and the mixins in
``output``, ``ackinput`` and ``timers``; each of those modules holds one concept of the
protocol, and all of them work on the state declared here.
"""

from __future__ import annotations

from collections.abc import MutableMapping

from synack.tcp import events as ev
from synack.tcp.ackpolicy import AckPolicy
from synack.tcp.chrono import Chrono
from synack.tcp.config import TCPConfig
from synack.tcp.congestion import make as make_cc
from synack.tcp.congestion.base import CongestionControl
from synack.tcp.congestion.standard import StandardCongestionControl
from synack.tcp.handshake import Agreement, Offer
from synack.tcp.pacing import UNPACED_SEGMENTS, next_departure, pacing_rate
from synack.tcp.prr import PRR
from synack.tcp.rack import Rack
from synack.tcp.receiver import ReceiveBuffer
from synack.tcp.rto import RTOEstimator
from synack.tcp.scoreboard import Scoreboard
from synack.tcp.sender import SendBuffer
from synack.tcp.seq import MASK, seq_add, seq_sub
from synack.tcp.states import State, Trigger, lookup
from synack.wire.options import NOP, Sack, TCPOption, Timestamps
from synack.wire.tcp import Flags, TCPSegment, flags_of

Address = tuple[str, int]
Counters = MutableMapping[str, int]

A, S, F, R, P = Flags.ACK, Flags.SYN, Flags.FIN, Flags.RST, Flags.PSH
ECT0 = 0b10  # RFC 3168 §5 ECT(0)
CE = 0b11
_NOP = NOP()  # options are immutable: one NOP serves every segment


#: Whether a congestion-control class is a StandardCongestionControl (HyStart applies).
_IS_STANDARD: dict[type, bool] = {}

#: StateChanged events by (old, new, trigger), and the one Connected event: frozen, so
#: shared by every connection rather than made anew for each transition.
_STATE_EVENTS: dict[tuple[State, State, Trigger], ev.StateChanged] = {}
_CONNECTED = ev.Connected()

#: The MIB counter changes of each transition (old, new, by a reset), worked out once.
_STATE_COUNTERS: dict[tuple[State, State, bool], tuple[tuple[str, int], ...]] = {}


def _state_counters(old: State, new: State, reset: bool) -> tuple[tuple[str, int], ...]:
    """MIB counters as RFC 1213 / Linux define them, for one state transition."""
    out: list[tuple[str, int]] = []
    if new is State.SYN_SENT:
        out.append(("ActiveOpens", 1))
    elif old is State.LISTEN and new is State.SYN_RECEIVED:
        out.append(("PassiveOpens", 1))
    if old in (State.SYN_SENT, State.SYN_RECEIVED) and new in (State.CLOSED, State.LISTEN):
        out.append(("AttemptFails", 1))
    if reset and old in (State.ESTABLISHED, State.CLOSE_WAIT) and new is State.CLOSED:
        out.append(("EstabResets", 1))
    was = old in (State.ESTABLISHED, State.CLOSE_WAIT)
    now_in = new in (State.ESTABLISHED, State.CLOSE_WAIT)
    if now_in and not was:
        out.append(("CurrEstab", 1))
    elif was and not now_in:
        out.append(("CurrEstab", -1))
    return tuple(out)


class TCB:
    """State of one connection.  See :mod:`synack.tcp.connection` for how it is driven."""

    # Slots, not a __dict__: a connection in TIME_WAIT keeps this object for 60 s, and a
    # busy server keeps tens of thousands of them.  Every attribute of the connection
    # classes (this one and its mixins) is listed here.
    __slots__ = (
        "_ack_pending",
        "_ack_rcvd_at",
        "_cwnd_usage_seq",
        "_cwr_pending",
        "_data_rcvd_at",
        "_data_sent_at",
        "_ece_pending",
        "_ecn_reduced_until",
        "_ecn_requested",
        "_events",
        "_fin_queued",
        "_fin_seq",
        "_forced_iss",
        "_fw2_deadline",
        "_idle_reported",
        "_is_cwnd_limited",
        "_keepalive_deadline",
        "_keepalive_probes",
        "_last_ack_sent",
        "_last_challenge",
        "_last_rcv",
        "_last_send",
        "_max_packets_out",
        "_orphan",
        "_out",
        "_pacing_deadline",
        "_passive",
        "_peer_fin",
        "_peer_offer",
        "_persist_deadline",
        "_probes_stamp",
        "_prr_allowance",
        "_prr_cwnd",
        "_rcv_adv",
        "_rcv_ssthresh",
        "_rcvq_copied",
        "_rcvq_time",
        "_read_closed",
        "_reorder_deadline",
        "_retrans_stamp",
        "_round_end",
        "_rto_deadline",
        "_rto_recovery",
        "_secret",
        "_snd_sml",
        "_syn_retries",
        "_timed",
        "_tlp_deadline",
        "_tlp_high",
        "_ts_offset",
        "_tw_deadline",
        "_wstamp",
        "acks",
        "agreement",
        "board",
        "cc",
        "chrono",
        "config",
        "counters",
        "dupacks",
        "ecn_ok",
        "error",
        "irs",
        "iss",
        "listener_child",
        "local",
        "max_snd_wnd",
        "name",
        "prr",
        "rack",
        "rcv_nxt",
        "rcvbuf",
        "recovery_point",
        "remote",
        "retransmits",
        "rto",
        "snd_max",
        "snd_nxt",
        "snd_una",
        "snd_wl1",
        "snd_wl2",
        "snd_wnd",
        "sndbuf",
        "state",
        "stats",
        "total_retrans",
        "ts_recent",
    )

    def __init__(
        self,
        local: Address,
        *,
        config: TCPConfig | None = None,
        secret: bytes = b"synack",
        counters: Counters | None = None,
        name: str = "",
    ) -> None:
        # Defaults of the sending and ACK-processing mixins (class attributes before).
        self._prr_allowance = 0
        self._prr_cwnd = 0
        self._idle_reported: float | None = None  # the pause (its start) already reported
        self._cwnd_usage_seq: int | None = None
        self._max_packets_out = 0
        self._is_cwnd_limited = False
        self._snd_sml: int | None = None
        self._round_end: int | None = None
        self._ecn_requested = False
        self.config = config or TCPConfig()
        self.local = local
        self.remote: Address | None = None
        self.name = name
        self._secret = secret
        self.counters: Counters = counters if counters is not None else {}
        self.state = State.CLOSED
        # A list, not a deque: it holds a few events at a time, and an empty deque
        # costs 600 bytes, which thousands of connections in TIME_WAIT would keep.
        self._events: list[ev.Event] = []
        self._out: list[TCPSegment] = []
        self.listener_child = False
        self._passive = False
        self._forced_iss: int | None = None
        self._peer_offer: Offer | None = None
        self.error: int | None = None

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
        self._rcv_ssthresh = self._initial_window(self.config.mss)  # grows with data
        self.agreement: Agreement | None = None

        self.sndbuf = SendBuffer(self.config.sndbuf)
        self.rcvbuf = ReceiveBuffer(self.config.rcvbuf)
        self.rcvbuf.dsack = self.config.dsack
        #: tcp_info-style totals (tcpi_bytes_acked, tcpi_segs_in, ...).
        self.stats: dict[str, int] = dict.fromkeys(
            (
                "bytes_acked",
                "bytes_received",
                "segs_in",
                "segs_out",
                "data_segs_in",
                "data_segs_out",
                "delivered",
            ),
            0,
        )
        self._rcvq_copied = 0  # bytes read since _rcvq_time (autotuning)
        self._rcvq_time: float | None = None
        self.rto = RTOEstimator(
            self.config.rto_initial,
            self.config.rto_min,
            self.config.rto_max,
            linux=self.config.rto_linux,
        )
        self.cc: CongestionControl | None = None
        self.board = Scoreboard()
        self.rack = Rack()
        self.prr: PRR | None = None
        self.recovery_point: int | None = None  # RFC 6582 "recover"
        self._rto_recovery = False  # the recovery began with an RTO (Linux TCP_CA_Loss)
        self.dupacks = 0  # for peers without SACK (RFC 5681 §3.2, RFC 6582)
        self.acks = AckPolicy(self.config.delack)

        self._fin_queued = False
        self._fin_seq: int | None = None
        self._orphan = False
        self._read_closed = False
        self._peer_fin = False
        self._ack_pending = False  # an ACK must go out at the next flush
        self._syn_retries = 0
        self.retransmits = 0  # consecutive RTO expiries without progress
        self.total_retrans = 0
        self._rto_deadline: float | None = None
        self._tlp_deadline: float | None = None
        self._tlp_high: int | None = None  # RFC 8985 §7.3 TLP.end_seq
        self._reorder_deadline: float | None = None
        self._persist_deadline: float | None = None
        # Pacing (synack.tcp.pacing): Linux tcp_wstamp_ns, the earliest departure of the
        # next data segment, and the timer that waits for it (tcp_pacing_check).
        self._wstamp = 0.0
        self._pacing_deadline: float | None = None
        self._keepalive_deadline: float | None = None
        self._keepalive_probes = 0
        # TCP_USER_TIMEOUT's clocks (RFC 5482): Linux tp->retrans_stamp, when the first
        # retransmission of the current loss episode was sent (in connect(), the SYN),
        # and icsk_probes_tstamp, when the persist timer first fired on a closed window.
        self._retrans_stamp: float | None = None
        self._probes_stamp: float | None = None
        self._tw_deadline: float | None = None
        self._fw2_deadline: float | None = None
        # (end seq, send time) of the SYN or SYN-ACK, for the handshake's RTT (Karn);
        # data is timed by its scoreboard entries.
        self._timed: tuple[int, float] | None = None
        self._last_send: float | None = None
        self._last_rcv = 0.0
        # Linux rcv_tstamp, icsk_ack.lrcvtime and lsndtime (tcpi_last_ack_recv,
        # tcpi_last_data_recv, tcpi_last_data_sent): set at establishment, then on each
        # ACK received, data received and data sent.
        self._ack_rcvd_at = self._data_rcvd_at = self._data_sent_at = 0.0
        self.chrono = Chrono()  # busy / rwnd-limited / sndbuf-limited time (tcp_chrono)
        self._ts_offset = 0
        self.ts_recent = 0
        self._last_ack_sent = 0
        self._last_challenge = -1e18
        # ECN (RFC 3168).
        self.ecn_ok = False
        self._ece_pending = False  # receiver: echo ECE until the sender's CWR
        self._cwr_pending = False  # sender: set CWR on the next new data segment
        self._ecn_reduced_until: int | None = None

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
        reset = trigger is Trigger.RCV_RST or trigger is Trigger.ABORT
        deltas = _STATE_COUNTERS.get((old, new, reset))
        if deltas is None:
            deltas = _STATE_COUNTERS[old, new, reset] = _state_counters(old, new, reset)
        counters = self.counters
        for name, n in deltas:
            counters[name] = counters.get(name, 0) + n
        # Events are frozen values: one object per transition serves every connection.
        event = _STATE_EVENTS.get((old, new, trigger))
        if event is None:
            event = _STATE_EVENTS[old, new, trigger] = ev.StateChanged(old, new, trigger)
        self._events.append(event)
        if new is State.ESTABLISHED:
            self._events.append(_CONNECTED)
        if new is State.CLOSED:
            self._clear_timers()
            self._ack_pending = False
            self._events.append(ev.Closed())

    def _clear_timers(self) -> None:
        self._rto_deadline = self._tw_deadline = self._fw2_deadline = None
        self._tlp_deadline = self._reorder_deadline = self._persist_deadline = None
        self._keepalive_deadline = self._pacing_deadline = None
        self.acks.deadline = None

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
        mss = a.peer_mss
        ours = self.config.mss
        if ours < mss:
            mss = ours
        if a.timestamps:
            mss -= 12
        return mss if mss > 1 else 1

    @property
    def sack_ok(self) -> bool:
        return bool(self.agreement and self.agreement.sack)

    def _window_blocks_next(self) -> bool:
        """Unsent data waits and the peer's window has no room for its next segment
        (Linux tcp_snd_wnd_test): what receive-window-limited time, the persist timer
        and the end of zero-window probing all go by."""
        avail = self.sndbuf.available_from(self.snd_nxt)
        if avail <= 0:
            return False
        room = seq_sub(seq_add(self.snd_una, self.snd_wnd), self.snd_nxt)
        return room < min(avail, self.eff_mss)

    def _pipe(self) -> int:
        """RFC 6675 pipe; without SACK each duplicate ACK counts as one segment that left
        the network (RFC 6937 §3, Linux tcp_add_reno_sack), which also gives RFC 3042's
        limited transmit."""
        pipe = self.board.pipe
        if not self.sack_ok and self.dupacks:
            pipe = max(pipe - self.dupacks * self.eff_mss, 0)
        return pipe

    def _reduction_base(self, flight: int) -> int:
        """What a congestion event reduces from.  RFC 5681 equation 4 says FlightSize;
        Linux (tcp_reno_ssthresh, cubictcp_recalc_ssthresh) and RFC 9438 §4.6 use cwnd.
        synack follows Linux: with SACK the flight can exceed cwnd (SACKed segments
        free the window), and a flight-based cut is then too small, which lets one of
        two competing flows keep an advantage for good."""
        assert self.cc is not None
        return self.cc.cwnd

    @property
    def in_recovery(self) -> bool:
        return self.recovery_point is not None

    def _init_cc(self, now: float) -> None:
        """RFC 6928: IW = 10 segments (Linux TCP_INIT_CWND)."""
        if self.cc is None:  # establishment (not a TCP_CONGESTION change later)
            self._ack_rcvd_at = self._data_rcvd_at = self._data_sent_at = now
        mss = self.eff_mss
        self.cc = make_cc(self.config.congestion, mss, self.config.initial_cwnd_segments * mss, now)
        self.cc.restart_after_idle = self.config.slow_start_after_idle
        cls = type(self.cc)
        standard = _IS_STANDARD.get(cls)
        if standard is None:  # an ABC's isinstance is slow: once per class
            standard = _IS_STANDARD[cls] = issubclass(cls, StandardCongestionControl)
        if standard:
            self.cc.set_hystart(self.config.hystart)  # type: ignore[attr-defined]
        if not self.config.abc and hasattr(self.cc, "abc_limit_segments"):
            self.cc.abc_limit_segments = None

    @property
    def cwnd(self) -> int:
        return self.cc.cwnd if self.cc else 0

    @property
    def ssthresh(self) -> int:
        return self.cc.ssthresh if self.cc else 1 << 30

    # --- the receive window (RFC 9293 §3.8.6.2.2, RFC 7323 §2) ------------------------

    def _initial_window(self, mss: int) -> int:
        """The first window (Linux tcp_select_initial_window): half the buffer, in whole
        segments; the window field of a SYN or SYN-ACK shows at most 65535 of it."""
        w = self.config.rcvbuf // 2 // mss * mss
        if self.config.initial_rcv_wnd is not None:
            w = min(w, self.config.initial_rcv_wnd)
        return max(w, mss)

    def _free_window(self) -> int:
        """Half the free buffer (Linux tcp_win_from_space, scaling ratio 50 %)."""
        used = len(self.rcvbuf) + self.rcvbuf.ooo_bytes
        return max(self.config.rcvbuf - used, 0) // 2

    def _rcv_window(self, syn: bool = False) -> int:
        """The window to announce: half the free buffer space (bounded by Linux's growing
        window clamp), never shrinking the right edge announced before, and only moved
        forward by at least min(MSS, buffer/4) at a time (receiver SWS avoidance)."""
        if syn:
            return self._rcv_ssthresh
        free = min(self._free_window(), self._rcv_ssthresh)
        shift = self.agreement.rcv_wscale if self.agreement and not syn else 0
        free = (free >> shift) << shift
        promised = max(seq_sub(self._rcv_adv, self.rcv_nxt), 0)
        # A window already promised is rounded up to the scale unit, never down, so the
        # scaled field cannot move the right edge left (Linux tcp_select_window).
        promised = -(-promised >> shift) << shift
        if free > promised and promised > 0:
            step = min(self.config.mss, self.config.rcvbuf // 4)
            if free - promised < step:
                return promised
        return max(free, promised)

    def _window_field(self, window: int, syn: bool) -> int:
        if syn:  # RFC 7323 §2.2: the window in a SYN or SYN-ACK is never scaled
            return min(window, 0xFFFF)
        shift = self.agreement.rcv_wscale if self.agreement else 0
        return min(window >> shift, 0xFFFF)

    def _options(self, now: float, flags: Flags) -> tuple[TCPOption, ...]:
        opts: tuple[TCPOption, ...] = ()
        a = self.agreement
        if a and a.timestamps:
            # RFC 7323 §3.2, in Linux's layout: nop,nop,TS on every non-SYN segment.
            opts = (_NOP, _NOP, Timestamps(self._ts_now(now), self.ts_recent))
        if a and a.sack and int(flags) & 0x10 and not int(flags) & 0x04:  # ACK, not RST
            blocks = self.rcvbuf.sack_blocks(self.rcv_nxt, a.timestamps)
            if blocks:
                opts += (_NOP, _NOP, Sack(blocks))  # RFC 2018 §3 (Linux's layout)
        return opts

    def _emit(
        self,
        now: float,
        flags: Flags,
        seq: int,
        payload: bytes | memoryview = b"",
        *,
        options: tuple[TCPOption, ...] | None = None,
        retrans: bool = False,
        gso_size: int = 0,
    ) -> TCPSegment:
        assert self.remote is not None
        # A TSO packet counts as the segments it becomes (Linux tcp_skb_pcount).
        pieces = -(-len(payload) // gso_size) if gso_size else 1
        if retrans:
            self._count("RetransSegs")
            self.total_retrans += 1
        else:
            self._count("OutSegs", pieces)
        self.stats["segs_out"] += pieces
        if payload:
            self.stats["data_segs_out"] += pieces
            if self.config.paces:
                self._paced(now, len(payload))
        syn = bool(int(flags) & 0x02)
        wnd = self._rcv_window(syn)
        has_ack = bool(int(flags) & 0x10)
        if has_ack:
            if self._ece_pending and not syn:
                flags |= Flags.ECE  # RFC 3168 §6.1.3: echo CE until CWR arrives
            self._rcv_adv = seq_add(self.rcv_nxt, wnd)
            self._last_ack_sent = self.rcv_nxt
            self._ack_pending = False
            self.acks.ack_sent()
        ecn = 0
        if payload and self.ecn_ok and not retrans:
            ecn = ECT0  # RFC 3168 §6.1.5: data, but not retransmissions, is ECN-capable
            if self._cwr_pending:
                flags |= Flags.CWR  # RFC 3168 §6.1.2
                self._cwr_pending = False
        seg = TCPSegment(
            src_port=self.local[1],
            dst_port=self.remote[1],
            seq=seq,
            ack=self.rcv_nxt if has_ack else 0,
            flags=flags,
            window=self._window_field(wnd, syn),
            options=self._options(now, flags) if options is None else options,
            payload=payload,
            ip_ecn=ecn,
            gso_size=gso_size,
        )
        self._out.append(seg)
        self._last_send = now
        if payload:
            self._data_sent_at = now  # Linux tcp_event_data_sent: lsndtime
        return seg

    def _pacing_rate(self) -> float:
        """Linux sk_pacing_rate (synack.tcp.pacing.pacing_rate), bytes/s; 0 before the
        congestion state exists or the first RTT sample."""
        cc = self.cc
        if cc is None:
            return 0.0
        config = self.config
        return pacing_rate(
            self.eff_mss,
            cc.cwnd,
            cc.ssthresh,
            len(self.board.segments),
            self.rto.srtt,
            ss_ratio=config.pacing_ss_ratio,
            ca_ratio=config.pacing_ca_ratio,
            max_rate=config.max_pacing_rate,
        )

    def _paced(self, now: float, payload: int) -> None:
        """A data segment of ``payload`` octets leaves: move the next departure time on
        (Linux __tcp_transmit_skb and tcp_update_skb_after_send; the first
        UNPACED_SEGMENTS data segments leave unpaced)."""
        if self.stats["data_segs_out"] < UNPACED_SEGMENTS:
            self._wstamp = max(self._wstamp, now)
            return
        header = 32 if self.agreement is not None and self.agreement.timestamps else 20
        self._wstamp = next_departure(self._wstamp, now, payload + header, self._pacing_rate())

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

    def _cwr_to_recovery(self) -> bool:
        """A loss found while cwnd is coming down for an ECN echo (CWR): recovery goes on
        with that reduction, not a second one (Linux tcp_enter_recovery: "if
        (!tcp_in_cwnd_reduction(sk))"); it lasts to the CWR round's end (high_seq)."""
        if self.prr is None or self._ecn_reduced_until is None:
            return False
        self.recovery_point = self._ecn_reduced_until
        self._ecn_reduced_until = None
        self._count("TCPRecoveries")
        return True

    def _send_active_rst(self, now: float) -> None:
        """Reset a synchronized connection from our side (abort, close with unread data,
        keepalive timeout) as Linux's tcp_send_active_reset does: <SEQ=SND.NXT>
        <ACK=RCV.NXT><CTL=RST,ACK> with the window and the options (timestamps) of any
        segment of the connection.  RFC 9293 §3.10.5 asks for <SEQ=SND.NXT><CTL=RST>;
        the ACK it may carry is ignored by the receiver's RST processing (§3.10.7.4)."""
        self._count("OutRsts")
        self._emit(now, flags_of(0x14), self.snd_nxt)  # RST | ACK

    def _start_rto(self, now: float) -> None:
        self._rto_deadline = now + self.rto.rto
