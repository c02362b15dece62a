"""Sending: what leaves, when, and how much (RFC 9293 §3.8.6, RFC 5681, RFC 6675 NextSeg,
RFC 6937 PRR, Nagle's algorithm RFC 9293 §3.7.4, sender SWS avoidance §3.8.6.2.1).

Data, retransmissions, the FIN and owed ACKs are only turned into segments when the
connection is flushed (:meth:`Output.segments_to_send`), so writes made together
coalesce and an ACK the application's reaction makes unnecessary is merged.
"""

from __future__ import annotations

from synack.tcp.chrono import RWND_LIMITED
from synack.tcp.rack import probe_timeout
from synack.tcp.scoreboard import SentSegment
from synack.tcp.seq import seq_add, seq_ge, seq_gt, seq_lt, seq_sub
from synack.tcp.states import SYNCHRONIZED, State
from synack.tcp.tcb import TCB
from synack.wire.tcp import TCPSegment, flags_of

_FIN, _PSH, _ACK = 0x01, 0x08, 0x10

#: States in which our send side may still carry data or a FIN.
SENDING = frozenset(
    {State.ESTABLISHED, State.CLOSE_WAIT, State.FIN_WAIT_1, State.CLOSING, State.LAST_ACK}
)


class Output(TCB):
    __slots__ = ()

    def segments_to_send(self, now: float) -> list[TCPSegment]:
        """Segments to transmit now: control segments already made, then retransmissions,
        new data and the FIN as the windows allow, then a pure ACK if one is owed."""
        if self.state in SENDING:
            self._send_data(now)
        if self._ack_pending and self.state in SYNCHRONIZED:
            self._send_ack(now)
        self._ack_pending = False
        out, self._out = self._out, []
        return out

    # --- budget ---------------------------------------------------------------------

    def _budget(self) -> int:
        """Bytes the congestion state lets us send now: cwnd - pipe (RFC 6675 §5), or
        PRR's allowance during fast recovery (RFC 6937)."""
        if self.prr is not None:
            return self._prr_allowance
        return self.cwnd - self._pipe()

    # (_prr_allowance, _idle_reported, _cwnd_usage_seq, _max_packets_out,
    # _is_cwnd_limited and _snd_sml, the end of the last small segment sent for
    # Minshall's rule, are set up in TCB.__init__.)

    def _spend(self, n: int) -> None:
        if self.prr is not None:
            self.prr.sent(n)
            self._prr_allowance -= n

    # --- the sending loop -----------------------------------------------------------

    def _send_data(self, now: float) -> None:
        self._pacing_deadline = None  # set again below if pacing still holds data back
        if self.cc is None:
            return
        if (
            not self.board.segments
            and self.sndbuf.available_from(self.snd_nxt) <= 0
            and (self._fin_seq is None or self.snd_nxt != self._fin_seq)
        ):
            # Nothing in flight and nothing waiting, neither data nor the FIN (a pure
            # receiver, or an idle connection): what the loop below concludes, without it.
            self.chrono.stop(RWND_LIMITED, now, len(self.sndbuf) == 0)
            self._arm_persist(now)
            return
        mss = self.eff_mss
        # Idle since the last *data* sent (Linux lsndtime, tcp_slow_start_after_idle_check):
        # ACKs and zero-window probes sent meanwhile do not count.
        last = self._data_sent_at
        resuming = (
            not self.board.segments
            and now > last
            and last != self._idle_reported
            and self.sndbuf.available_from(self.snd_nxt) > 0
        )
        burst: list[TCPSegment] = []
        cwnd_limited = False
        # TSO sizing matters only when more than one segment waits (_next_new).
        tso = self._tso_bytes(mss) if self.sndbuf.available_from(self.snd_nxt) > mss else 0
        paced = self.config.paces
        while True:
            budget = self._budget()
            lost = self.board.next_lost()
            if lost is not None:
                if budget < min(lost.length, self.eff_mss) and self.board.pipe > 0:
                    cwnd_limited = True
                    break
                if paced and self._pacing_holds(now):
                    break
                self._retransmit(lost, now)
                continue
            n, fin = self._next_new(now, mss, budget, tso)
            if resuming and n:
                # Sending resumes after a pause, as the first segment is about to leave
                # (not when data was written into a closed window, which may open much
                # later: Linux checks again on the window update, tcp_ack_update_window,
                # and shifts CUBIC's clock at the transmission, CA_EVENT_TX_START).  The
                # algorithm decides about restart after idle (RFC 5681 §4.1) and keeps
                # idle time out of CUBIC's clock (RFC 9438 §5.8), once per pause.
                resuming = False
                self._idle_reported = last
                self.cc.on_idle(now, now - last, self.rto.rto)
                continue  # a restart changes what cwnd allows
            if n == 0 and not fin:
                avail = self.sndbuf.available_from(self.snd_nxt)
                cwnd_limited = avail > 0 and budget < min(avail, mss)
                break
            if paced and self._pacing_holds(now):
                break
            burst.append(self._send_new(now, n, fin))
            if fin:
                break
        if len(burst) > 1 and self.config.gso_max_size <= 0:
            self._mark_tso_push(burst)
        if burst:
            self._arm_tlp(now)
        # Linux tcp_write_xmit: the next segment did not fit the peer's window although
        # cwnd allowed it (tcp_snd_wnd_test): receive-window-limited time runs.
        if not cwnd_limited and self._window_blocks_next():
            self.chrono.start(RWND_LIMITED, now)
        else:
            self.chrono.stop(RWND_LIMITED, now, len(self.sndbuf) == 0)
        # Linux tcp_write_xmit: the flight fills cwnd, whatever stopped the loop; and the
        # record changes only when something was sent or cwnd held data back (a call
        # that sends nothing -- all data out, waiting for ACKs -- keeps the window's
        # verdict, so the last ACKs of a cwnd-limited transfer still grow cwnd).
        if self.cc is not None and self._pipe() >= self.cc.cwnd:
            cwnd_limited = True
        if burst or cwnd_limited:
            self._validate_cwnd(cwnd_limited)
        self._arm_persist(now)

    def _pacing_holds(self, now: float) -> bool:
        """Linux tcp_pacing_check: a segment is ready to leave but its departure time
        (synack.tcp.pacing) is still ahead, so the pacing timer will send it.  Checked
        only when something would be sent, so that no timer is armed for nothing."""
        if self._wstamp <= now:
            return False
        self._pacing_deadline = self._wstamp
        return True

    def _tso_segs(self) -> int:
        """How many segments Linux would put in one TSO packet now (tcp_tso_autosize):
        about 1 ms worth of the pacing rate, which is mss * cwnd / srtt at 200 % in slow
        start and 120 % after (tcp_update_pacing_rate), at least 2 segments, at most 64 KB;
        a very short min RTT allows more (tcp_tso_rtt_log = 9)."""
        mss = self.eff_mss
        if self.cc is None:
            return 2
        srtt = self.rto.srtt
        gso_max = self.config.gso_max_size or 65536
        floor = self.config.min_tso_segs
        rate = self._pacing_rate()
        if not srtt or not rate:
            return max(gso_max // mss, floor)
        size = rate / 1024  # sk_pacing_shift = 10
        min_rtt = self.rack.min_rtt if self.rack.min_rtt is not None else srtt
        r = int(min_rtt * 1e6) >> 9
        if r < 32:
            size += gso_max >> r
        return max(int(min(size, gso_max) // mss), floor)

    def _tso_bytes(self, mss: int) -> int:
        """The largest TSO packet to build now, in octets of payload (a whole number of
        segments), or 0 when the link takes no offloaded packets (``gso_max_size`` 0).

        Linux tcp_tso_autosize and tcp_cwnd_test: :meth:`_tso_segs` segments, no more
        than half of cwnd; the IPv4 total length (16 bits) leaves room for the headers
        (Linux sk_gso_max_size = gso_max_size - MAX_TCP_HEADER - 1).
        """
        gso = self.config.gso_max_size
        if gso <= 0:
            return 0
        half = max(self.cwnd // mss // 2, 1)
        fit = max((min(gso, 65536) - 1 - 60 - 60) // mss, 1)
        return min(self._tso_segs(), half, fit) * mss

    def _mark_tso_push(self, burst: list[TCPSegment]) -> None:
        """Linux sends a burst as TSO/GSO packets of up to :meth:`_tso_segs` segments and
        forces PSH on every packet of more than one segment (__tcp_transmit_skb: "Force a
        PSH flag on all (GSO) packets"); after segmentation PSH is on the last segment of
        each such packet."""
        # Linux tcp_cwnd_test: no TSO packet takes more than half of cwnd, "to have at
        # least 2 GSO packets in flight".
        half = max(self.cwnd // self.eff_mss // 2, 1)
        size = min(self._tso_segs(), half)
        for i in range(0, len(burst), size):
            group = burst[i : i + size]
            if len(group) > 1:
                group[-1].flags = flags_of(int(group[-1].flags) | _PSH)

    def _validate_cwnd(self, cwnd_limited: bool) -> None:
        """Remember whether the window was used, once per window of data (Linux
        tcp_cwnd_validate), so that an application-limited flow's cwnd does not grow
        (RFC 7661)."""
        out = len(self.board.segments)
        if (
            self._cwnd_usage_seq is None
            or seq_ge(self.snd_una, self._cwnd_usage_seq)
            or cwnd_limited
            # A larger flight replaces the record only while no window is known to have
            # been used: a cwnd-limited window stays so until it is acknowledged.
            or (not self._is_cwnd_limited and out > self._max_packets_out)
        ):
            self._max_packets_out = out
            self._cwnd_usage_seq = self.snd_nxt
            self._is_cwnd_limited = cwnd_limited

    def _cwnd_limited(self) -> bool:
        """Linux tcp_is_cwnd_limited: the window was used, or in slow start cwnd is below
        twice the largest flight of the last window."""
        if self._is_cwnd_limited:
            return True
        mss = self.eff_mss
        if self.cc is not None and self.cc.in_slow_start:
            return self.cc.cwnd < 2 * self._max_packets_out * mss
        return False

    def _next_new(self, now: float, mss: int, budget: int, tso: int = 0) -> tuple[int, bool]:
        """How many new bytes to send in the next segment, and whether the FIN goes too.

        With segmentation offload (``tso`` octets, see :meth:`_tso_bytes`) the segment may
        carry several MSS of payload: as many whole segments as the congestion budget and
        the peer's window allow (Linux tcp_write_xmit: tcp_cwnd_test, tcp_mss_split_point).
        """
        avail = self.sndbuf.available_from(self.snd_nxt)
        fin_due = self._fin_seq is not None and seq_add(self.snd_nxt, avail) == self._fin_seq
        if self._fin_seq is not None and not seq_lt(self.snd_nxt, seq_add(self._fin_seq, 1)):
            return 0, False  # FIN already sent
        room = seq_sub(seq_add(self.snd_una, self.snd_wnd), self.snd_nxt)
        # Linux tcp_cwnd_test: "Don't be strict about the congestion window for the
        # final FIN": a one-segment packet carrying the FIN goes whatever cwnd says.
        final = fin_due and avail <= mss
        if budget < min(avail, mss) and self.board.segments and not final:
            # The congestion window counts whole segments, as Linux's snd_cwnd does:
            # no runt segment just to fill the last bytes of cwnd.
            return 0, False
        n = max(min(avail, mss, room), 0)
        if avail == 0:
            # Only the FIN is left: it needs no window space, and no congestion budget.
            return 0, fin_due
        if n == 0:
            return 0, False
        if tso > mss and avail > mss and room >= 2 * mss:
            quota = budget // mss if self.board.segments else tso // mss
            k = min(tso, room) // mss
            k = min(k, max(quota, 1))
            if k >= 2:
                n = min(avail, k * mss)
                if n == avail and n % mss and self._nagle_holds():
                    n -= n % mss  # Nagle holds the small tail back (tcp_mss_split_point)
                return n, bool(fin_due and n == avail)
        if n < avail and n < mss:
            # A piece cut short by the window: sender SWS avoidance (RFC 9293 §3.8.6.2.1)
            # sends it only if it is at least half the largest window the peer offered.
            if n < self.max_snd_wnd // 2:
                return 0, False
        elif n < mss and self._nagle_holds():
            return 0, False
        return n, bool(fin_due and n == avail)

    def _nagle_holds(self) -> bool:
        """Nagle (RFC 9293 §3.7.4) in Minshall's form, as Linux applies it
        (tcp_minshall_check): a small segment waits while an earlier small segment is
        unacknowledged.  TCP_NODELAY turns it off; closing pushes the tail out at once
        (tcp_send_fin)."""
        if self.config.nodelay or self._fin_queued:
            return False
        return self._snd_sml is not None and seq_gt(self._snd_sml, self.snd_una)

    def _send_new(self, now: float, n: int, fin: bool) -> TCPSegment:
        mss = self.eff_mss
        payload = self.sndbuf.slice(self.snd_nxt, n)
        bits = _ACK
        if n and n == self.sndbuf.available_from(self.snd_nxt):
            bits |= _PSH  # PSH on the last segment the user wrote (RFC 9293 §3.9.1.2)
        if n > mss:
            bits |= _PSH  # Linux forces PSH on GSO packets; it stays on the last piece
        if fin:
            bits |= _FIN
        flags = flags_of(bits)
        start = self.snd_nxt
        end = seq_add(start, n + (1 if fin else 0))
        seg = self._emit(now, flags, start, payload, gso_size=mss if n > mss else 0)
        tsval = self._seg_tsval(seg)
        if n > mss:
            # One scoreboard entry per wire segment, so that SACK, RACK and retransmission
            # work on the packets the peer sees, whatever the offload.
            board = self.board
            for off in range(0, n, mss):
                last = off + mss >= n
                piece_end = seq_add(start, min(off + mss, n) + (1 if fin and last else 0))
                board.add(
                    SentSegment(
                        seq_add(start, off), piece_end, now, now, fin=fin and last, tsval=tsval
                    )
                )
        else:
            self.board.add(SentSegment(start, end, now, now, fin=fin, tsval=tsval))
        self.snd_nxt = end
        if seq_gt(end, self.snd_max):
            self.snd_max = end
        self._spend(n + (1 if fin else 0))
        if self._rto_deadline is None:
            self._start_rto(now)  # RFC 6298 §5.1
        if n:
            self.acks.data_sent(now)
            if n < mss or (n > mss and n % mss):
                self._snd_sml = end
        return seg

    def _retransmit(self, s: SentSegment, now: float, *, probe: bool = False) -> None:
        """Resend one segment from the scoreboard (RFC 6675 NextSeg / RFC 8985 §6.3).
        Unless it is a tail loss probe (``probe``), the first retransmission of a loss
        episode starts the user timeout's clock (Linux tcp_retransmit_skb: "Save stamp
        of the first (attempted) retransmit", retrans_stamp)."""
        n = min(seq_sub(s.end, s.start) - (1 if s.fin else 0), self.eff_mss)
        if n < seq_sub(s.end, s.start) - (1 if s.fin else 0):
            self.board.split(s, n)  # the segment is larger than the MSS now
        payload = self.sndbuf.slice(s.start, n)
        bits = _ACK | (_FIN if s.fin else 0)
        if payload and n == self.sndbuf.available_from(s.start):
            bits |= _PSH
        flags = flags_of(bits)
        seg = self._emit(now, flags, s.start, payload, retrans=True)
        s.retransmits += 1
        s.xmit_time = now
        if not probe and self._retrans_stamp is None:
            self._retrans_stamp = now
        s.tsval = self._seg_tsval(seg)
        self.board.retransmitted(s)
        self._spend(seq_sub(s.end, s.start))
        if self._rto_deadline is None:
            self._start_rto(now)

    @staticmethod
    def _seg_tsval(seg: TCPSegment) -> int:
        ts = seg.timestamps
        return ts[0] if ts else 0

    # --- timers armed by sending -------------------------------------------------------

    def _arm_tlp(self, now: float) -> None:
        """Schedule a tail loss probe (RFC 8985 §7.2); Linux does so only with SACK."""
        if not self.sack_ok or self.in_recovery or self._tlp_high is not None:
            return
        if not self.config.tlp:
            return  # net.ipv4.tcp_early_retrans below 3
        if not self.board.segments:
            return
        rto_left = None if self._rto_deadline is None else self._rto_deadline - now
        pto = probe_timeout(self.rto.srtt, len(self.board.segments), rto_left)
        self._tlp_deadline = now + pto

    def _arm_persist(self, now: float) -> None:
        """The persist timer runs while the peer's window is zero, data waits and nothing
        is in flight to bring a window update (RFC 9293 §3.8.6.1)."""
        # Not only a zero window: one too small for the next segment, which sender SWS
        # avoidance holds back, also needs the timer, or a lost window update would
        # leave the connection waiting for ever (Linux tcp_check_probe_timer arms it
        # whenever nothing is in flight and data waits unsent).
        if self._window_blocks_next() and not self.board.segments:
            if self._persist_deadline is None:
                self._persist_deadline = now + self.rto.rto
        else:
            self._persist_deadline = None
            # The window opened, or data is in flight: Linux tcp_ack_probe and
            # tcp_probe_timer reset icsk_probes_tstamp (the user timeout's clock).
            self._probes_stamp = None
