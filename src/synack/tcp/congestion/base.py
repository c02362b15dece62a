"""The congestion-control interface (RFC 5681 §3; Linux's tcp_congestion_ops).

A connection owns one :class:`CongestionControl`, chosen by name like Linux's
``TCP_CONGESTION`` socket option.  The connection tells it what happens (data acked
outside recovery, a congestion event, the end of recovery, an RTO, idle time, an ECN
echo) and reads ``cwnd`` and ``ssthresh`` back.  While in fast recovery the sending rate
is governed by PRR (RFC 6937), which only needs ``ssthresh`` from here; when recovery
ends the connection calls :meth:`on_recovery_end`.

All sizes are in bytes; ``mss`` is the sender's effective MSS.  ``now`` is seconds from
the connection's clock.  Implementations are pure: no clock, no randomness.
"""

from __future__ import annotations

from abc import ABC, abstractmethod


class CongestionControl(ABC):
    name: str = ""
    #: RFC 5681 §4.1 restart after idle (Linux net.ipv4.tcp_slow_start_after_idle).
    restart_after_idle: bool = True

    def __init__(self, mss: int, initial_cwnd: int, now: float = 0.0) -> None:
        self.mss = mss
        self.cwnd = initial_cwnd
        #: RFC 5681 §3.1: "the initial value of ssthresh SHOULD be set arbitrarily high".
        self.ssthresh = 1 << 30

    @property
    def in_slow_start(self) -> bool:
        return self.cwnd < self.ssthresh

    @abstractmethod
    def on_ack(
        self, acked: int, now: float, rtt: float | None, in_flight: int, app_limited: bool
    ) -> None:
        """``acked`` bytes were newly acknowledged (cumulatively or by SACK) outside
        recovery.  ``in_flight`` is what was outstanding before this ACK; ``app_limited``
        is True when the sender did not fill cwnd (then cwnd should not grow, RFC 7661)."""

    @abstractmethod
    def on_congestion_event(self, now: float, in_flight: int) -> None:
        """A loss was detected (fast retransmit, RACK) or an ECN echo arrived: set
        ``ssthresh`` (and remember what the algorithm needs).  Entering fast recovery."""

    def on_recovery_end(self, now: float) -> None:
        """Fast recovery is over: RFC 6937 / RFC 6582 set cwnd to ssthresh."""
        self.cwnd = max(self.ssthresh, self.mss)

    @abstractmethod
    def on_rto(self, now: float, in_flight: int) -> None:
        """The retransmission timer expired (RFC 5681 §3.1 equation 4, loss window)."""

    @abstractmethod
    def on_idle(self, now: float, idle: float, rto: float) -> None:
        """Restart after idle (RFC 5681 §4.1): after more than one RTO without sending,
        cwnd is reduced to the restart window min(IW, cwnd)."""

    def on_mss_change(self, mss: int) -> None:
        self.mss = mss

    def on_rtt_sample(  # noqa: B027 - optional hook
        self,
        rtt: float,
        now: float,
        *,
        snd_una: int = 0,
        snd_nxt: int = 0,
        srtt: float | None = None,
    ) -> None:
        """One RTT measurement (for the slow-start exit: Linux's HyStart, RFC 9406),
        with SND.UNA and SND.NXT after the ACK and the smoothed RTT before it."""

    def on_round_start(self, now: float) -> None:  # noqa: B027 - optional hook
        """A new round of data began: SND.UNA passed the SND.NXT of the last one."""

    def info(self) -> dict[str, float | int]:
        """Algorithm state for introspection (TCP_INFO, traces)."""
        return {"cwnd": self.cwnd, "ssthresh": self.ssthresh}
