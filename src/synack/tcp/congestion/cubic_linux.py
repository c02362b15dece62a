"""CUBIC's congestion-avoidance step in the arithmetic of Linux's tcp_cubic.c.

RFC 9438 writes the window as a real function of time; Linux computes it in whole
packets and fixed point, and :class:`synack.tcp.congestion.cubic.Cubic` uses this
module by default (``Cubic.linux_arithmetic``) so that its cwnd moves packet for packet
as the kernel's does (packetdrill's cubic scripts assert exact tcpi_snd_cwnd values):

* time is counted in jiffies (``HZ`` = 1000 here, the tick packetdrill's scripts assume)
  and scaled to 1/1024 s (``BICTCP_HZ`` = 10) for the curve;
* C = 410/1024 (``bic_scale`` 41 * 10) and beta = 717/1024;
* the target W_cubic(t + delay_min) is a whole number of packets, and the increase is
  "one packet per ``cnt`` packets acknowledged", ``cnt = cwnd // (target - cwnd)`` at
  least 2 (so at most one packet per two acknowledged), applied by
  ``tcp_cong_avoid_ai``'s counter;
* ``cnt`` is recomputed at most once per jiffy, and when cwnd has not changed, at most
  every HZ/32;
* the Reno-friendly estimate (``tcp_cwnd``) grows by one packet per ``cwnd * 15 / 8``
  acknowledged (``beta_scale`` = 8 * (1024 + 717) / 3 / (1024 - 717) = 15), about 0.53
  per round trip;
* before any congestion event (``last_max_cwnd`` = 0) ``cnt`` is at most 20.

K is the exact integer cube root (Linux approximates it with a table and one Newton step;
the two differ by at most a few 1/1024 s).  Written from the kernel's description of the
algorithm; nothing is copied.
"""

from __future__ import annotations

import math

HZ = 1000
BICTCP_HZ = 10
BETA_SCALE = 1024
BETA = 717
BIC_SCALE = 41
CUBE_RTT_SCALE = BIC_SCALE * 10
#: 2^(10 + 3 * BICTCP_HZ) / (bic_scale * 10): K = cbrt(cube_factor * (W_max - cwnd)).
CUBE_FACTOR = (1 << (10 + 3 * BICTCP_HZ)) // CUBE_RTT_SCALE
#: Linux beta_scale: 8 * (BICTCP_BETA_SCALE + beta) / 3 / (BICTCP_BETA_SCALE - beta).
FRIENDLY_SCALE = 8 * (BETA_SCALE + BETA) // 3 // (BETA_SCALE - BETA)


def icbrt(a: int) -> int:
    """The integer cube root of ``a`` >= 0 (the largest x with x**3 <= a)."""
    x = round(a ** (1 / 3)) if a else 0
    while x**3 > a:
        x -= 1
    while (x + 1) ** 3 <= a:
        x += 1
    return x


def jiffies(now: float) -> int:
    return math.floor(now * HZ + 1e-9)


class BicState:
    """The per-connection state of Linux's ``struct bictcp`` that the increase uses, and
    ``tcp_cong_avoid_ai``'s counter (``snd_cwnd_cnt``)."""

    __slots__ = (
        "ack_cnt",
        "bic_k",
        "cnt",
        "cwnd_cnt",
        "epoch_start",
        "last_cwnd",
        "last_max_cwnd",
        "last_time",
        "origin",
        "tcp_cwnd",
    )

    def __init__(self) -> None:
        self.last_max_cwnd = 0  # packets; 0 until a congestion event
        self.cwnd_cnt = 0
        self.reset_epoch()

    def reset_epoch(self) -> None:
        """A congestion event, a timeout or a restart (Linux: epoch_start = 0)."""
        self.epoch_start: int | None = None
        self.cnt = 0
        self.last_cwnd = 0
        self.last_time = 0
        self.ack_cnt = 0
        self.tcp_cwnd = 0
        self.bic_k = 0
        self.origin = 0

    def recalc_ssthresh(self, cwnd: int, fast_convergence: bool) -> int:
        """Linux bictcp_recalc_ssthresh: remember W_max (lowered by fast convergence when
        the window shrinks) and return ssthresh = cwnd * beta, in packets."""
        self.reset_epoch()
        if cwnd < self.last_max_cwnd and fast_convergence:
            self.last_max_cwnd = cwnd * (BETA_SCALE + BETA) // (2 * BETA_SCALE)
        else:
            self.last_max_cwnd = cwnd
        self.cwnd_cnt = 0
        return max(cwnd * BETA // BETA_SCALE, 2)

    def update(
        self,
        cwnd: int,
        acked: int,
        now: float,
        delay_min: float | None,
        floor_divisor: int | None = 20,
    ) -> None:
        """Linux bictcp_update: set ``cnt`` for ``acked`` packets acknowledged at ``now``
        (``floor_divisor``: the largest ``cnt`` before any congestion event; None: no
        floor)."""
        self.ack_cnt += acked
        tick = jiffies(now)
        if self.last_cwnd == cwnd and tick - self.last_time <= HZ // 32:
            return
        if not (self.epoch_start is not None and tick == self.last_time):
            self.last_cwnd = cwnd
            self.last_time = tick
            if self.epoch_start is None:
                self.epoch_start = tick
                self.ack_cnt = acked
                self.tcp_cwnd = cwnd
                if self.last_max_cwnd <= cwnd:
                    self.bic_k = 0
                    self.origin = cwnd
                else:
                    self.bic_k = icbrt(CUBE_FACTOR * (self.last_max_cwnd - cwnd))
                    self.origin = self.last_max_cwnd
            # t: time since the epoch began plus delay_min (usecs_to_jiffies rounds up),
            # in 1/1024 s.
            ahead = math.ceil(delay_min * HZ - 1e-9) if delay_min else 0
            t = ((tick - self.epoch_start + ahead) << BICTCP_HZ) // HZ
            offs = self.bic_k - t if t < self.bic_k else t - self.bic_k
            delta = (CUBE_RTT_SCALE * offs**3) >> (10 + 3 * BICTCP_HZ)
            target = self.origin - delta if t < self.bic_k else self.origin + delta
            self.cnt = cwnd // (target - cwnd) if target > cwnd else 100 * cwnd
            if self.last_max_cwnd == 0 and floor_divisor and self.cnt > floor_divisor:
                self.cnt = floor_divisor  # "increase cwnd 5% per RTT"
        # The Reno-friendly estimate.
        step = (cwnd * FRIENDLY_SCALE) >> 3
        if step > 0:
            while self.ack_cnt > step:
                self.ack_cnt -= step
                self.tcp_cwnd += 1
        if self.tcp_cwnd > cwnd:
            self.cnt = min(self.cnt, cwnd // (self.tcp_cwnd - cwnd))
        self.cnt = max(self.cnt, 2)

    def cong_avoid_ai(self, cwnd: int, acked: int) -> int:
        """Linux tcp_cong_avoid_ai with w = cnt: the new cwnd in packets."""
        w = self.cnt
        if self.cwnd_cnt >= w:
            self.cwnd_cnt = 0
            cwnd += 1
        self.cwnd_cnt += acked
        if self.cwnd_cnt >= w:
            inc = self.cwnd_cnt // w
            self.cwnd_cnt -= inc * w
            cwnd += inc
        return cwnd
