"""Reno window arithmetic (RFC 5681 §3.1), Linux's ``reno``.

Slow start, congestion avoidance and the ssthresh of equation 4.  NewReno's fast
recovery (RFC 6582) and PRR (RFC 6937) live in the connection, which calls
:meth:`on_congestion_event` when it enters recovery and :meth:`on_recovery_end` (cwnd =
ssthresh) when it leaves.
"""

from __future__ import annotations

from synack.tcp.congestion.standard import StandardCongestionControl


class Reno(StandardCongestionControl):
    name = "reno"

    def __init__(self, mss: int, initial_cwnd: int, now: float = 0.0) -> None:
        super().__init__(mss, initial_cwnd, now)
        #: RFC 3465 §2.1 bytes_acked: bytes acknowledged in congestion avoidance since
        #: cwnd last grew.
        self.bytes_acked = 0

    def _congestion_avoidance(self, acked: int, now: float, rtt: float | None) -> None:
        # RFC 5681 §3.1: "The RECOMMENDED way to increase cwnd during congestion
        # avoidance is to count the number of bytes that have been acknowledged by ACKs
        # for new data ... When the number of bytes acknowledged reaches cwnd, then cwnd
        # can be incremented by up to SMSS bytes" - one SMSS per RTT, the byte-counted
        # form of eq 3 (cwnd += SMSS*SMSS/cwnd per ACK) without its rounding.  RFC 3465
        # §2.1: bytes_acked is reduced by cwnd, then cwnd grows by SMSS.
        self.bytes_acked += acked
        while self.bytes_acked >= self.cwnd:
            self.bytes_acked -= self.cwnd
            self.cwnd += self.mss

    def _reduce(self, now: float, in_flight: int, timeout: bool) -> int:
        # RFC 5681 §3.1 eq 4: ssthresh = max(FlightSize / 2, 2*SMSS), for fast
        # retransmit (§3.2 step 2) and for the retransmission timer alike.
        self.bytes_acked = 0
        return max(in_flight // 2, 2 * self.mss)

    def _on_restart(self, now: float) -> None:
        self.bytes_acked = 0

    def info(self) -> dict[str, float | int]:
        return {**super().info(), "bytes_acked": self.bytes_acked}
