"""Where synack's CUBIC follows Linux's tcp_cubic.c rather than RFC 9438 alone."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from synack.tcp.congestion import Cubic
from synack.tcp.congestion.cubic_linux import CUBE_FACTOR, icbrt
from synack.tcp.congestion.synthetic import run_rounds

MSS = 1000
RTT = 0.1


def _ca_growth(c: Cubic, seconds: float, segments_per_ack: int = 2) -> int:
    """Run congestion avoidance for ``seconds`` (an ACK every RTT of 2 segments, an
    ACK clock held back, as packetdrill cubic-bulk-166k does); cwnd growth in segments."""
    start = c.cwnd
    now = 10.0
    while now < 10.0 + seconds:
        c.on_ack(segments_per_ack * MSS, now, RTT, c.cwnd, False)
        now += RTT
    return (c.cwnd - start) // MSS


def test_before_any_congestion_event_cwnd_grows_at_least_5_percent_per_rtt_of_acks():
    """bictcp_update: "if (ca->last_max_cwnd == 0 && ca->cnt > 20) ca->cnt = 20": one
    segment per 20 acknowledged while no loss has set W_max (slow start left by
    HyStart).  cubic-bulk-166k: 48 -> 49 after 22 segments, -> 50 after 20 more."""
    c = Cubic(MSS, 48 * MSS)
    c.ssthresh = 48 * MSS  # slow start left at 48 (HyStart), no loss
    c.on_rtt_sample(RTT, 0.0)
    assert _ca_growth(c, 1.1) == 1  # 22 segments
    assert _ca_growth(c, 1.0) == 1  # 20 more


def test_after_a_congestion_event_the_curve_alone_sets_the_pace():
    c = Cubic(MSS, 48 * MSS)
    c.on_congestion_event(0.0, 48 * MSS)  # W_max = 48, ssthresh = cwnd = 33.6
    c.on_recovery_end(0.0)
    # Far below W_max early in the epoch the concave curve gives more than 5 %; the
    # floor only matters on a plateau with no W_max to aim at.  cwnd = 33 (48 * 717 /
    # 1024), W_max = 48, K = 3.3 s: 34 packets acknowledged over 1.7 s add several
    # packets, where the floor alone would add one.
    assert c.cwnd == 33 * MSS
    c.on_rtt_sample(RTT, 0.0)
    assert _ca_growth(c, 1.7) >= 3


def test_a_timeout_forgets_w_max_and_the_floor_applies_again():
    """TCP_CA_Loss: bictcp_reset sets last_max_cwnd to 0."""
    c = Cubic(MSS, 48 * MSS)
    c.on_congestion_event(0.0, 48 * MSS)
    c.on_rto(1.0, 20 * MSS)
    c.cwnd = c.ssthresh  # slow start back up to ssthresh
    assert _ca_growth(c, 1.0) == 1  # 20 segments acknowledged: one more


def test_the_rfc_curve_alone_without_the_floor():
    class RfcCubic(Cubic):
        min_growth_divisor = None
        linux_arithmetic = False

    c = RfcCubic(MSS, 48 * MSS)
    c.ssthresh = 48 * MSS
    c.on_rtt_sample(RTT, 0.0)
    assert _ca_growth(c, 1.0) == 0  # W_cubic(1.1 s) - 48 = 0.53: no whole segment yet


# --- Linux's arithmetic (synack.tcp.congestion.cubic_linux) --------------------------------


@given(st.integers(min_value=0, max_value=1 << 70))
def test_icbrt_is_the_integer_cube_root(a: int) -> None:
    x = icbrt(a)
    assert x**3 <= a < (x + 1) ** 3


def test_k_is_computed_in_1024ths_of_a_second() -> None:
    """A loss at 100 packets: ssthresh 70 (100 * 717 // 1024), K = cbrt((100 - 70) /
    0.4004) s = 4.22 s, as the integer root of cube_factor * 30."""
    c = Cubic(MSS, 100 * MSS)
    c.on_congestion_event(0.0, 100 * MSS)
    c.on_recovery_end(0.0)
    assert c.cwnd == 70 * MSS
    c.on_ack(2 * MSS, 0.1, RTT, c.cwnd, False)  # the epoch starts at the first ACK
    assert c.bic.bic_k == icbrt(CUBE_FACTOR * 30)
    assert c.bic.bic_k / 1024 == pytest.approx(math.cbrt(30 / 0.4004), abs=0.002)


def test_at_most_one_packet_of_growth_per_two_acknowledged() -> None:
    """cnt >= 2: far past K the curve asks for much more, cwnd grows by half of what is
    acknowledged (1.5 x per round trip)."""
    c = Cubic(MSS, 20 * MSS)
    c.on_congestion_event(0.0, 20 * MSS)
    c.on_recovery_end(0.0)
    c.on_ack(MSS, 0.01, RTT, c.cwnd, False)  # epoch start
    now = 30.0  # K is about 2 s: W_cubic(30 s) is thousands of packets
    for _ in range(5):
        before = c.cwnd // MSS
        c.on_ack(10 * MSS, now, RTT, c.cwnd, False)
        assert c.bic.cnt == 2
        assert c.cwnd // MSS - before in (5, 6)  # 10 acknowledged: +5 (+1 carried over)
        now += RTT


def test_reno_friendly_growth_is_about_half_a_packet_per_round_trip() -> None:
    """Small window, short RTT (10 ms): the cubic curve barely moves in 0.5 s, the
    Reno-friendly estimate grows one packet per cwnd * 15 / 8 acknowledged, about 0.53
    per round trip, and cwnd follows it (no RFC 9438 alpha = 1 past cwnd_prior)."""
    c = Cubic(MSS, 10 * MSS)
    c.on_congestion_event(0.0, 10 * MSS)
    c.on_recovery_end(0.0)
    start = c.cwnd // MSS
    assert start == 7
    samples = run_rounds(c, 50, 0.01, start=0.001)
    grown = samples[-1].cwnd // MSS - start
    assert 22 <= grown <= 30, grown  # 50 round trips at ~0.53
