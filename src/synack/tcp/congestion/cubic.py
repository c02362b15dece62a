"""CUBIC (RFC 9438), Linux's default congestion control.

In congestion avoidance the window follows a cubic function of the time since the
current congestion-avoidance stage (the *epoch*) began:

    W_cubic(t) = C * (t - K)^3 + W_max                    (RFC 9438 §4.2, Figure 1)
    K = cubic_root((W_max - cwnd_epoch) / C)              (Figure 2)

concave below W_max (§4.4), convex above it (§4.5), never slower than a Reno flow would
be (the Reno-friendly region, §4.3).  A congestion event multiplies the window by
beta_cubic = 0.7 (§4.6) and remembers W_max, lowered further when the window is
shrinking (fast convergence, §4.7).

With the RFC's arithmetic, windows inside this class are kept in segments as the RFC
writes them (floats); ``cwnd`` and ``ssthresh`` are whole bytes for the connection.
Slow start is RFC 5681's (with RFC 3465 byte counting, see :mod:`.standard`), left
early by Linux's HyStart (:mod:`.hystart_linux`) or, if configured, by HyStart++
(RFC 9406, which RFC 9438 §4.10 recommends).  Spurious-event undo (§4.9) is not implemented.

Where the RFC and Linux's tcp_cubic.c differ, synack follows Linux by default and keeps
the RFC's rule behind a class attribute:

* the arithmetic: whole packets, jiffies and fixed point, one packet of growth per
  ``cnt`` acknowledged (:mod:`.cubic_linux`, :attr:`Cubic.linux_arithmetic`); the
  real-valued functions above, with the RFC's W_est, when it is off;
* the Reno-friendly increase stays 3(1-beta)/(1+beta) per RTT
  (:attr:`Cubic.alpha_one_past_prior`);
* the ``5 %`` floor before any congestion event (:attr:`Cubic.min_growth_divisor`);
* the RTT in W_cubic(t + RTT) is the smallest RTT seen, not srtt
  (:attr:`Cubic.min_rtt_in_target`).
"""

from __future__ import annotations

import math

from synack.tcp.congestion.cubic_linux import HZ, BicState, jiffies
from synack.tcp.congestion.standard import StandardCongestionControl

#: RFC 9438 §5.1: C = 0.4 (segments / s^3).
C = 0.4
#: RFC 9438 §4.6 / §5.1: multiplicative decrease factor.
BETA = 0.7
#: RFC 9438 §4.3: additive increase of the Reno-friendly estimate, 3*(1-beta)/(1+beta),
#: which makes AIMD(alpha, beta) as fast on average as Reno's AIMD(1, 0.5).
ALPHA = 3 * (1 - BETA) / (1 + BETA)
#: RFC 9438 §4.2: the target is at most 1.5 * cwnd.
MAX_TARGET_RATIO = 1.5


class Cubic(StandardCongestionControl):
    name = "cubic"
    #: Linux tcp_cubic runs HyStart (hystart = 1).
    use_hystart = True
    #: RFC 9438 §4.7 (Linux tcp_cubic fast_convergence = 1).
    fast_convergence = True
    #: Linux bictcp_update: "if (ca->last_max_cwnd == 0 && ca->cnt > 20) ca->cnt = 20;
    #: increase cwnd 5% per RTT": before any congestion event (slow start left by
    #: HyStart, or since a timeout) cwnd grows by at least one segment per 20 acknowledged.
    #: None turns this off (the RFC's curve alone).
    min_growth_divisor: int | None = 20
    #: The RTT in W_cubic(t + RTT): RFC 9438 §4.2 takes the smoothed RTT (False); Linux
    #: bictcp_update adds ca->delay_min, the smallest RTT seen since the last timeout
    #: (True, the default).  With Linux's Reno-friendly alpha as well, the fairness run
    #: of tests/test_datapath_properties gave 0.98 with the minimum and 0.90 with srtt
    #: over its 40 s (0.83 and 0.89 over the 40 s after); packetdrill's
    #: cubic-bulk-166k follows Linux's cwnd 16 s further with it.
    min_rtt_in_target = True
    #: RFC 9438 §4.3: "Once W_est has grown to reach the cwnd at the time of most
    #: recently setting ssthresh -- that is, W_est >= cwnd_prior -- the sender SHOULD set
    #: alpha_cubic to 1" (True).  Linux tcp_cubic keeps alpha = 3(1-beta)/(1+beta)
    #: throughout (its beta_scale, in bictcp_update's "TCP Friendly" step): False, the
    #: default, so that synack's CUBIC grows as the kernel's does.  It matters where the
    #: Reno-friendly region rules (small windows, short RTTs): on goodput_sim's path
    #: (100 Mbit/s, 20 ms, 1% loss) CUBIC reached 0.86 x the Mathis estimate with False,
    #: 0.96 x with True, and the kernel's own CUBIC 0.84 x (benchmarks/goodput_kernel.py;
    #: 0.83 x with the Linux arithmetic below).
    alpha_one_past_prior = False
    #: Congestion avoidance in Linux's whole-packet, fixed-point arithmetic
    #: (:mod:`.cubic_linux`: bictcp_update, tcp_cong_avoid_ai, jiffies), so that cwnd
    #: moves packet for packet as the kernel's does (True, the default); False computes
    #: the RFC's real-valued functions, with the attributes above.
    linux_arithmetic = True

    def __init__(self, mss: int, initial_cwnd: int, now: float = 0.0) -> None:
        super().__init__(mss, initial_cwnd, now)
        #: §4.1 W_max: cwnd (segments) just before the last reduction; 0 = unknown.
        self.w_max = 0.0
        #: Linux last_max_cwnd != 0: a congestion event set W_max (not a timeout).
        self._had_congestion = False
        #: Linux ca->delay_min: the smallest RTT sample (None: none yet).
        self.delay_min: float | None = None
        #: §4.1 cwnd_prior: cwnd (segments) when ssthresh was last set.
        self.cwnd_prior = 0.0
        #: §4.1 K: seconds from the start of the epoch until W_cubic reaches W_max.
        self.k = 0.0
        #: §4.1 t_epoch: when the current congestion-avoidance stage began (None: not
        #: in one yet).
        self.t_epoch: float | None = None
        #: §4.1 cwnd_epoch: cwnd (segments) at t_epoch.
        self.cwnd_epoch = 0.0
        #: §4.3 W_est: the window (segments) a Reno flow would have reached.
        self.w_est = 0.0
        #: The RTT of Figure 1's W_cubic(t + RTT): the last one the connection gave.
        self.rtt = 0.0
        self._last_ack: float | None = None
        #: Fraction of a byte of cwnd growth carried to the next ACK.
        self._remainder = 0.0
        #: Linux arithmetic: tcp_cubic's state, and acknowledged bytes short of a packet.
        self.bic = BicState()
        self._acked_rest = 0

    # --- the RFC's functions -----------------------------------------------------------

    def w_cubic(self, t: float) -> float:
        """RFC 9438 §4.2 Figure 1, in segments, ``t`` seconds into the epoch."""
        return C * (t - self.k) ** 3 + self.w_max

    def _start_epoch(self, now: float) -> None:
        """A congestion-avoidance stage begins (RFC 9438 §4.1 t_epoch, cwnd_epoch)."""
        self.t_epoch = now
        cwnd = self.cwnd / self.mss
        self.cwnd_epoch = cwnd
        if self.w_max > cwnd:
            # §4.2 Figure 2.
            self.k = math.cbrt((self.w_max - cwnd) / C)
        else:
            # §4.8: after a timeout (W_max forgotten) W_max is the window at the start
            # of the stage and K = 0; likewise when slow start went past W_max (Linux
            # bictcp_update: origin_point = cwnd, K = 0).
            self.w_max = cwnd
            self.k = 0.0
        # §4.3: "W_est is set equal to cwnd_epoch at the start of the congestion
        # avoidance stage."
        self.w_est = cwnd
        self._remainder = 0.0

    # --- hooks of the standard machinery ----------------------------------------------

    def on_ack(
        self, acked: int, now: float, rtt: float | None, in_flight: int, app_limited: bool
    ) -> None:
        super().on_ack(acked, now, rtt, in_flight, app_limited)
        self._last_ack = now

    def _take_rtt_sample(self, rtt: float, now: float) -> bool:
        # Linux cubictcp_acked: "Discard delay samples right after fast recovery" (for a
        # second after the congestion-avoidance epoch began); the rest make delay_min.
        if self.linux_arithmetic:
            start = self.bic.epoch_start
            if start is not None and jiffies(now) - start < HZ:
                return False
        elif self.t_epoch is not None and now - self.t_epoch < 1.0:
            return False
        if self.delay_min is None or rtt < self.delay_min:
            self.delay_min = max(rtt, 1e-6)
        return True

    def _on_recovery_end(self, now: float) -> None:
        # cwnd = ssthresh: the congestion-avoidance stage starts now (Linux: at the
        # first ACK in congestion avoidance, when bictcp_update finds no epoch).
        if not self.linux_arithmetic:
            self._start_epoch(now)

    def _congestion_avoidance(self, acked: int, now: float, rtt: float | None) -> None:
        if rtt is not None:
            self.rtt = rtt
        if self.linux_arithmetic:
            self._linux_avoidance(acked, now)
            return
        if self.t_epoch is None:
            self._start_epoch(now)
            assert self.t_epoch is not None
        mss = self.mss
        cwnd = (self.cwnd + self._remainder) / mss
        segments_acked = acked / mss
        # §4.3 Figure 4: W_est += alpha_cubic * segments_acked / cwnd, with alpha_cubic
        # raised to 1 "once W_est has grown to reach the cwnd at the time of most
        # recently setting ssthresh -- that is, W_est >= cwnd_prior" when
        # alpha_one_past_prior is set (not in Linux, see there).
        alpha = ALPHA
        if self.alpha_one_past_prior and self.w_est >= self.cwnd_prior:
            alpha = 1.0
        self.w_est += alpha * segments_acked / cwnd
        t = now - self.t_epoch
        if self.w_cubic(t) < self.w_est:
            # §4.3: in the Reno-friendly region "cwnd SHOULD be set to W_est"; never
            # below the current cwnd (an ACK does not shrink the window).
            new = max(cwnd, self.w_est)
        else:
            # §4.2: target = W_cubic(t + RTT) clamped to [cwnd, 1.5 * cwnd]; §4.4 and
            # §4.5: cwnd grows by (target - cwnd) / cwnd per acknowledged segment.
            ahead = self.rtt
            if self.min_rtt_in_target and self.delay_min is not None:
                ahead = self.delay_min
            target = min(max(self.w_cubic(t + ahead), cwnd), MAX_TARGET_RATIO * cwnd)
            new = min(target, cwnd + (target - cwnd) / cwnd * segments_acked)
        if not self._had_congestion and self.min_growth_divisor:
            new = max(new, cwnd + segments_acked / self.min_growth_divisor)
        exact = new * mss
        self.cwnd = int(exact)
        self._remainder = exact - self.cwnd

    def _linux_avoidance(self, acked: int, now: float) -> None:
        """Linux cubictcp_cong_avoid in congestion avoidance: bictcp_update sets how many
        packets must be acknowledged per packet of growth, tcp_cong_avoid_ai applies it."""
        mss = self.mss
        packets, self._acked_rest = divmod(self._acked_rest + acked, mss)
        if packets == 0:
            return
        cwnd = self.cwnd // mss
        ahead = self.delay_min if self.min_rtt_in_target else self.rtt
        self.bic.update(cwnd, packets, now, ahead, self.min_growth_divisor)
        self.cwnd = self.bic.cong_avoid_ai(cwnd, packets) * mss

    def _reduce(self, now: float, in_flight: int, timeout: bool) -> int:
        if self.linux_arithmetic:
            # Linux bictcp_recalc_ssthresh; after a timeout tcp_cubic's state is reset
            # (bictcp_reset on TCP_CA_Loss), W_max included.
            mss = self.mss
            ssthresh = self.bic.recalc_ssthresh(max(in_flight // mss, 1), self.fast_convergence)
            self._acked_rest = 0
            if timeout:
                self.bic.last_max_cwnd = 0
                self.delay_min = None
            self.cwnd_prior = self.cwnd / mss
            return ssthresh * mss
        cwnd = self.cwnd / self.mss
        if timeout:
            # §4.8: after a timeout the next stage starts with W_max = cwnd_epoch, K = 0.
            self.w_max = 0.0
            self._had_congestion = False  # Linux bictcp_reset on TCP_CA_Loss
            self.delay_min = None
        elif self.fast_convergence and cwnd < self.w_max:
            # §4.7 Figure 6: the window is shrinking, another flow has joined: release
            # bandwidth by aiming below the last maximum.
            self.w_max = cwnd * (1 + BETA) / 2
        else:
            self.w_max = cwnd
        # §4.6 Figure 5: cwnd_prior = cwnd; ssthresh = flight_size * beta_cubic, at
        # least 2 SMSS.  (RFC 9438 allows cwnd * beta as Linux does; flight size is the
        # RFC's first choice, and cwnd does not grow while application-limited.)
        if not timeout:
            self._had_congestion = True
        self.cwnd_prior = cwnd
        self.t_epoch = None
        self._remainder = 0.0
        return max(round(in_flight * BETA), 2 * self.mss)

    def _on_app_limited_ack(self, now: float) -> None:
        # RFC 9438 §5.8: t "MUST NOT include" periods in which cwnd was not updated
        # because the flow was application-limited; move the epoch forward by them.
        if self.t_epoch is not None and self._last_ack is not None:
            gap = now - max(self._last_ack, self.t_epoch)
            if gap > 0:
                self.t_epoch += gap

    def on_idle(self, now: float, idle: float, rto: float) -> None:
        if self.linux_arithmetic:
            # Linux bictcp_cwnd_event(CA_EVENT_TX_START), on every resumption with
            # nothing in flight: the epoch moves forward by the idle time, at most to now
            # (tcp_cwnd_restart itself leaves tcp_cubic's state alone).
            bic = self.bic
            if bic.epoch_start is not None:
                bic.epoch_start = min(bic.epoch_start + jiffies(idle), jiffies(now))
        super().on_idle(now, idle, rto)

    def _on_restart(self, now: float) -> None:
        # Back to slow start; a new epoch begins when cwnd reaches ssthresh (RFC
        # arithmetic; Linux keeps its epoch, moved by on_idle).
        self.t_epoch = None
        self._remainder = 0.0

    def _on_pause(self, now: float, idle: float) -> None:
        # RFC 9438 §5.8: idle time is not part of t (Linux bictcp_cwnd_event shifts
        # epoch_start by the idle time on CA_EVENT_TX_START; see on_idle).
        if self.t_epoch is not None:
            self.t_epoch = min(self.t_epoch + idle, now)

    def _on_mss_change(self, mss: int) -> None:
        self._remainder = 0.0
        self._acked_rest = 0

    def info(self) -> dict[str, float | int]:
        if self.linux_arithmetic:
            bic = self.bic
            return {
                **super().info(),
                "w_max": bic.last_max_cwnd * self.mss,
                "k": bic.bic_k / 1024,
                "w_est": bic.tcp_cwnd * self.mss,
                "cwnd_prior": self.cwnd_prior * self.mss,
                "epoch_start": -1.0 if bic.epoch_start is None else bic.epoch_start / 1000,
                "cnt": bic.cnt,
            }
        return {
            **super().info(),
            "w_max": self.w_max * self.mss,
            "k": self.k,
            "w_est": self.w_est * self.mss,
            "cwnd_prior": self.cwnd_prior * self.mss,
            "epoch_start": -1.0 if self.t_epoch is None else self.t_epoch,
        }
