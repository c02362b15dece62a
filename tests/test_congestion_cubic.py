"""CUBIC window trajectories against RFC 9438, driven by synthetic ACK rounds.

The formulas are written out here independently of the implementation:
W_cubic(t) = C*(t-K)^3 + W_max, K = cbrt(W_max*(1-beta)/C) after a loss at W_max,
C = 0.4, beta = 0.7, alpha = 3*(1-beta)/(1+beta).
"""

import math
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from synack.tcp.congestion import Cubic as LinuxCubic
from synack.tcp.congestion.synthetic import ack_round, run_rounds, run_until


class Cubic(LinuxCubic):
    """The curve of RFC 9438 alone, as these tests check it: in real-valued arithmetic,
    without Linux's 5 %-per-RTT floor before the first congestion event (both tested in
    tests/test_congestion_cubic_linux.py)."""

    min_growth_divisor = None
    linux_arithmetic = False


MSS = 1000
C = 0.4
BETA = 0.7
ALPHA = 3 * (1 - BETA) / (1 + BETA)


def w_cubic(t: float, k: float, w_max: float) -> float:
    return C * (t - k) ** 3 + w_max


def after_loss(w_max_segments: int, at: float = 0.0) -> Cubic:
    """A CUBIC sender (IW 10 segments) that lost a segment with ``w_max_segments`` in
    flight and whose recovery ended at ``at``: the congestion-avoidance epoch starts
    then."""
    c = Cubic(MSS, 10 * MSS)
    c.cwnd = w_max_segments * MSS  # as if it had grown there
    c.on_congestion_event(at, w_max_segments * MSS)
    c.on_recovery_end(at)
    return c


def test_alpha_constant_is_the_reno_friendly_value():
    assert round(ALPHA, 4) == 0.5294


@given(st.integers(4, 20_000))
def test_k_is_the_time_to_regain_w_max(w_max):
    c = after_loss(w_max)
    assert c.k == pytest.approx(math.cbrt(w_max * (1 - BETA) / C), rel=1e-4)
    assert c.w_cubic(c.k) == pytest.approx(w_max)
    assert c.w_cubic(0.0) == pytest.approx(c.cwnd / MSS, rel=1e-4)


def test_k_for_a_loss_at_100_segments():
    assert after_loss(100).k == pytest.approx(4.2172, abs=1e-4)  # cbrt(75)


@given(st.integers(3, 100_000), st.sampled_from([536, 1460, 9000]))
def test_congestion_event_multiplies_by_beta(flight_segments, mss):
    # RFC 9438 §4.6: ssthresh = max(flight_size * beta_cubic, 2 SMSS).
    flight = flight_segments * mss
    c = Cubic(mss, flight)
    c.on_congestion_event(1.0, flight)
    assert c.ssthresh == pytest.approx(max(flight * BETA, 2 * mss), abs=0.5)
    c.on_recovery_end(1.1)
    assert c.cwnd == c.ssthresh
    assert c.w_max == pytest.approx(flight_segments)


def test_window_follows_the_cubic_curve_up_to_w_max():
    # Loss at W_max = 100 segments, RTT 100 ms: cwnd 70 -> 100 over K = 4.217 s.
    c = after_loss(100)
    k = math.cbrt(100 * (1 - BETA) / C)
    samples = run_until(c, k + 1.0, 0.1)
    assert len(samples) == 52
    for s in samples:
        assert s.cwnd / MSS == pytest.approx(w_cubic(s.time, k, 100), abs=0.25)
    at_k = min(samples, key=lambda s: abs(s.time - k))
    assert at_k.cwnd / MSS == pytest.approx(100, abs=0.25)


def test_growth_is_concave_before_k_and_convex_after():
    # W_max = 200, RTT 200 ms: K = cbrt(150) = 5.31 s.  The increments per RTT shrink
    # while approaching W_max and grow after it (RFC 9438 §4.4, §4.5).
    c = after_loss(200)
    k = math.cbrt(200 * (1 - BETA) / C)
    samples = run_until(c, k + 5.0, 0.2)
    cwnds = [c.ssthresh] + [s.cwnd for s in samples]
    steps = [(s, b - a) for s, (a, b) in zip(samples, pairwise(cwnds), strict=True)]
    concave = [d for s, d in steps if s.time < k - 0.2]
    convex = [d for s, d in steps if s.time > k + 0.4]
    assert all(b < a for a, b in pairwise(concave))
    assert all(b > a for a, b in pairwise(convex))
    assert concave[0] > 1000 and convex[0] < 1000 < convex[-1]
    for s in samples:
        expected = w_cubic(s.time, k, 200)
        assert s.cwnd / MSS == pytest.approx(expected, rel=0.005)
    # Five seconds past K: 0.4 * 4.9^3 = 47 segments above W_max.
    assert samples[-1].time - k > 4.8 and samples[-1].cwnd / MSS > 245


def test_reno_friendly_region_dominates_when_rtt_times_window_is_small():
    # W_max = 20 segments, RTT 10 ms: the cubic curve needs K = 2.47 s (247 RTTs) to
    # regain 20 segments.  RFC 9438 §4.3: W_est += alpha * segments_acked / cwnd per
    # ACK, alpha = 1 once W_est >= cwnd_prior (20); cwnd = W_est while W_cubic < W_est.
    c = after_loss(20)
    c.alpha_one_past_prior = True  # the RFC's SHOULD (Linux's alpha is the next test)
    k = math.cbrt(20 * (1 - BETA) / C)
    samples = run_rounds(c, 100, 0.01)
    w_est = 14.0
    for s in samples:
        assert s.cwnd / MSS > w_cubic(s.time, k, 20)
        for _ in range(int(w_est)):  # the round's ACKs, one per segment
            w_est += (1.0 if w_est >= 20 else ALPHA) / w_est
        assert s.cwnd / MSS == pytest.approx(w_est, abs=0.05)
    cwnds = [14.0] + [s.cwnd / MSS for s in samples]
    # About alpha = 0.53 segments per RTT up to cwnd_prior, then about one, as Reno.
    assert 0.45 < (cwnds[11] - cwnds[0]) / 11 < 0.53
    assert 0.95 < (cwnds[100] - cwnds[20]) / 80 < 1.0
    # After 1 s the window is over five times what the cubic curve alone would give.
    assert samples[-1].cwnd / MSS > 5 * w_cubic(1.0, k, 20)


def test_linux_keeps_the_reno_friendly_alpha_past_cwnd_prior():
    # Linux tcp_cubic (the default): W_est grows by alpha = 3(1-beta)/(1+beta) = 0.53
    # segments per RTT all the way, also past cwnd_prior, where the RFC would raise it
    # to 1.
    c = after_loss(20)
    assert not c.alpha_one_past_prior
    k = math.cbrt(20 * (1 - BETA) / C)
    samples = run_rounds(c, 100, 0.01)
    w_est = 14.0
    for s in samples:
        assert s.cwnd / MSS > w_cubic(s.time, k, 20)
        for _ in range(int(w_est)):
            w_est += ALPHA / w_est
        assert s.cwnd / MSS == pytest.approx(w_est, abs=0.05)
    cwnds = [14.0] + [s.cwnd / MSS for s in samples]
    assert 0.45 < (cwnds[11] - cwnds[0]) / 11 < 0.53
    assert 0.48 < (cwnds[100] - cwnds[20]) / 80 < 0.54  # still about alpha per RTT


def test_fast_convergence_lowers_w_max_when_the_window_shrinks():
    # RFC 9438 §4.7: a loss below the previous W_max sets W_max = cwnd * (1 + beta) / 2.
    flows = {}
    for fast in (True, False):
        c = after_loss(100)
        c.fast_convergence = fast
        now = 0.0
        while c.cwnd < 80 * MSS:
            now = ack_round(c, now, 0.1)
        loss_window = c.cwnd / MSS
        c.on_congestion_event(now, c.cwnd)
        c.on_recovery_end(now)
        flows[fast] = (c, now)
    fast_flow, now = flows[True]
    slow_flow, _ = flows[False]
    w_max = loss_window * (1 + BETA) / 2  # 0.85 * 81.0 = 68.9
    assert fast_flow.w_max == pytest.approx(w_max)
    assert slow_flow.w_max == pytest.approx(loss_window)
    epoch = fast_flow.cwnd / MSS
    assert epoch == pytest.approx(loss_window * BETA, abs=1e-3)
    k = math.cbrt((w_max - epoch) / C)  # cbrt(0.15 * 81 / 0.4) = 3.12 s
    assert fast_flow.k == pytest.approx(k)
    assert slow_flow.k == pytest.approx(math.cbrt((loss_window - epoch) / C))
    fast = run_until(fast_flow, now + k, 0.1, start=now)
    slow = run_until(slow_flow, now + k, 0.1, start=now)
    for s in fast:
        t = s.time - now
        if t < 2.0:  # before the Reno-friendly estimate overtakes the flat top
            assert s.cwnd / MSS == pytest.approx(w_cubic(t, k, w_max), abs=0.25)
    # The shrinking flow releases bandwidth: at K it is well below the loss window,
    # and below the same flow without fast convergence.
    assert all(f.cwnd <= s.cwnd for f, s in zip(fast, slow, strict=True))
    assert fast[-1].cwnd / MSS < loss_window - 7
    assert slow[-1].cwnd / MSS > loss_window - 1


def test_a_loss_above_w_max_remembers_the_new_maximum():
    c = after_loss(100)
    now = 0.0
    while c.cwnd < 110 * MSS:
        now = ack_round(c, now, 0.1)
    c.on_congestion_event(now, c.cwnd)
    assert c.w_max == pytest.approx(c.cwnd / MSS)


def test_target_is_clamped_to_one_and_a_half_windows_per_rtt():
    # RFC 9438 §4.2: target <= 1.5 * cwnd.  Far into the convex region W_cubic(t + RTT)
    # is huge (RTT 1 s, W_max 10), so the window grows by at most half per RTT.
    c = after_loss(10)
    cwnds = [c.cwnd] + [s.cwnd for s in run_rounds(c, 12, 1.0)]
    ratios = [b / a for a, b in pairwise(cwnds)]
    assert all(r <= 1.5 for r in ratios)
    assert ratios[-1] > 1.49


def test_timeout_restarts_the_curve_from_the_window_at_the_new_epoch():
    # RFC 9438 §4.8: ssthresh = beta * flight, cwnd = 1 SMSS; in the next congestion
    # avoidance stage W_max = cwnd_epoch and K = 0, so W(t) = 0.4 t^3 + 70.
    c = Cubic(MSS, 100 * MSS)
    c.on_rto(0.0, 100 * MSS)
    assert (c.cwnd, c.ssthresh) == (MSS, 70 * MSS)
    now = 0.0
    while c.t_epoch is None:
        now = ack_round(c, now, 0.5)
    assert c.k == 0.0 and c.w_max == pytest.approx(70)
    epoch = c.t_epoch
    for s in run_until(c, epoch + 7.0, 0.5, start=now):
        expected = w_cubic(s.time - epoch, 0.0, 70)
        assert s.cwnd / MSS == pytest.approx(expected, rel=0.015)


def test_application_limited_time_is_not_part_of_t():
    # RFC 9438 §5.8: two flows with the same loss; one is application-limited for 2 s
    # in between.  Its window stays put, then follows the same curve 2 s later.
    busy, limited = after_loss(100), after_loss(100)
    run_until(busy, 1.0, 0.1)
    now = 0.0
    while now < 1.0 - 1e-9:
        now = ack_round(limited, now, 0.1)
    frozen = limited.cwnd
    while now < 3.0 - 1e-9:
        now = ack_round(limited, now, 0.1, app_limited=True)
    assert limited.cwnd == frozen
    a = run_until(busy, 4.0, 0.1, start=1.0)
    b = run_until(limited, 6.0, 0.1, start=3.0)
    assert [s.cwnd for s in a] == pytest.approx([s.cwnd for s in b], rel=0.002)


def test_short_idle_shifts_the_epoch_instead_of_jumping_ahead():
    # Idle (not longer than the RTO) is not part of t either (RFC 9438 §5.8).
    c = after_loss(100)
    run_until(c, 1.0, 0.1)
    t_epoch = c.t_epoch
    cwnd = c.cwnd
    c.on_idle(1.8, idle=0.8, rto=1.0)
    assert c.cwnd == cwnd and c.t_epoch == pytest.approx(t_epoch + 0.8)


def test_restart_after_idle_slow_starts_then_begins_a_new_epoch():
    c = after_loss(100)
    run_until(c, 1.0, 0.1)
    c.on_idle(10.0, idle=9.0, rto=1.0)
    assert c.cwnd == 10 * MSS and c.t_epoch is None and c.in_slow_start
    ssthresh = c.ssthresh
    now = 10.0
    while c.in_slow_start:
        now = ack_round(c, now, 0.1)
    assert c.t_epoch is not None
    # W_max (100) is remembered: the new epoch climbs back towards it.
    assert c.w_max == pytest.approx(100)
    assert c.k == pytest.approx(math.cbrt((100 - ssthresh / MSS) / C), rel=1e-3)


def test_info_reports_cubic_state_in_bytes():
    c = after_loss(100)
    info = c.info()
    assert info["w_max"] == pytest.approx(100 * MSS)
    assert info["k"] == pytest.approx(math.cbrt(75))
    assert info["cwnd_prior"] == pytest.approx(100 * MSS)
    assert info["w_est"] == pytest.approx(70 * MSS)
