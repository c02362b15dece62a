"""A synthetic ACK clock: drive a congestion controller without a network.

A *round* sends one congestion window of full-sized segments and acknowledges them over
the next round-trip time, one ACK per ``ack_every`` segments (1: an ACK per segment, 2:
delayed ACKs, RFC 9293 §3.8.6.3), evenly spaced so that the last ACK of a round arrives
exactly one RTT after the round began.  The sender is window-limited throughout, so each
ACK reports the whole window as in flight.  Used by the trajectory tests, and handy for
plotting an algorithm's window against the RFC's formulas.
"""

from __future__ import annotations

from dataclasses import dataclass

from synack.tcp.congestion.base import CongestionControl


@dataclass(frozen=True, slots=True)
class Sample:
    """The window at the end of a round."""

    time: float
    cwnd: int
    ssthresh: int


def ack_round(
    cc: CongestionControl, now: float, rtt: float, ack_every: int = 1, app_limited: bool = False
) -> float:
    """Send ``cc.cwnd`` (whole segments, at least one) at ``now`` and deliver the ACKs
    for it during the following ``rtt``.  Returns the time the round ends."""
    if ack_every < 1:
        raise ValueError("ack_every must be >= 1")
    mss = cc.mss
    segments = max(cc.cwnd // mss, 1)
    acks = -(-segments // ack_every)
    for i in range(acks):
        covered = min(ack_every, segments - i * ack_every)
        cc.on_ack(covered * mss, now + rtt * (i + 1) / acks, rtt, cc.cwnd, app_limited)
    return now + rtt


def run_rounds(
    cc: CongestionControl, rounds: int, rtt: float, start: float = 0.0, ack_every: int = 1
) -> list[Sample]:
    """``rounds`` consecutive loss-free rounds from ``start``; one sample per round."""
    samples = []
    now = start
    for _ in range(rounds):
        now = ack_round(cc, now, rtt, ack_every)
        samples.append(Sample(now, cc.cwnd, cc.ssthresh))
    return samples


def run_until(
    cc: CongestionControl, until: float, rtt: float, start: float = 0.0, ack_every: int = 1
) -> list[Sample]:
    """Loss-free rounds from ``start`` while a whole round fits before ``until``."""
    samples = []
    now = start
    while now + rtt <= until + 1e-9:
        now = ack_round(cc, now, rtt, ack_every)
        samples.append(Sample(now, cc.cwnd, cc.ssthresh))
    return samples
