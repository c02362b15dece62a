"""Retransmission timeout estimation (RFC 6298), with Linux's bounds."""

from __future__ import annotations

ALPHA = 1 / 8  # RFC 6298 §2.3
BETA = 1 / 4  # RFC 6298 §2.3
K = 4  # RFC 6298 §2.2
G = 0.001  # clock granularity: synack's TSval ticks in milliseconds


class RTOEstimator:
    """SRTT, RTTVAR and RTO per RFC 6298 §2, plus exponential backoff (§5.5)."""
    # Slots: thousands of connections (TIME_WAIT) each keep one; no per-object dict.
    __slots__ = ("_rto", "backoff", "initial", "maximum", "minimum", "rttvar", "srtt")


    def __init__(self, initial: float = 1.0, minimum: float = 0.2, maximum: float = 120.0):
        self.initial = initial
        self.minimum = minimum
        self.maximum = maximum
        self.srtt: float | None = None
        self.rttvar: float = 0.0
        self._rto = initial  # RFC 6298 §2.1: until a measurement, RTO = 1 s
        self.backoff = 0  # number of doublings since the last valid sample

    @property
    def rto(self) -> float:
        """The current timeout, with backoff applied and bounded by [minimum, maximum]."""
        return min(self._rto * (1 << self.backoff), self.maximum)

    def sample(self, rtt: float) -> None:
        """Take one RTT measurement R (RFC 6298 §2.2 and §2.3)."""
        rtt = max(rtt, 0.0)
        if self.srtt is None:
            self.srtt = rtt
            self.rttvar = rtt / 2
        else:
            self.rttvar = (1 - BETA) * self.rttvar + BETA * abs(self.srtt - rtt)
            self.srtt = (1 - ALPHA) * self.srtt + ALPHA * rtt
        # RFC 6298 §2.4: RTO = SRTT + max(G, K*RTTVAR), then the §2.4 minimum.
        self._rto = min(max(self.srtt + max(G, K * self.rttvar), self.minimum), self.maximum)
        self.backoff = 0

    def back_off(self) -> None:
        """RFC 6298 §5.5: RTO <- RTO * 2 after a timeout."""
        if self._rto * (1 << self.backoff) < self.maximum:
            self.backoff += 1

    def reset_backoff(self) -> None:
        self.backoff = 0
