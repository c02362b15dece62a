"""What an arriving ACK does on the sending side (RFC 9293 §3.10.7.4 fifth step).

It advances SND.UNA and frees the send buffer, marks SACKed segments (RFC 2018, RFC
6675), samples the RTT (RFC 7323 §4.1 or Karn, RFC 6298), detects losses with RACK
(RFC 8985) or, without SACK, with three duplicate ACKs (RFC 5681 §3.2), enters and leaves
fast recovery (RFC 6582, RFC 6675) with PRR setting the pace (RFC 6937), grows the
congestion window outside recovery (RFC 5681, RFC 9438), reacts to ECN echoes
(RFC 3168 §6.1.2), and updates the send window (SND.WL1/SND.WL2).
"""

from __future__ import annotations

from synack.tcp import events as ev
from synack.tcp.chrono import BUSY, SNDBUF_LIMITED
from synack.tcp.prr import PRR
from synack.tcp.rack import DUPTHRESH
from synack.tcp.scoreboard import SentSegment
from synack.tcp.seq import MASK, seq_ge, seq_gt, seq_le, seq_lt, seq_sub
from synack.tcp.states import SYNCHRONIZED, State
from synack.tcp.tcb import TCB
from synack.wire.tcp import TCPSegment


class AckInput(TCB):
    __slots__ = ()

    def _cwnd_limited(self) -> bool:
        raise NotImplementedError  # provided by Output

    def _process_ack(self, seg: TCPSegment, now: float) -> None:
        ack = seg.ack
        self._ack_rcvd_at = now  # Linux tcp_ack: rcv_tstamp
        if (
            ack == self.snd_una
            and not self.board.segments
            and self.prr is None
            and self.recovery_point is None
            and self._retrans_stamp is None
            and self._ecn_reduced_until is None
            and not (int(seg.flags) & 0x40 and self.ecn_ok)
        ):
            # Nothing outstanding and nothing new acknowledged -- every segment a pure
            # receiver gets (Linux tcp_ack's "no_queue" exit): no RTT sample, no loss to
            # detect, no cwnd change, no duplicate ACK (RFC 5681 §2 wants data
            # outstanding); only the window may move.
            if self.sack_ok:
                self._reorder_deadline = None
            self._update_window(seg, ack)
            return
        mss = self.eff_mss
        prior_una = self.snd_una
        prior_pipe = self._pipe()
        delivered: list[SentSegment] = []
        newly_sacked: list[SentSegment] = []
        prior_dupacks = 0
        acked = 0
        if seq_lt(self.snd_una, ack) and seq_le(ack, self.snd_max):
            acked = seq_sub(ack, self.snd_una)
            self.stats["bytes_acked"] += acked
            self.snd_una = ack
            if seq_lt(self.snd_nxt, ack):
                self.snd_nxt = ack
            self.sndbuf.acknowledge(ack)
            cumulative = self.board.acknowledge(ack)
            delivered += cumulative
            sampled = self._ack_timing(cumulative, now)
            self.retransmits = 0
            prior_dupacks = self.dupacks
            self.dupacks = 0
            if self.cc is not None and (self._round_end is None or seq_ge(ack, self._round_end)):
                # A round (one window of data) ended: RFC 9406 §4.2's windowEnd.
                self.cc.on_round_start(now)
                self._round_end = self.snd_nxt
            if self._tlp_high is not None and seq_ge(ack, self._tlp_high):
                self._tlp_high = None  # RFC 8985 §7.4: the probe's episode is over
        else:
            sampled = False
        if self.sack_ok and seg.sack_blocks:
            newly_sacked = self.board.apply_sack(seg.sack_blocks, self.snd_una)
            delivered += newly_sacked
            if not sampled:
                sampled = self._ack_timing(newly_sacked, now, sack=True)
        if not sampled and acked:
            self._ts_rtt_sample(seg, now)  # RFC 7323 §4.1 (Linux: only when timing has none)
        # RFC 6937 DeliveredData, counted in segments as Linux counts packets
        # (newly_acked_sacked): a small segment delivered counts as one MSS, so that cwnd
        # and PRR behave per packet like the kernel's.
        # Segments SACKed before and now acknowledged were delivered already.
        fresh = {id(s) for s in newly_sacked}
        # What this ACK delivered for the first time: RACK and PRR count only these; a
        # segment SACKed earlier and now covered by the cumulative ACK was counted then
        # (and would look like reordering to RACK, RFC 8985 §6.2 step 3).
        newly = [s for s in delivered if not s.sacked or id(s) in fresh]
        delivered_data = len(newly) * mss
        if acked and not delivered:
            delivered_data = mss  # part of a segment was acknowledged
        if acked and not self.sack_ok and prior_dupacks:
            # Without SACK each duplicate ACK already counted one delivered segment;
            # the ACK that fills the hole delivers the rest (Linux tcp_remove_reno_sacks:
            # delivered += max(acked - sacked_out, 1)).
            delivered_data = max(delivered_data - prior_dupacks * mss, mss)

        if (
            not acked
            and ack == prior_una
            and not seg.payload
            and not int(seg.flags) & 0x03  # neither SYN nor FIN
            and self.board.segments
            and (seg.window << (self.agreement.snd_wscale if self.agreement else 0)) == self.snd_wnd
        ):
            self.dupacks += 1  # RFC 5681 §2 DUPLICATE ACKNOWLEDGMENT
            self._count("TCPDupAcks")
            if not self.sack_ok:
                delivered_data += mss  # RFC 6937 §3: a duplicate ACK delivered one MSS
        self.stats["delivered"] += delivered_data // mss

        ts = seg.timestamps
        ecr = ts[1] if ts and self.agreement and self.agreement.timestamps else None
        self.rack.update(newly, now, ecr, mss)
        marked_before = self.board.marked_lost
        self._detect_loss(now, acked, any(s.retransmits for s in newly))
        new_loss = self.board.marked_lost != marked_before

        if self.recovery_point is not None and seq_ge(self.snd_una, self.recovery_point):
            self._exit_recovery(now)  # RFC 6582 §3.2 step 3: a full acknowledgment
        if not self.in_recovery and self._retrans_stamp is not None:
            self._retrans_stamp_cleanup()
        if not self.in_recovery and self.board.lost_bytes > 0:
            self._enter_recovery(now, prior_pipe)
        # ECE; not in TIME_WAIT, which sends nothing more (Linux's timewait socket runs no
        # tcp_ack), whether the connection is whole or a record (synack.tcp.timewait).
        if int(seg.flags) & 0x40 and self.ecn_ok and self.state is not State.TIME_WAIT:
            self._on_ece(now)  # before PRR: the echoing ACK's deliveries count (Linux)
        if self.prr is not None:
            safe = bool(acked) and not new_loss
            pipe = self._pipe()
            self._prr_allowance = self.prr.sndcnt(delivered_data, pipe, safe)
            self._prr_cwnd = pipe + self._prr_allowance  # Linux's snd_cwnd in recovery
        elif (
            self.cc is not None
            and self._ecn_reduced_until is None
            and self._may_raise_cwnd(acked, bool(newly_sacked))
        ):
            app_limited = not self._cwnd_limited()
            self.cc.on_ack(delivered_data, now, self.rto.srtt, prior_pipe, app_limited)

        if self._ecn_reduced_until is not None and seq_ge(self.snd_una, self._ecn_reduced_until):
            # The reduction's round is over (Linux tcp_end_cwnd_reduction): cwnd = ssthresh.
            self._ecn_reduced_until = None
            if self.prr is not None and not self.in_recovery and self.cc is not None:
                self.prr = None
                self.cc.on_recovery_end(now)

        if acked:
            # RFC 6298 §5.2/§5.3: stop the timer when all is acked, else restart it.
            if not self.board.segments:
                self._rto_deadline = None
                self._tlp_deadline = None
                self._reorder_deadline = None
            else:
                self._start_rto(now)
            if self.state in SYNCHRONIZED:
                self._events.append(ev.SendBufferSpace(self.sndbuf.free))
            # Linux tcp_check_space and tcp_clean_rtx_queue: room in the send buffer ends
            # a send-buffer-limited stretch; nothing left outstanding ends busy time.
            idle = len(self.sndbuf) == 0
            self.chrono.stop(SNDBUF_LIMITED, now, idle)
            if not self.board.segments:
                self.chrono.stop(BUSY, now, idle)
        self._update_window(seg, prior_una)

    def _may_raise_cwnd(self, acked: int, sacked: bool) -> bool:
        """Linux tcp_may_raise_cwnd: cwnd grows, by what was acknowledged or SACKed,
        when SND.UNA advances (in-order delivery, RFC 5681); once reordering has been
        seen beyond the DupThresh, on any forward progress, a new SACK included."""
        if self.rack.reordering > DUPTHRESH:
            return bool(acked) or sacked
        return bool(acked)

    # --- loss detection and recovery ---------------------------------------------------

    def _detect_loss(self, now: float, acked: int, retransmission_delivered: bool) -> None:
        mss = self.eff_mss
        if self.sack_ok:
            board = self.board
            if not (board.sacked_bytes or board.lost_bytes or retransmission_delivered):
                # Only in-order deliveries of first transmissions: every segment still
                # outstanding was sent after them, so RACK can find no loss (§6.2 step 5).
                self._reorder_deadline = None
                return
            reo = self.rack.reo_wnd(self.in_recovery, self.board, self.rto.srtt, mss)
            _lost, timeout = self.rack.detect_loss(self.board, now, reo)
            self._reorder_deadline = None if timeout is None else now + timeout
            return
        # No SACK: NewReno (RFC 6582).  The third duplicate ACK marks the first
        # unacknowledged segment lost (RFC 5681 §3.2 step 2); in recovery, a partial ACK
        # marks the next one (RFC 6582 §3.2 step 5).
        head = self.board.segments[0] if self.board.segments else None
        if head is None:
            return
        if not self.in_recovery and self.dupacks >= DUPTHRESH:
            if self.board.mark_lost(head):
                self._count("TCPFastRetrans")
        elif (
            self.recovery_point is not None and acked and seq_lt(self.snd_una, self.recovery_point)
        ):
            # A partial ACK: it covers some but not all of what was outstanding when
            # the loss was found ("recover"), so the next segment is lost too.
            self.board.mark_lost(head)

    def _enter_recovery(self, now: float, prior_pipe: int) -> None:
        """Fast recovery begins (RFC 6675 §5 step 4, RFC 6582 §3.2, RFC 6937)."""
        assert self.cc is not None
        if self._cwr_to_recovery():
            return
        flight = seq_sub(self.snd_max, self.snd_una)
        prior_cwnd = self.cc.cwnd
        self.cc.on_congestion_event(now, self._reduction_base(flight))
        self._whole_segments()
        self.recovery_point = self.snd_max
        # RecoverFS: Linux uses the cwnd before the reduction (tcp_init_cwnd_reduction).
        self.prr = PRR(self.cc.ssthresh, max(prior_cwnd, prior_pipe, 1), self.eff_mss)
        self._prr_allowance = 0
        self._count("TCPRecoveries")

    def _retrans_stamp_cleanup(self) -> None:
        """Linux tcp_retrans_stamp_cleanup (tcp_try_to_open, tcp_try_undo_recovery,
        tcp_enter_recovery): out of recovery, or as a new one begins, with no
        retransmission left in the network (tcp_any_retrans_done), the loss episode is
        over and the next one starts the user timeout's clock afresh."""
        head = self.board.segments[0] if self.board.segments else None
        if (head is None or not head.retransmits) and not self.board.retrans_out():
            self._retrans_stamp = None

    def _whole_segments(self) -> None:
        """ssthresh counts whole segments, as Linux's snd_ssthresh counts packets."""
        assert self.cc is not None
        mss = self.eff_mss
        self.cc.ssthresh = max(self.cc.ssthresh // mss * mss, 2 * mss)

    def _exit_recovery(self, now: float) -> None:
        assert self.cc is not None
        self.recovery_point = None
        self.prr = None
        if self._rto_recovery:
            self._rto_recovery = False  # Linux leaves TCP_CA_Loss without touching cwnd
        else:
            self.cc.on_recovery_end(now)

    def _on_ece(self, now: float) -> None:
        """RFC 3168 §6.1.2: reduce cwnd once per window of data, then say so with CWR."""
        if self.cc is None or self._ecn_reduced_until is not None or self.in_recovery:
            return
        prior_cwnd = self.cc.cwnd
        self.cc.on_congestion_event(now, self._reduction_base(seq_sub(self.snd_max, self.snd_una)))
        self._whole_segments()
        # Linux tcp_enter_cwr (since 3.7, "use PRR to reduce cwin in CWR state"): cwnd
        # comes down to ssthresh over the next round trip, paced by PRR (RFC 6937), not
        # at once; the reduction ends when this window is acknowledged.
        self.prr = PRR(self.cc.ssthresh, max(prior_cwnd, 1), self.eff_mss)
        self._prr_allowance = 0
        self._ecn_reduced_until = self.snd_max
        self._cwr_pending = True
        self._count("TCPECNReductions")

    # --- RTT, window ---------------------------------------------------------------------

    def _ack_timing(self, segments: list[SentSegment], now: float, sack: bool = False) -> bool:
        """An RTT sample from when the segments this ACK newly covers were sent, as Linux
        takes one on every ACK (tcp_clean_rtx_queue, tcp_sacktag_one,
        tcp_ack_update_rtt: "Prefer RTT measured from ACK's timing to TS-ECR").

        Karn's rule (RFC 6298 §3): a cumulative ACK that covers a retransmitted segment
        gives no sample; among newly SACKed segments (``sack``) the retransmitted ones
        are skipped.  Segments SACKed before were timed then.  The RTO takes the
        oldest segment's time (Linux seq_rtt), the congestion control the newest's
        (ca_rtt).  False when there is no sample."""
        oldest: float | None = None
        newest = 0.0
        for s in segments:
            if s.retransmits:
                if sack:
                    continue
                return False
            if s.sacked and not sack:
                continue
            if oldest is None:
                oldest = s.xmit_time
            newest = s.xmit_time
        if oldest is None:
            return False
        self._rtt_measured(now - oldest, now, now - newest)
        return True

    def _ts_rtt_sample(self, seg: TCPSegment, now: float) -> None:
        """RFC 7323 §4.1: the RTT from the echoed timestamp of an ACK that advances
        SND.UNA, in the timestamp clock's 1 ms units (Linux counts 0 as 1 ms)."""
        ts = seg.timestamps
        if ts is not None and self.agreement and self.agreement.timestamps and ts[1]:
            rtt_ms = (self._ts_now(now) - ts[1]) & MASK
            if rtt_ms < 1 << 31:
                self._rtt_measured(max(rtt_ms, 1) / 1000.0, now)

    def _rtt_sample(self, seg: TCPSegment, ack: int, now: float) -> None:
        """The handshake's RTT: from when the SYN (or SYN-ACK) was sent if it was sent
        once (Karn, RFC 6298 §3), else from the echoed timestamp (RFC 7323 §4.1) -- the
        order Linux takes them in (tcp_clean_rtx_queue, tcp_synack_rtt_meas)."""
        timed, self._timed = self._timed, None
        if timed is not None and seq_ge(ack, timed[0]):
            self._rtt_measured(now - timed[1], now)
            return
        if seq_gt(ack, self.iss):
            self._ts_rtt_sample(seg, now)

    def _rtt_measured(self, rtt: float, now: float, ca_rtt: float | None = None) -> None:
        prior_srtt = self.rto.srtt
        self.rto.sample(rtt, self.snd_una, self.snd_nxt)
        if self.cc is not None:
            # The slow-start exit (Linux's HyStart, or HyStart++).
            self.cc.on_rtt_sample(
                rtt if ca_rtt is None else ca_rtt,
                now,
                snd_una=self.snd_una,
                snd_nxt=self.snd_nxt,
                srtt=prior_srtt,
            )

    def _update_window(self, seg: TCPSegment, prior_una: int) -> None:
        """Take the peer's window from the newest segment (RFC 9293 §3.10.7.4, fifth
        step: SND.WL1 < SEG.SEQ, or WL1 = SEG.SEQ and WL2 =< SEG.ACK) and, as Linux does
        (tcp_may_update_window), from any ACK that advances SND.UNA: otherwise SND.UNA
        moves on with an old window and the sender may pass the peer's right edge."""
        ack = seg.ack
        shift = self.agreement.snd_wscale if self.agreement else 0
        nwin = seg.window << shift
        if not seq_le(self.snd_una, ack):
            return
        if (
            seq_gt(ack, prior_una)
            or seq_lt(self.snd_wl1, seg.seq)
            or (self.snd_wl1 == seg.seq and (seq_le(self.snd_wl2, ack) or nwin > self.snd_wnd))
        ):
            self.snd_wnd = nwin
            self.max_snd_wnd = max(self.max_snd_wnd, self.snd_wnd)
            self.snd_wl1, self.snd_wl2 = seg.seq, ack
            if (
                self._probes_stamp is not None
                and self.sndbuf.available_from(self.snd_nxt) > 0
                and not self._window_blocks_next()
            ):
                # Linux tcp_ack_probe: the window opened for the next segment, so the
                # zero-window probes' backoff ends (icsk_backoff = 0) before anything is
                # sent.  Only if probes went out: a backoff from real retransmissions
                # stands until a new RTT sample (RFC 6298 §5.7).
                self.rto.reset_backoff()
