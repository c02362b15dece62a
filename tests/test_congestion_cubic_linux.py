"""Where synack's CUBIC follows Linux's tcp_cubic.c rather than RFC 9438 alone."""

from synack.tcp.congestion import Cubic

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
    # floor only matters on a plateau with no W_max to aim at.
    before = c.cwnd
    c.on_ack(2 * MSS, 0.05, RTT, c.cwnd, False)
    assert c.cwnd > before


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

    c = RfcCubic(MSS, 48 * MSS)
    c.ssthresh = 48 * MSS
    c.on_rtt_sample(RTT, 0.0)
    assert _ca_growth(c, 1.0) == 0  # W_cubic(1.1 s) - 48 = 0.53: no whole segment yet
