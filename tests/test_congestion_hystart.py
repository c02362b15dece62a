"""HyStart++ (RFC 9406) on CUBIC, driven by synthetic RTT samples and rounds."""

from synack.tcp.congestion import make as make_any
from synack.tcp.congestion.hystart import CSS_ROUNDS, N_RTT_SAMPLE, HyStartPP

MSS = 1000


def make(name, mss, iw):
    cc = make_any(name, mss, iw)
    cc.set_hystart("rfc9406")
    return cc


def _round(cc, rtt, now, acks=N_RTT_SAMPLE):
    cc.on_round_start(now)
    for _ in range(acks):
        cc.on_rtt_sample(rtt, now)
        cc.on_ack(MSS, now, rtt, cc.cwnd, False)


def test_flat_rtt_keeps_slow_start():
    cc = make("cubic", MSS, 10 * MSS)
    for i in range(4):
        _round(cc, 0.100, i * 0.1)
    assert cc.in_slow_start and not cc.hystart.in_css
    assert cc.cwnd == (10 + 4 * N_RTT_SAMPLE) * MSS  # one MSS per ACKed MSS


def test_rising_rtt_enters_css_growth_slows_then_slow_start_ends():
    cc = make("cubic", MSS, 10 * MSS)
    _round(cc, 0.100, 0.0)
    _round(cc, 0.100, 0.1)
    # RttThresh = clamp(100 ms / 8, 4 ms, 16 ms) = 12.5 ms: 115 ms is a delay increase.
    _round(cc, 0.115, 0.2)
    assert cc.hystart.in_css
    before = cc.cwnd
    _round(cc, 0.115, 0.3)
    assert cc.cwnd - before == N_RTT_SAMPLE * MSS // 4  # CSS: a quarter of slow start
    for i in range(CSS_ROUNDS - 2):  # the round at 0.3 s was CSS's first
        _round(cc, 0.115, 0.4 + i * 0.1)
        assert cc.in_slow_start and cc.hystart.in_css
    cwnd = cc.cwnd
    cc.on_round_start(1.0)  # the CSS_ROUNDS-th round ends CSS: ssthresh = cwnd
    assert cc.ssthresh == cwnd and not cc.in_slow_start


def test_rtt_back_below_the_baseline_resumes_slow_start():
    h = HyStartPP()
    for rtt in (0.1, 0.1, 0.13):
        h.on_round_start()
        for _ in range(N_RTT_SAMPLE):
            h.on_rtt_sample(rtt)
    assert h.in_css
    h.on_round_start()
    for _ in range(N_RTT_SAMPLE):
        h.on_rtt_sample(0.1)
    assert not h.in_css and not h.done


def test_loss_in_slow_start_ends_hystart():
    cc = make("cubic", MSS, 10 * MSS)
    cc.on_congestion_event(1.0, cc.cwnd)
    assert cc.hystart.done
    reno = make("reno", MSS, 10 * MSS)
    assert reno.hystart is None  # Linux runs HyStart with CUBIC only
