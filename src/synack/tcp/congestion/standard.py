"""The RFC 5681 window machinery that every loss-based algorithm shares.

:class:`StandardCongestionControl` implements the parts of RFC 5681 that do not depend
on the increase function: slow start with appropriate byte counting (RFC 3465), the
split of a stretch ACK across the slow-start/congestion-avoidance boundary, the loss
window after a retransmission timeout, restart after idle, and "no growth while
application-limited" (RFC 7661's spirit).  Subclasses supply the congestion-avoidance
increase and the ssthresh a congestion event sets: Reno (RFC 5681) and CUBIC (RFC 9438).

All sizes are bytes; ``cwnd`` and ``ssthresh`` stay integers for the connection.
"""

from __future__ import annotations

from abc import abstractmethod

from synack.tcp.congestion.base import CongestionControl
from synack.tcp.congestion.hystart import HyStartPP
from synack.tcp.congestion.hystart_linux import LinuxHyStart
from synack.tcp.pacing import pacing_rate

#: Slow-start exit heuristics by name (TCPConfig.hystart).
HYSTART_VARIANTS = ("linux", "rfc9406", "off")


class StandardCongestionControl(CongestionControl):
    #: RFC 3465 §2.2: in slow start cwnd grows by min(N, L) per ACK, N the bytes it
    #: acknowledges.  L = 2*SMSS lets a delayed ACK (covering two segments) open the
    #: window as much as two ACKs would, so slow start still doubles cwnd per RTT.
    #: None counts every acknowledged byte, as Linux's tcp_slow_start does (cwnd +=
    #: acked packets); the connection chooses with TCPConfig.abc.
    abc_limit_segments: int | None = 2
    #: Leave slow start before the first loss, when the path looks full: Linux's
    #: HyStart by default, or HyStart++ (RFC 9406); see :meth:`set_hystart`.
    use_hystart = False

    def __init__(self, mss: int, initial_cwnd: int, now: float = 0.0) -> None:
        super().__init__(mss, initial_cwnd, now)
        #: IW in segments (RFC 5681 §3.1 eq 1, RFC 6928), kept for the restart window.
        self._iw_segments = initial_cwnd / mss
        #: Restart after idle (RFC 5681 §4.1), like Linux tcp_slow_start_after_idle.
        #: The connection may set this from its configuration.
        self.restart_after_idle = True
        #: A timeout fired and no new data has been acknowledged since: a further
        #: timeout is a backed-off retransmission of the same segment.
        self._timed_out = False
        #: Slow start that follows an RTO uses L = 1*SMSS (RFC 3465 §2.3).
        self._slow_start_after_rto = False
        #: The last reduction was a timeout, not a fast-recovery congestion event.
        self._timeout_recovery = False
        #: HyStart when the algorithm asks for it (Linux: with CUBIC).
        self.hystart: LinuxHyStart | HyStartPP | None = None
        self.set_hystart("linux")
        #: Counters for TCP_INFO-style introspection.
        self.congestion_events = 0
        self.timeouts = 0

    # --- what the connection calls ---------------------------------------------------

    def on_ack(
        self, acked: int, now: float, rtt: float | None, in_flight: int, app_limited: bool
    ) -> None:
        if acked <= 0:
            return
        # New data was acknowledged: the segment the timer retransmitted got through.
        self._timed_out = False
        if app_limited:
            # RFC 7661 §4.3 (and RFC 5681 §3.1 "cwnd ... when TCP is not limited by the
            # receiver or application"): a window that was not used has not been
            # validated, so it must not grow.
            self._on_app_limited_ack(now)
            return
        if self.in_slow_start:
            acked = self._slow_start(acked)
            if acked == 0 or self.in_slow_start:
                return
        self._congestion_avoidance(acked, now, rtt)

    def on_congestion_event(self, now: float, in_flight: int) -> None:
        """Fast retransmit, RACK or an ECN echo.  Only ssthresh is set here; cwnd is
        brought down to it by PRR (RFC 6937) and :meth:`on_recovery_end`."""
        self.congestion_events += 1
        if self.hystart is not None and self.in_slow_start:
            self.hystart.on_congestion()
        self._slow_start_after_rto = False
        self._timeout_recovery = False
        self.ssthresh = self._reduce(now, in_flight, timeout=False)

    def on_rto(self, now: float, in_flight: int) -> None:
        self.timeouts += 1
        if isinstance(self.hystart, LinuxHyStart):
            self.hystart.on_timeout()
        # RFC 5681 §3.1: "when a TCP sender detects segment loss using the
        # retransmission timer and the given segment has already been retransmitted by
        # way of the retransmission timer at least once, the value of ssthresh is held
        # constant."  With no new data acknowledged since the last timeout, the segment
        # at SND.UNA is that segment.
        if not self._timed_out:
            self.ssthresh = self._reduce(now, in_flight, timeout=True)
        self._timed_out = True
        # RFC 5681 §3.1: "Upon a timeout cwnd MUST be set to no more than the loss
        # window, LW, which equals 1 full-sized segment".
        self.cwnd = self.mss
        self._slow_start_after_rto = True
        self._timeout_recovery = True

    def on_recovery_end(self, now: float) -> None:
        """Recovery is over.  After fast recovery cwnd = ssthresh (base class, RFC 6582
        §3.2 step 3, RFC 6937).  After a timeout the window is already slow-starting
        from the loss window (RFC 5681 §3.1) and stays as it is (Linux: leaving
        TCP_CA_Loss does not touch cwnd)."""
        if self._timeout_recovery:
            self._timeout_recovery = False
            return
        super().on_recovery_end(now)
        self._on_recovery_end(now)

    def on_idle(self, now: float, idle: float, rto: float) -> None:
        """Sending resumes after ``idle`` seconds with nothing in flight.

        RFC 5681 §4.1: "if the TCP has not sent data in an interval exceeding the
        retransmission timeout, ... cwnd = min(RW, cwnd)" with the restart window
        RW = min(IW, cwnd).  (Linux tcp_cwnd_restart halves cwnd once per idle RTO down
        to RW instead; we take the RFC's single step.)  Like Linux and RFC 2861 §3,
        ssthresh first remembers 3/4 of the old window, so that slow start climbs back
        to most of what the path was known to carry."""
        if self.restart_after_idle and idle > rto:
            restart_window = min(self.restart_window, self.cwnd)
            if restart_window < self.cwnd:
                self.ssthresh = max(self.ssthresh, self.cwnd * 3 // 4)
                self.cwnd = restart_window
                self._on_restart(now)
                return
        self._on_pause(now, idle)

    def on_mss_change(self, mss: int) -> None:
        super().on_mss_change(mss)
        self._on_mss_change(mss)

    def set_hystart(self, variant: str) -> None:
        """Choose the slow-start exit (TCPConfig.hystart): ``linux`` (tcp_cubic's HyStart,
        :mod:`.hystart_linux`), ``rfc9406`` (HyStart++, :mod:`.hystart`) or ``off``.
        An algorithm without HyStart (Reno, as in Linux) keeps none."""
        if variant not in HYSTART_VARIANTS:
            raise ValueError(f"unknown HyStart variant {variant!r}; known: {HYSTART_VARIANTS}")
        if not self.use_hystart or variant == "off":
            self.hystart = None
        elif variant == "linux":
            self.hystart = LinuxHyStart()
        else:
            self.hystart = HyStartPP()

    def on_rtt_sample(
        self,
        rtt: float,
        now: float,
        *,
        snd_una: int = 0,
        snd_nxt: int = 0,
        srtt: float | None = None,
    ) -> None:
        if not self._take_rtt_sample(rtt, now):
            return
        h = self.hystart
        if isinstance(h, HyStartPP):
            if self.in_slow_start:
                h.on_rtt_sample(rtt)
            return
        if h is None:
            return
        mss = self.mss
        segments = self.cwnd // mss
        # Linux tcp_update_pacing_rate: mss * cwnd / srtt at 200 % in slow start (below
        # half of ssthresh), 120 % after.
        rate = pacing_rate(mss, self.cwnd, self.ssthresh, 0, srtt)
        if h.on_sample(
            rtt,
            now,
            active=self.in_slow_start,
            cwnd_segments=segments,
            snd_una=snd_una,
            snd_nxt=snd_nxt,
            pacing_rate=rate,
        ):
            self.ssthresh = max(self.cwnd, 2 * mss)  # Linux: snd_ssthresh = snd_cwnd

    def _take_rtt_sample(self, rtt: float, now: float) -> bool:
        """Whether an algorithm uses this RTT sample (CUBIC skips some); it may note it."""
        return True

    def on_round_start(self, now: float) -> None:
        if self.hystart is not None and self.in_slow_start and self.hystart.on_round_start():
            self.ssthresh = max(self.cwnd, 2 * self.mss)  # RFC 9406 §4.2: CSS is over

    @property
    def restart_window(self) -> int:
        """IW in bytes for the current MSS (RFC 5681 §4.1 RW = min(IW, cwnd))."""
        return max(round(self._iw_segments * self.mss), self.mss)

    def info(self) -> dict[str, float | int]:
        return {
            **super().info(),
            "congestion_events": self.congestion_events,
            "timeouts": self.timeouts,
        }

    # --- shared arithmetic -------------------------------------------------------------

    def _slow_start(self, acked: int) -> int:
        """Grow cwnd for ``acked`` bytes in slow start; return the bytes left over for
        congestion avoidance when ssthresh is crossed.

        RFC 5681 §3.1 eq 2 allows cwnd += min(N, SMSS); RFC 3465 §2.2 (appropriate byte
        counting) raises the per-ACK limit to L = 2*SMSS, L = 1*SMSS after an RTO
        (§2.3).  cwnd stops at ssthresh and the rest of the credited bytes counts in
        congestion avoidance, as Linux tcp_slow_start does."""
        if self.hystart is not None:
            acked = self.hystart.growth(acked)  # Conservative Slow Start (RFC 9406 §4.2)
        if self.abc_limit_segments is None:
            credit = acked  # Linux: no per-ACK limit
        elif self._slow_start_after_rto:
            credit = min(acked, self.mss)
        else:
            credit = min(acked, self.abc_limit_segments * self.mss)
        room = self.ssthresh - self.cwnd
        if credit < room:
            self.cwnd += credit
            return 0
        self.cwnd = self.ssthresh
        self._slow_start_after_rto = False
        return max(credit - room, 0)

    # --- what a concrete algorithm supplies ---------------------------------------------

    @abstractmethod
    def _congestion_avoidance(self, acked: int, now: float, rtt: float | None) -> None:
        """Increase cwnd for ``acked`` newly acknowledged bytes, cwnd >= ssthresh."""

    @abstractmethod
    def _reduce(self, now: float, in_flight: int, timeout: bool) -> int:
        """The new ssthresh for a congestion event (``timeout`` False) or the first
        retransmission timeout of a segment; remember what the algorithm needs."""

    def _on_recovery_end(self, now: float) -> None:
        """Fast recovery ended with cwnd = ssthresh."""

    def _on_app_limited_ack(self, now: float) -> None:
        """An ACK arrived while the sender was application-limited."""

    def _on_restart(self, now: float) -> None:
        """cwnd was reduced to the restart window after idle."""

    def _on_pause(self, now: float, idle: float) -> None:
        """Sending resumed after an idle period that did not restart the window."""

    def _on_mss_change(self, mss: int) -> None:
        """The effective MSS changed (path MTU discovery)."""
