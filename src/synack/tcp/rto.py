"""Retransmission timeout estimation: RFC 6298, or Linux's variant of it (the default).

RFC 6298 §2: SRTT and RTTVAR by exponential averaging, RTO = SRTT + max(G, 4*RTTVAR),
then a floor (Linux's 200 ms instead of the RFC's 1 s) and a ceiling.

Linux (tcp_rtt_estimator, __tcp_set_rto) keeps the same averages but puts its floor
inside the formula: the variance term is never below ``rto_min``, so RTO = SRTT +
max(rto_min, ~4*mdev).  The variance term also only decays once per round trip (its
largest value in the last window of data, ``mdev_max``, is what counts), and a falling
RTT raises the deviation eight times more slowly than a rising one (the "Eifel-like"
damping).  On a 100 ms path RFC 6298 settles near 200 ms, Linux near 300 ms; the first
sample gives 3 x RTT either way (for RTTs over 100 ms).
"""

from __future__ import annotations

from synack.tcp.seq import seq_gt

ALPHA = 1 / 8  # RFC 6298 §2.3
BETA = 1 / 4  # RFC 6298 §2.3
K = 4  # RFC 6298 §2.2
G = 0.001  # clock granularity: synack's TSval ticks in milliseconds


class RTOEstimator:
    """SRTT, RTTVAR and RTO, plus exponential backoff (RFC 6298 §5.5).

    ``linux`` (default) selects Linux's estimator; ``rttvar`` is then Linux's mdev
    (tcpi_rttvar), the smoothed mean deviation."""

    # Slots: thousands of connections (TIME_WAIT) each keep one; no per-object dict.
    __slots__ = (
        "_mdev4",
        "_mdev_max",
        "_rto",
        "_rtt_seq",
        "_var_term",
        "backoff",
        "initial",
        "linux",
        "maximum",
        "minimum",
        "rttvar",
        "srtt",
    )

    def __init__(
        self,
        initial: float = 1.0,
        minimum: float = 0.2,
        maximum: float = 120.0,
        *,
        linux: bool = True,
    ) -> None:
        self.initial = initial
        self.minimum = minimum
        self.maximum = maximum
        self.linux = linux
        self.srtt: float | None = None
        self.rttvar: float = 0.0
        self._rto = initial  # RFC 6298 §2.1: until a measurement, RTO = 1 s
        self.backoff = 0  # number of doublings since the last valid sample
        # Linux's state, in its own scale: mdev_us and rttvar_us hold 4 x deviation.
        self._mdev4 = 0.0
        self._mdev_max = 0.0
        self._var_term = 0.0  # rttvar_us: the term added to SRTT, never below minimum
        self._rtt_seq: int | None = None

    @property
    def rto(self) -> float:
        """The current timeout, with backoff applied and bounded by the maximum."""
        return min(self._rto * (1 << self.backoff), self.maximum)

    def sample(self, rtt: float, snd_una: int | None = None, snd_nxt: int | None = None) -> None:
        """Take one RTT measurement R.  Linux's estimator needs SND.UNA and SND.NXT to
        tell when a round trip has passed; without them it falls back to RFC 6298."""
        rtt = max(rtt, 0.0)
        if self.linux and snd_una is not None and snd_nxt is not None:
            self._linux_sample(rtt, snd_una, snd_nxt)
        else:
            self._rfc6298_sample(rtt)
        self.backoff = 0

    def _rfc6298_sample(self, rtt: float) -> None:
        """RFC 6298 §2.2 and §2.3."""
        if self.srtt is None:
            self.srtt = rtt
            self.rttvar = rtt / 2
        else:
            self.rttvar = (1 - BETA) * self.rttvar + BETA * abs(self.srtt - rtt)
            self.srtt = (1 - ALPHA) * self.srtt + ALPHA * rtt
        # RFC 6298 §2.4: RTO = SRTT + max(G, K*RTTVAR), then the §2.4 minimum.
        self._rto = min(max(self.srtt + max(G, K * self.rttvar), self.minimum), self.maximum)

    def _linux_sample(self, m: float, snd_una: int, snd_nxt: int) -> None:
        """Linux tcp_rtt_estimator and __tcp_set_rto, in seconds instead of scaled
        microseconds."""
        if self.srtt is None:
            self.srtt = m
            self._mdev4 = 2 * m  # "make sure rto = 3*rtt"
            self._var_term = max(self._mdev4, self.minimum)
            self._mdev_max = self._var_term
            self._rtt_seq = snd_nxt
        else:
            err = m - self.srtt
            self.srtt += err * ALPHA
            if err < 0:
                e = -err - self._mdev4 / 4
                if e > 0:
                    e /= 8  # a falling RTT moves the deviation up only slowly
            else:
                e = err - self._mdev4 / 4
            self._mdev4 += e  # mdev = 3/4 mdev + 1/4 |err|, in the 4x scale
            if self._mdev4 > self._mdev_max:
                self._mdev_max = self._mdev4
                self._var_term = max(self._var_term, self._mdev_max)
            if self._rtt_seq is None or seq_gt(snd_una, self._rtt_seq):
                # A round trip has passed: let the variance term decay towards the
                # largest deviation of that round, and start a new round.
                if self._mdev_max < self._var_term:
                    self._var_term -= (self._var_term - self._mdev_max) / 4
                self._rtt_seq = snd_nxt
                self._mdev_max = self.minimum
        self.rttvar = self._mdev4 / 4
        self._rto = min(self.srtt + self._var_term, self.maximum)

    def back_off(self) -> None:
        """RFC 6298 §5.5: RTO <- RTO * 2 after a timeout."""
        if self._rto * (1 << self.backoff) < self.maximum:
            self.backoff += 1

    def reset_backoff(self) -> None:
        self.backoff = 0
