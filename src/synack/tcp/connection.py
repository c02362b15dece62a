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

from synack.tcp import events as ev
from synack.tcp.ackinput import AckInput
from synack.tcp.chrono import BUSY, SNDBUF_LIMITED
from synack.tcp.handshake import Offer, agree, syn_options
from synack.tcp.introspect import Introspection
from synack.tcp.isn import rfc6528_isn, ts_offset
from synack.tcp.seq import (
    MASK,
    seq_add,
    seq_ge,
    seq_gt,
    seq_le,
    seq_lt,
    seq_sub,
)
from synack.tcp.states import SYNCHRONIZED, State, Trigger
from synack.tcp.tcb import CE, TCB, A, Address, S
from synack.tcp.timers import Timers
from synack.wire.tcp import Flags, TCPSegment

__all__ = ["TCB", "Address", "Connection"]

# The control bits as plain ints: the arrival path reads a segment's flags once as an
# int (an IntFlag operation is a Python-level call).
_FIN, _SYN, _RST, _ACK, _CWR = (int(f) for f in (Flags.FIN, Flags.SYN, Flags.RST, A, Flags.CWR))
_SYN_ACK = S | A
_PEER_CLOSED = ev.PeerClosed()  # a frozen value: one object for every connection
_SYN_ACK_ECE = S | A | Flags.ECE


class Connection(Timers, AckInput, Introspection):
    """A TCP connection: all eleven states, driven by segments, user calls and timers."""

    __slots__ = ()

    # ------------------------------------------------------------------------------
    # User calls (RFC 9293 §3.10.1 - §3.10.6)
    # ------------------------------------------------------------------------------

    def configure(self, now: float, **changes: object) -> None:
        """Change options of a live connection, as setsockopt does: TCP_NODELAY
        (``nodelay``), SO_KEEPALIVE and TCP_KEEPIDLE/INTVL/CNT (``keepalive``,
        ``keepidle``...), SO_SNDBUF/SO_RCVBUF (``sndbuf``, ``rcvbuf``), TCP_MAXSEG
        (``mss``, before the handshake), TCP_CONGESTION (``congestion``),
        TCP_USER_TIMEOUT (``user_timeout``, in seconds; it takes effect at the next
        timer expiry, as in Linux)."""
        self.config = self.config.with_(**changes)
        self.sndbuf.capacity = self.config.sndbuf
        self.rcvbuf.capacity = self.config.rcvbuf
        self.acks.timeout = self.config.delack
        if ("congestion" in changes or "hystart" in changes) and self.cc is not None:
            old = self.cc
            self._init_cc(now)
            assert self.cc is not None
            self.cc.cwnd, self.cc.ssthresh = old.cwnd, old.ssthresh
        if "keepalive" in changes or "keepidle" in changes:
            if self.config.keepalive:
                self._arm_keepalive(now)
            else:
                self._keepalive_deadline = None

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
        self._retrans_stamp = now  # Linux tcp_connect: the user timeout counts from the SYN
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

    def open_from_cookie(self, syn: TCPSegment, iss: int, now: float, src: Address) -> None:
        """Become the connection a SYN cookie stood for (RFC 4987 §3.6; Linux
        cookie_v4_check, tcp_get_cookie_sock): a listener's child takes ``syn`` -- the
        client's SYN as the cookie and the echoed timestamp describe it -- as if it had
        just arrived, with ``iss`` (the cookie) as its ISS.  The SYN-ACK went out
        statelessly long ago: nothing is sent again, and the handshake is not timed
        (Linux: snt_synack = 0).  Call it on a new :meth:`become_listener_child` TCB; the
        final ACK is to be received next."""
        self.set_iss(iss)
        self.receive_segment(syn, now, src)
        self._out.clear()
        self._timed = None
        # Neither the SYN (rebuilt) nor this SYN-ACK (never sent) is a segment of ours.
        self._count("OutSegs", -1)
        self.stats["segs_out"] -= 1
        self.stats["segs_in"] -= 1

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
        flags = S
        if self.config.ecn == 1:
            # RFC 3168 §6.1.1: an ECN-setup SYN has ECE and CWR set.
            self._ecn_requested = True
            flags |= Flags.ECE | Flags.CWR
        self._emit(now, flags, self.iss, options=opts, retrans=retrans)
        # Time the SYN (Karn: first transmission only) for an RTT sample (RFC 6298 §3).
        self._timed = None if retrans else (seq_add(self.iss, 1), now)

    def _send_syn_ack(self, now: float, retrans: bool = False) -> None:
        assert self._peer_offer is not None
        opts = syn_options(self.config, self._ts_now(now), self.ts_recent, self._peer_offer)
        flags = _SYN_ACK_ECE if self.ecn_ok else _SYN_ACK  # ECN-setup SYN-ACK
        self._emit(now, flags, self.iss, options=opts, retrans=retrans)
        self._timed = None if retrans else (seq_add(self.iss, 1), now)

    def send(self, data: bytes | bytearray | memoryview, now: float) -> int:
        """SEND (RFC 9293 §3.10.2): queue bytes; returns how many fit in the send buffer."""
        if self.state in (State.CLOSED, State.LISTEN):
            raise BrokenPipeError(errnos.EPIPE, "connection is not open")
        if self._fin_queued:
            raise BrokenPipeError(errnos.EPIPE, "connection closing: write side shut down")
        # The buffer copies only what fits, once (a bytes object that fits whole is
        # kept as it is: it cannot change under us).
        idle = len(self.sndbuf) == 0
        n = self.sndbuf.write(data)
        if n and idle:
            self.chrono.start(BUSY, now)  # Linux tcp_add_write_queue_tail
        if n < len(data):
            self.chrono.start(SNDBUF_LIMITED, now)  # the writer has to wait
        return n

    def recv(self, max_bytes: int = 1 << 30, now: float | None = None) -> bytes:
        """RECEIVE (RFC 9293 §3.10.3): take buffered in-order bytes.

        Returns b"" when nothing is buffered (check :attr:`at_eof` for end of stream).
        Reading opens the window; a window update is sent when it at least doubled
        (receiver SWS avoidance, RFC 9293 §3.8.6.2.2, as Linux's tcp_cleanup_rbuf).
        With ``now``, the buffer autotunes to what the application reads per RTT.
        """
        data = self.rcvbuf.read(max_bytes)
        if data and now is not None:
            self._autotune(len(data), now)
        if data and self.state in (State.ESTABLISHED, State.FIN_WAIT_1, State.FIN_WAIT_2):
            # Linux tcp_cleanup_rbuf: announce the window at once only if reading at
            # least doubled it ("freed lots of space"); otherwise the next ACK carries it.
            promised = max(seq_sub(self._rcv_adv, self.rcv_nxt), 0)
            new = self._rcv_window()
            if new >= max(2 * promised, 1) and new - promised >= self.eff_mss:
                self._ack_pending = True  # window update
        return data

    def _autotune(self, copied: int, now: float) -> None:
        """Receive-buffer autotuning, like Linux's tcp_rcv_space_adjust (dynamic right
        sizing): once per RTT, if the application read more than the buffer's window in
        that RTT, grow the buffer to hold twice that (plus 16 segments), up to
        ``rcvbuf_max``; never when SO_RCVBUF fixed the buffer."""
        if self.config.rcvbuf_locked:
            return
        self._rcvq_copied += copied
        if self._rcvq_time is None:
            self._rcvq_time = now
            return
        rtt = self.rto.srtt or 0.1
        if now - self._rcvq_time < rtt:
            return
        copied_rtt, self._rcvq_copied, self._rcvq_time = self._rcvq_copied, 0, now
        window_space = self.config.rcvbuf // 2
        if copied_rtt <= window_space // 2:
            return
        want = 2 * (2 * copied_rtt + 16 * self.config.mss)  # window = half the buffer
        new = min(max(want, self.config.rcvbuf), self.config.rcvbuf_max)
        if new > self.config.rcvbuf:
            self.config = self.config.with_(rcvbuf=new)
            self.rcvbuf.capacity = new
            self._count("TCPRcvBufGrown")

    @property
    def at_eof(self) -> bool:
        """All bytes before the peer's FIN have been read (or, after SHUT_RD, all that
        is buffered)."""
        return (self._peer_fin or self._read_closed) and len(self.rcvbuf) == 0

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
        """SHUT_RD.  Nothing is sent (TCP has no way to say it); as on Linux, data
        already buffered or arriving later is still acknowledged, queued and returned
        by reads, and a read with nothing buffered reports end of stream."""
        self._read_closed = True

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
            self._send_active_rst(now)
        self.sndbuf.clear()
        self.rcvbuf.clear()
        self.board.clear()
        self._set_state(Trigger.ABORT)

    # ------------------------------------------------------------------------------
    # Output
    # ------------------------------------------------------------------------------

    def next_event(self) -> ev.Event | None:
        return self._events.pop(0) if self._events else None

    # Segment arrives (RFC 9293 §3.10.7)
    # ------------------------------------------------------------------------------

    def receive_segment(self, seg: TCPSegment, now: float, src: Address | None = None) -> None:
        """Process one incoming segment.  ``src`` is the sender's address, needed in LISTEN."""
        self.stats["segs_in"] += 1
        if seg.payload:
            self.stats["data_segs_in"] += 1
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
        # Linux tcp_openreq_init_rwin: the first window in whole segments of the MSS
        # less the timestamp option when timestamps are on.
        self._rcv_ssthresh = self._initial_window(
            self.config.mss - (12 if self.agreement.timestamps else 0)
        )
        ecn_setup = Flags.ECE | Flags.CWR
        self.ecn_ok = self.config.ecn in (1, 2) and seg.flags & ecn_setup == ecn_setup
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
            self.snd_una = self.snd_nxt = seg.ack  # our SYN is acknowledged
            self._rtt_sample(seg, seg.ack, now)
        if seq_gt(self.snd_una, self.iss):
            # Our SYN has been ACKed: ESTABLISHED, <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
            self.snd_wnd = seg.window  # unscaled in a SYN-ACK (RFC 7323 §2.2)
            self.max_snd_wnd = self.snd_wnd
            self.snd_wl1, self.snd_wl2 = seg.seq, seg.ack
            self._rto_deadline = None
            self.rto.reset_backoff()
            self._init_cc(now)
            self._syn_retries = 0
            self._retrans_stamp = None  # the handshake's retransmissions are over
            self._last_rcv = now  # the peer was last heard from (keepalive's user timeout)
            # RFC 3168 §6.1.1: an ECN-setup SYN-ACK has ECE set and CWR clear.
            self.ecn_ok = (
                self._ecn_requested and bool(seg.flags & Flags.ECE) and not (seg.flags & Flags.CWR)
            )
            self._set_state(Trigger.RCV_SYN_ACK)
            self._arm_keepalive(now)
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

    def _take_timestamp(self, seg: TCPSegment) -> None:
        ts = seg.timestamps
        if ts is not None and self.agreement is not None and self.agreement.timestamps:
            self.ts_recent = ts[0]

    # --- the synchronized states and SYN_RECEIVED (§3.10.7.4) ------------------------

    def _acceptable(self, seg: TCPSegment, seg_len: int) -> bool:
        """The sequence-number test of RFC 9293 §3.10.7.4 (first step), in the form Linux
        applies it (tcp_sequence): the segment must not end before the left edge of the
        window last announced, nor begin beyond its right edge.

        For segments inside the window this is the RFC's four-case test; it also admits a
        segment that starts exactly at RCV.NXT when the window is zero, such as a bare FIN
        (Linux accepts it to break FIN/ACK loops) or data that is then dropped with an ACK
        that repeats the zero window.  ``seg_len`` is SEG.LEN (RFC 9293 §3.4).
        """
        wnd = max(seq_sub(self._rcv_adv, self.rcv_nxt), 0)
        end = seq_add(seg.seq, seg_len)
        left = self._last_ack_sent
        return seq_ge(end, left) and seq_le(seg.seq, seq_add(self.rcv_nxt, wnd))

    def _segment_in_other(self, seg: TCPSegment, now: float) -> None:
        st = self.state
        flags = int(seg.flags)
        # A retransmitted SYN in SYN_RECEIVED: answer with the SYN-ACK again (Linux
        # tcp_check_req), rather than a bare ACK.
        if st is State.SYN_RECEIVED and flags & _SYN and not flags & _ACK and seg.seq == self.irs:
            self._send_syn_ack(now, retrans=True)
            return
        # Simultaneous open: the peer's SYN,ACK reaches us in SYN_RECEIVED.  Its SYN is
        # old but its ACK is new; take it as the ACK of our SYN (Linux
        # tcp_validate_incoming makes the same exception to RFC 5961 §4.2).
        simultaneous = (
            st is State.SYN_RECEIVED
            and flags & _SYN
            and flags & _ACK
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
            flags = int(seg.flags)
        syn, fin, rst, has_ack = flags & _SYN, flags & _FIN, flags & _RST, flags & _ACK

        # PAWS (RFC 7323 §5.3): a segment whose TSval is older than TS.Recent is an old
        # duplicate: acknowledge it (unless it is an RST) and drop it.
        ts = seg.timestamps
        agreed = self.agreement is not None and self.agreement.timestamps
        tsval = ts[0] if ts is not None and agreed else None
        if (
            tsval is not None
            and st is not State.SYN_RECEIVED
            and not rst
            and seq_lt(tsval, self.ts_recent)
        ):
            self._count("PAWSEstab")
            self._send_ack(now)
            return

        # first: check the sequence number.
        if not self._acceptable(seg, len(seg.payload) + (1 if syn else 0) + (1 if fin else 0)):
            if rst:
                return
            if st is State.TIME_WAIT and fin:
                # §3.10.7.4 eighth, TIME-WAIT: a retransmitted FIN is acknowledged and
                # the 2 MSL timeout restarted.
                self._tw_deadline = now + self.config.time_wait
            if syn and st in SYNCHRONIZED:
                self._challenge_ack(now)  # RFC 5961 §4.2 (any SYN, in or out of window)
                return
            self._count("TCPOutOfWindow")
            old = seg.payload and seq_lt(seg.seq, self.rcv_nxt)
            if old and self.sack_ok and self.config.dsack:
                # RFC 2883 §4 (Linux tcp_send_dupack): report the duplicate.
                end = seq_add(seg.seq, len(seg.payload))
                if seq_gt(end, self.rcv_nxt):
                    end = self.rcv_nxt
                self.rcvbuf.note_duplicate(seg.seq, seq_sub(end, seg.seq))
            self._send_ack(now)
            return

        self._last_rcv = now
        if self.config.keepalive:
            self._arm_keepalive(now)  # any segment from the peer shows it is alive
        if flags & _CWR and not syn:
            self._ece_pending = False  # RFC 3168 §6.1.3

        # second: check the RST bit (RFC 5961 §3.2: only an exact match resets).
        if rst:
            if seg.seq != self.rcv_nxt:
                self._challenge_ack(now)
                return
            self._on_valid_rst(now)
            return

        # fourth: a SYN in a synchronized state (or SYN_RECEIVED): challenge ACK,
        # RFC 5961 §4.2 (which replaces RFC 9293's reset).
        if syn:
            self._challenge_ack(now)
            return

        # fifth: the ACK field.
        if not has_ack:
            return
        if st is State.SYN_RECEIVED:
            if seq_lt(self.snd_una, seg.ack) and seq_le(seg.ack, self.snd_nxt):
                self.snd_wnd = seg.window << (self.agreement.snd_wscale if self.agreement else 0)
                self.max_snd_wnd = max(self.max_snd_wnd, self.snd_wnd)
                self.snd_wl1, self.snd_wl2 = seg.seq, seg.ack
                self._syn_retries = 0
                if tsval is not None:
                    self.ts_recent = tsval  # as _take_timestamp does
                self.snd_una = seg.ack
                self._rtt_sample(seg, seg.ack, now)
                self._rto_deadline = None
                self.rto.reset_backoff()
                self._init_cc(now)
                self._retrans_stamp = None  # Linux tcp_rcv_state_process: retrans_stamp = 0
                self._arm_keepalive(now)
                self._set_state(Trigger.RCV_ACK_OF_SYN)
                if self._fin_queued:  # close() was called in SYN_RECEIVED
                    self._set_state(Trigger.CLOSE_SND_FIN)
            else:
                self._send_rst(now, seg.ack)  # <SEQ=SEG.ACK><CTL=RST>
                return
            st = self.state
        else:
            # RFC 5961 §5.2: acceptable if SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT.
            if seq_gt(seg.ack, self.snd_max):
                # An ACK of data never sent.  RFC 9293 §3.10.7.4 and RFC 5961 §5.2 answer
                # with an ACK; Linux (tcp_rcv_established: tcp_ack < 0 -> discard) drops
                # it silently in ESTABLISHED and sends a challenge ACK in the other
                # states (tcp_rcv_state_process).  Either way nothing of it is used, not
                # even its timestamp (packetdrill ts_recent/invalid_ack).
                self._count("TCPAckUnsentData")
                if st is not State.ESTABLISHED:
                    self._challenge_ack(now)
                return
            if seq_lt(seg.ack, seq_sub(self.snd_una, self.max_snd_wnd) & MASK):
                self._challenge_ack(now)
                return
            self._update_ts_recent(seg, ts)
            self._process_ack(seg, now)
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
            if fin:
                # Eighth step, TIME-WAIT: "The only thing that can arrive in this state
                # is a retransmission of the remote FIN.  Acknowledge it, and restart
                # the 2 MSL timeout."
                self._tw_deadline = now + self.config.time_wait
                self._ack_pending = True
            return

        # sixth: URG.  Urgent data is delivered in-line (RFC 6093 §3); nothing to do.
        # seventh: segment text.
        st = self.state
        if seg.payload and st in (State.ESTABLISHED, State.FIN_WAIT_1, State.FIN_WAIT_2):
            if self._orphan:
                # Linux: data for a socket nobody reads any more -> reset
                # (RFC 9293 §3.10.4 leaves it open; LINUX_MIB_TCPABORTONDATA).
                self._count("TCPAbortOnData")
                # Linux answers the segment (tcp_v4_send_reset): <SEQ=SEG.ACK><CTL=RST>,
                # which the peer takes even if our FIN has not reached it (RFC 5961 §3.2
                # wants RCV.NXT exactly; SND.NXT is one past it then).
                self._send_rst(now, seg.ack)
                self.sndbuf.clear()
                self._set_state(Trigger.RCV_DATA_AFTER_CLOSE)
                return
            self._receive_text(seg, now)
            # CLOSE_WAIT, CLOSING, LAST_ACK: the peer already sent FIN; ignore text.

        # eighth: FIN, once everything before it has arrived.
        fin_now = False
        if fin:
            fin_seq = seq_add(seg.seq, len(seg.payload))
            if fin_seq == self.rcv_nxt:
                fin_now = True
            elif seq_gt(fin_seq, self.rcv_nxt):
                self.rcvbuf.ooo_fin = fin_seq
            elif self._peer_fin:
                self._ack_pending = True  # a retransmitted FIN: acknowledge it again
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

    def _update_ts_recent(self, seg: TCPSegment, ts: tuple[int, int] | None) -> None:
        """RFC 7323 §4.3: TS.Recent <- SEG.TSval if SEG.SEQ =< Last.ACK.sent (``ts`` is
        the segment's (TSval, TSecr), or None)."""
        if ts is None or not (self.agreement and self.agreement.timestamps):
            return
        if seq_le(seg.seq, self._last_ack_sent) and seq_ge(ts[0], self.ts_recent):
            self.ts_recent = ts[0]

    def _receive_text(self, seg: TCPSegment, now: float) -> None:
        """Seventh step: accept the in-window part of the text (RFC 9293 §3.10.7.4)."""
        data = seg.payload
        seq = seg.seq
        # Trim what lies before RCV.NXT (a duplicate: D-SACK it, RFC 2883 §4) or beyond
        # the window we announced.
        before = seq_sub(self.rcv_nxt, seq)
        if before > 0:
            if self.config.dsack and self.sack_ok:
                self.rcvbuf.note_duplicate(seq, min(before, len(data)))
            data = data[before:]
            seq = self.rcv_nxt
        room = seq_sub(self._rcv_adv, seq)
        if seq == self.rcv_nxt and room > 0:
            # In order with the window open: Linux queues the whole segment, even past
            # the window, while the buffer holds less than its size (tcp_data_queue,
            # tcp_try_rmem_schedule), so memory stays within rcvbuf plus one segment.
            if len(self.rcvbuf) + self.rcvbuf.ooo_bytes >= self.config.rcvbuf:
                self._count("TCPRcvQDrop")
                data = b""
        elif room < len(data):
            # Out of order, or a zero window: keep only what the window covers.
            self._count("TCPRcvWndOverflow")
            data = data[: max(room, 0)]
        if not data:
            self._ack_pending = True  # a duplicate, or no room: acknowledge at once
            return
        if seg.ip_ecn == CE:
            # RFC 3168 §6.1.3: echo ECE until CWR; Linux also ACKs quickly.
            self._ece_pending = True
            self.acks.enter_quickack(self._rcv_window())
        had_gap = self.rcvbuf.ooo_bytes > 0
        advanced = self.rcvbuf.accept(self.rcv_nxt, seq, data)
        if not advanced:
            # Out of order: acknowledge at once, with SACK (RFC 5681 §4.2, RFC 2018 §4).
            self._ack_pending = True
            return
        self.rcv_nxt = seq_add(self.rcv_nxt, advanced)
        self._data_rcvd_at = now  # Linux tcp_event_data_recv: lrcvtime
        self.stats["bytes_received"] += advanced
        events = self._events
        if events and type(last := events[-1]) is ev.DataReceived:
            # Not yet handed out (a receive batch defers events): one notice for all
            # the new bytes, as one wake-up of a reader covers all that is buffered.
            events[-1] = ev.DataReceived(last.length + advanced)
        else:
            events.append(ev.DataReceived(advanced))
        self._grow_window(advanced)
        # The window only matters for the first data (the quick-ACK grant).
        wnd = 0 if self.acks.started else self._rcv_window()
        self.acks.on_data(advanced, self.config.mss, wnd, now, seg.gso_size)
        if had_gap or self.acks.ack_now():
            self._ack_pending = True  # a gap filled, quick-ACK mode, or 2 full segments
        else:
            self.acks.schedule(now)  # delayed ACK (RFC 9293 §3.8.6.3)

    def _grow_window(self, advanced: int) -> None:
        """Linux tcp_grow_window: let the announced window grow towards the buffer as
        in-order data arrives (two MSS per segment)."""
        top = self.config.rcvbuf // 2
        if self._rcv_ssthresh < top:
            self._rcv_ssthresh = min(self._rcv_ssthresh + 2 * self.config.mss, top)

    def _on_fin(self, now: float, fin_acked: bool) -> None:
        """Eighth step: the peer's FIN (RFC 9293 §3.10.7.4)."""
        st = self.state
        self.rcv_nxt = seq_add(self.rcv_nxt, 1)  # the FIN takes one sequence number
        self._peer_fin = True
        self._events.append(_PEER_CLOSED)
        if st in (State.SYN_RECEIVED, State.ESTABLISHED):
            # The ACK of the FIN follows the delayed-ACK rules: at once in quick-ACK
            # mode (as Linux 6.x does, e.g. packetdrill tcp_rcv_zero_wnd_fin), delayed in
            # an interactive exchange, where the application's answer can carry it.  It
            # is only sent when the events have been handed to the application, so a FIN
            # the application sends at once carries it (the three-segment close).
            self.acks.unacked += 1
            if self.acks.ack_now():
                self._ack_pending = True
            else:
                self.acks.schedule(now)
            self._set_state(Trigger.RCV_FIN)
            return
        self._ack_pending = True  # FIN_WAIT_1/2: acknowledged at once (Linux tcp_fin)
        if st is State.FIN_WAIT_1:
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
