"""Timer expiry: retransmission (RFC 6298 §5), tail loss probe and RACK reordering
(RFC 8985 §6.3, §7), persist (RFC 9293 §3.8.6.1), keepalive (RFC 9293 §3.8.4), delayed
ACK (RFC 9293 §3.8.6.3), TIME_WAIT (§3.10.8) and the FIN_WAIT_2 orphan timeout (Linux);
the user timeout (RFC 5482 TCP_USER_TIMEOUT) bounds the first three."""

from __future__ import annotations

import errno as errnos

from synack.tcp.output import Output
from synack.tcp.prr import PRR
from synack.tcp.seq import seq_add, seq_sub
from synack.tcp.states import State, Trigger
from synack.tcp.tcb import A

#: Linux tcp_clamp_rto_to_user_timeout: "user timeout has passed; fire ASAP" (1 jiffy,
#: HZ = 1000), and tcp_clamp_probe0_to_user_timeout's floor TCP_TIMEOUT_MIN (2 jiffies).
_ASAP = 0.001
_TIMEOUT_MIN = 0.002


class Timers(Output):
    __slots__ = ()

    def get_timer(self) -> float | None:
        """The earliest deadline of any running timer, or None."""
        best: float | None = None
        for d in (
            self._rto_deadline,
            self._tw_deadline,
            self._fw2_deadline,
            self._tlp_deadline,
            self._reorder_deadline,
            self._persist_deadline,
            self._keepalive_deadline,
            self._pacing_deadline,
            self.acks.deadline,
        ):
            if d is not None and (best is None or d < best):
                best = d
        return best

    def handle_timer(self, now: float) -> None:
        """Run every timer whose deadline has passed."""
        if self._tw_deadline is not None and now >= self._tw_deadline:
            self._tw_deadline = None
            self._set_state(Trigger.TIME_WAIT_TIMEOUT)
            return
        if self._fw2_deadline is not None and now >= self._fw2_deadline:
            self._fw2_deadline = None
            if self.state is State.FIN_WAIT_2:
                self._set_state(Trigger.FIN_WAIT_2_TIMEOUT)
                return
        if self.acks.deadline is not None and now >= self.acks.deadline:
            self.acks.deadline = None
            self._ack_pending = True  # the delayed ACK is due
            self._count("DelayedACKs")  # Linux LINUX_MIB_DELAYEDACKS
        if self._reorder_deadline is not None and now >= self._reorder_deadline:
            self._reorder_deadline = None
            self._on_reorder_timeout(now)
        if self._tlp_deadline is not None and now >= self._tlp_deadline:
            self._tlp_deadline = None
            self._on_probe_timeout(now)
        if self._rto_deadline is not None and now >= self._rto_deadline:
            self._rto_deadline = None
            self._on_rto(now)
        if self._persist_deadline is not None and now >= self._persist_deadline:
            self._persist_deadline = None
            self._on_persist(now)
        if self._keepalive_deadline is not None and now >= self._keepalive_deadline:
            self._keepalive_deadline = None
            self._on_keepalive(now)
        if self._pacing_deadline is not None and now >= self._pacing_deadline:
            self._pacing_deadline = None  # the flush that follows sends what waited

    # --- retransmission timeout ------------------------------------------------------

    def _on_rto(self, now: float) -> None:
        st = self.state
        self._timed = None  # Karn's algorithm: no sample from a retransmitted segment
        if st is State.SYN_SENT:
            if self._syn_retries >= self.config.syn_retries:
                self._fail(errnos.ETIMEDOUT, "SYN retransmissions exhausted", Trigger.TIMEOUT)
                return
            # Linux tcp_write_timeout: in SYN_SENT the user timeout is checked too.
            if self._user_timed_out(now, self._syn_retries):
                self._fail(errnos.ETIMEDOUT, "user timeout (SYN)", Trigger.TIMEOUT)
                return
            self._syn_retries += 1
            self.rto.back_off()
            self._send_syn(now, retrans=True)
            self._start_rto_clamped(now)
            return
        if st is State.SYN_RECEIVED:
            # A simultaneous open's full socket (not a listener's request socket, whose
            # timer, Linux reqsk_timer_handler, has no user timeout) is bounded by it too.
            active = not (self.listener_child or self._passive)
            if active and self._user_timed_out(now, self._syn_retries):
                self._fail(errnos.ETIMEDOUT, "user timeout (SYN-ACK)", Trigger.TIMEOUT)
                return
            if self._syn_retries >= self.config.synack_retries:
                if self.listener_child or self._passive:
                    self._set_state(Trigger.TIMEOUT, prefer=State.CLOSED)  # dropped silently
                else:
                    self._fail(
                        errnos.ETIMEDOUT, "SYN-ACK retransmissions exhausted", Trigger.TIMEOUT
                    )
                return
            self._syn_retries += 1
            self.rto.back_off()
            self._send_syn_ack(now, retrans=True)
            if active:
                self._start_rto_clamped(now)
            else:
                self._start_rto(now)
            return
        if not self.board.segments:
            return
        if self.config.user_timeout > 0:
            # RFC 5482 §3, Linux tcp_write_timeout -> retransmits_timed_out(sk, retries2,
            # icsk_user_timeout): with a user timeout, the time since the first
            # retransmission decides, not the retries2 count.
            if self._user_timed_out(now, self.retransmits):
                self._fail(errnos.ETIMEDOUT, "user timeout", Trigger.TIMEOUT)
                return
        elif self.retransmits >= self.config.retries2:
            self._fail(errnos.ETIMEDOUT, "retransmissions exhausted", Trigger.TIMEOUT)
            return
        self.retransmits += 1
        self._count("TCPTimeouts")
        # RFC 6675 §5.1 / RFC 8985 §6.3: after an RTO every unSACKed segment is lost;
        # RFC 5681 §3.1: a loss window of one segment.  ssthresh is cut from cwnd, as
        # for fast recovery (Linux tcp_enter_loss calls the algorithm's ssthresh, which
        # uses cwnd), rather than from FlightSize (equation 4): an application-limited
        # flight of one segment would otherwise leave ssthresh at 2 segments.
        self.board.mark_all_lost()
        if self.cc is not None:
            self.cc.on_rto(now, self._reduction_base(seq_sub(self.snd_max, self.snd_una)))
        self.prr = None
        self._ecn_reduced_until = None  # an ECN reduction in progress ends in Loss too
        self.recovery_point = self.snd_max  # RFC 6582 §3.2 step 4: avoid a false fast retransmit
        self._rto_recovery = True
        self._tlp_deadline = None
        self._tlp_high = None
        self.rto.back_off()  # RFC 6298 §5.5
        if self._retrans_stamp is None:
            # Linux tcp_retransmit_skb: "Save stamp of the first (attempted) retransmit."
            self._retrans_stamp = now
        self._start_rto_clamped(now)  # RFC 6298 §5.6
        self._send_retransmissions_after_rto(now)

    def _user_timed_out(self, now: float, retransmits: int) -> bool:
        """Linux retransmits_timed_out() with icsk_user_timeout: at least one
        retransmission was made (icsk_retransmits) and the user timeout has passed since
        retrans_stamp.  False when no user timeout is set."""
        ut = self.config.user_timeout
        stamp = self._retrans_stamp
        return ut > 0 and retransmits > 0 and stamp is not None and now >= stamp + ut

    def _start_rto_clamped(self, now: float) -> None:
        """Re-arm the retransmission timer after an expiry, no later than the user timeout
        (Linux tcp_clamp_rto_to_user_timeout), so that the last expiry comes at the user
        timeout and not up to a whole backed-off RTO after it."""
        ut = self.config.user_timeout
        stamp = self._retrans_stamp
        if ut <= 0 or stamp is None:
            self._start_rto(now)
        elif now >= stamp + ut:
            self._rto_deadline = now + _ASAP  # "user timeout has passed; fire ASAP"
        else:
            self._rto_deadline = min(now + self.rto.rto, stamp + ut)

    def _send_retransmissions_after_rto(self, now: float) -> None:
        lost = self.board.next_lost()
        if lost is not None:
            self._retransmit(lost, now)

    # --- RACK reordering timer and TLP (RFC 8985) --------------------------------------

    def _on_reorder_timeout(self, now: float) -> None:
        reo = self.rack.reo_wnd(self.in_recovery, self.board, self.rto.srtt, self.eff_mss)
        lost, timeout = self.rack.detect_loss(self.board, now, reo)
        self._reorder_deadline = None if timeout is None else now + timeout
        if lost and not self.in_recovery and self.cc is not None and not self._cwr_to_recovery():
            prior_cwnd = self.cc.cwnd
            self.cc.on_congestion_event(
                now, self._reduction_base(seq_sub(self.snd_max, self.snd_una))
            )
            mss = self.eff_mss
            self.cc.ssthresh = max(self.cc.ssthresh // mss * mss, 2 * mss)  # whole segments
            self.recovery_point = self.snd_max
            self.prr = PRR(self.cc.ssthresh, max(prior_cwnd, 1), self.eff_mss)
            self._count("TCPRecoveries")
        if self.prr is not None:
            pipe = self._pipe()
            self._prr_allowance = self.prr.sndcnt(0, pipe)
            self._prr_cwnd = pipe + self._prr_allowance

    def _on_probe_timeout(self, now: float) -> None:
        """RFC 8985 §7.3: send one new segment if the windows allow, else retransmit the
        last segment sent."""
        if not self.board.segments or self.in_recovery:
            return
        mss = self.eff_mss
        avail = self.sndbuf.available_from(self.snd_nxt)
        room = seq_sub(seq_add(self.snd_una, self.snd_wnd), self.snd_nxt)
        if avail and room > 0:
            if self.config.paces and self._wstamp > now:
                # Linux tcp_send_loss_probe: tcp_write_xmit sent nothing (pacing holds
                # the segment): no probe, the RTO is re-armed ("rearm_timer").
                self._start_rto(now)
                return
            self._send_new(now, min(avail, mss, room), False)
        else:
            # Linux tcp_send_loss_probe resends with __tcp_retransmit_skb: the probe does
            # not start the user timeout's clock (retrans_stamp).
            self._retransmit(self.board.segments[-1], now, probe=True)
        self._tlp_high = self.snd_max
        self._count("TCPLossProbes")
        self._start_rto(now)

    # --- persist, keepalive ---------------------------------------------------------------

    def _on_persist(self, now: float) -> None:
        """A zero-window probe: Linux sends <SEQ=SND.UNA-1><ACK=RCV.NXT> with no data
        (tcp_xmit_probe_skb), which makes the peer answer with its window.

        With a user timeout (RFC 5482), Linux tcp_probe_timer aborts once the window has
        stayed closed that long since the persist timer first fired (icsk_probes_tstamp),
        answered probes or not, and tcp_send_probe0 re-arms the timer no later than that
        (tcp_clamp_probe0_to_user_timeout)."""
        if self.state not in (
            State.ESTABLISHED,
            State.CLOSE_WAIT,
            State.FIN_WAIT_1,
            State.CLOSING,
            State.LAST_ACK,
        ):
            return
        room = seq_sub(seq_add(self.snd_una, self.snd_wnd), self.snd_nxt)
        avail = self.sndbuf.available_from(self.snd_nxt)
        if room > 0 and avail > 0 and not self.board.segments:
            # The window is open, only smaller than the segment silly-window avoidance
            # waits for: the override timeout (RFC 9293 §3.8.6.2.1) sends what fits, as
            # Linux's probe does (tcp_write_wakeup).  Data in flight ends the probing
            # and its backoff (tcp_send_probe0).
            n = min(room, avail, self.eff_mss)
            fin = self._fin_seq is not None and n == avail
            self._send_new(now, n, fin)
            self._count("TCPWinProbe")
            self.rto.reset_backoff()
            self._probes_stamp = None
            return
        ut = self.config.user_timeout
        stamp = self._probes_stamp
        if stamp is None:
            self._probes_stamp = stamp = now
        elif ut > 0 and now >= stamp + ut:
            self._fail(errnos.ETIMEDOUT, "user timeout: window stayed closed", Trigger.TIMEOUT)
            return
        self._emit(now, A, seq_add(self.snd_una, -1))
        self._count("TCPWinProbe")
        self.rto.back_off()
        when = now + self.rto.rto
        if ut > 0:
            when = min(when, max(stamp + ut, now + _TIMEOUT_MIN))
        self._persist_deadline = when

    def _arm_keepalive(self, now: float) -> None:
        if self.config.keepalive and self.state in (State.ESTABLISHED, State.CLOSE_WAIT):
            self._keepalive_deadline = now + self.config.keepidle
            self._keepalive_probes = 0

    def _on_keepalive(self, now: float) -> None:
        """RFC 9293 §3.8.4: probe an idle connection; after keepcnt unanswered probes the
        connection is dead: reset it and report ETIMEDOUT (Linux tcp_keepalive_timer).

        With a user timeout (RFC 5482) keepcnt does not count: the connection is dead
        when a probe is unanswered and the user timeout has passed since anything was
        last received (Linux: "icsk_user_timeout != 0 && elapsed >= user_timeout &&
        icsk_probes_out > 0")."""
        if not self.config.keepalive or self.state not in (State.ESTABLISHED, State.CLOSE_WAIT):
            return
        if self.board.segments:
            self._keepalive_deadline = now + self.config.keepintvl  # data in flight: RTO rules
            return
        ut = self.config.user_timeout
        if ut > 0:
            dead = self._keepalive_probes > 0 and now - self._last_rcv >= ut
        else:
            dead = self._keepalive_probes >= self.config.keepcnt
        if dead:
            self._send_active_rst(now)  # Linux tcp_keepalive_timer
            self._fail(errnos.ETIMEDOUT, "keepalive: peer did not answer", Trigger.TIMEOUT)
            return
        self._keepalive_probes += 1
        self._emit(now, A, seq_add(self.snd_una, -1))  # <SEQ=SND.UNA-1>, no data
        self._count("TCPKeepAlive")
        self._keepalive_deadline = now + self.config.keepintvl

    # (defined by the connection)
    def _send_syn(self, now: float, retrans: bool = False) -> None:
        raise NotImplementedError

    def _send_syn_ack(self, now: float, retrans: bool = False) -> None:
        raise NotImplementedError
