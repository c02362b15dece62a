"""Reno window trajectories against RFC 5681 §3.1, driven by synthetic ACK rounds."""

from hypothesis import given
from hypothesis import strategies as st

from synack.tcp.congestion import Reno
from synack.tcp.congestion.synthetic import run_rounds

MSS = 1000
IW = 10 * MSS
RTT = 0.1


def after_loss(window_segments: int, mss: int = MSS) -> Reno:
    """A Reno sender that saw a loss with ``window_segments`` in flight and finished
    recovery: cwnd = ssthresh = eq 4."""
    r = Reno(mss, window_segments * mss)
    r.on_congestion_event(0.0, window_segments * mss)
    r.on_recovery_end(RTT)
    return r


@given(st.integers(1, 10_000), st.sampled_from([536, 1220, 1460, 9000]))
def test_congestion_event_sets_ssthresh_by_equation_4(flight_segments, mss):
    # RFC 5681 §3.1 eq 4: ssthresh = max(FlightSize / 2, 2*SMSS).
    flight = flight_segments * mss + mss // 3
    r = Reno(mss, flight)
    r.on_congestion_event(1.0, flight)
    assert r.ssthresh == max(flight // 2, 2 * mss)
    r.on_recovery_end(1.1)
    assert r.cwnd == r.ssthresh


def test_loss_halves_the_window_of_a_full_pipe():
    r = Reno(MSS, IW)
    run_rounds(r, 3, RTT)  # 80 segments
    r.on_congestion_event(0.35, r.cwnd)
    r.on_recovery_end(0.45)
    assert (r.cwnd, r.ssthresh) == (40 * MSS, 40 * MSS)


def test_rto_uses_equation_4_and_the_loss_window():
    r = Reno(MSS, IW)
    run_rounds(r, 2, RTT)
    r.on_rto(1.0, 37 * MSS)
    assert r.ssthresh == 37 * MSS // 2
    assert r.cwnd == MSS


def test_congestion_avoidance_adds_exactly_one_segment_per_rtt():
    # RFC 5681 §3.1 byte counting: cwnd += SMSS once cwnd bytes have been acknowledged.
    r = after_loss(40)
    assert r.cwnd == 20 * MSS and not r.in_slow_start
    cwnds = [s.cwnd for s in run_rounds(r, 30, RTT, start=RTT)]
    assert cwnds == [(20 + n) * MSS for n in range(1, 31)]


def test_congestion_avoidance_with_delayed_acks_is_still_one_segment_per_rtt():
    r = after_loss(40)
    cwnds = [s.cwnd for s in run_rounds(r, 30, RTT, start=RTT, ack_every=2)]
    assert cwnds == [(20 + n) * MSS for n in range(1, 31)]


def test_congestion_avoidance_matches_equation_3_within_rounding():
    # Equation 3 (cwnd += SMSS*SMSS/cwnd per ACK) applied to the same ACK stream grows
    # slightly less than one SMSS per round; byte counting is its exact form.
    r = after_loss(40)
    eq3 = float(r.cwnd)
    for s in run_rounds(r, 50, RTT, start=RTT):
        for _ in range(int(eq3) // MSS):
            eq3 += MSS * MSS / eq3
        assert 0 <= s.cwnd - eq3 <= 0.05 * s.cwnd


def test_slow_start_then_linear_growth_after_crossing_ssthresh():
    r = Reno(MSS, IW)
    r.ssthresh = 64 * MSS
    cwnds = [s.cwnd // MSS for s in run_rounds(r, 10, RTT)]
    # 10 -> 20 -> 40 -> 64 (capped at ssthresh, the rest of the round counts in
    # congestion avoidance) -> +1 per RTT.
    assert cwnds[:3] == [20, 40, 64]
    assert cwnds[3:] == list(range(65, 72))


def test_an_ack_crossing_ssthresh_credits_the_rest_to_congestion_avoidance():
    r = Reno(MSS, 9 * MSS)
    r.ssthresh = 10 * MSS
    r.on_ack(2 * MSS, 0.1, RTT, 9 * MSS, False)
    assert r.cwnd == 10 * MSS
    assert r.bytes_acked == MSS


def test_recovery_from_rto_slow_starts_to_half_the_old_flight_then_grows_linearly():
    r = Reno(MSS, IW)
    run_rounds(r, 3, RTT)  # 80 segments
    r.on_rto(0.5, 80 * MSS)
    assert (r.cwnd, r.ssthresh) == (MSS, 40 * MSS)
    cwnds = [s.cwnd // MSS for s in run_rounds(r, 10, RTT, start=0.5)]
    assert cwnds == [2, 4, 8, 16, 32, 40, 41, 42, 43, 44]


def test_info_reports_byte_counter():
    r = after_loss(40)
    r.on_ack(3 * MSS, 0.2, RTT, r.cwnd, False)
    info = r.info()
    assert info["bytes_acked"] == 3 * MSS
    assert info["cwnd"] == 20 * MSS
