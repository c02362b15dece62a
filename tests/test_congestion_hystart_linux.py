"""Linux's HyStart (tcp_cubic.c), CUBIC's default slow-start exit, driven by synthetic
ACKs: rounds, RTT samples and arrival times."""

import pytest

from synack.errors import UsageError
from synack.tcp.config import TCPConfig
from synack.tcp.congestion import make
from synack.tcp.congestion.hystart_linux import LOW_WINDOW, MIN_SAMPLES, LinuxHyStart

MSS = 1000


def _cubic(cwnd_segments: int):
    cc = make("cubic", MSS, cwnd_segments * MSS)
    assert isinstance(cc.hystart, LinuxHyStart)  # the default, as on Linux
    return cc


def _ack(cc, una: int, nxt: int, rtt: float, now: float, srtt: float | None = None) -> None:
    """One ACK of one segment: the RTT sample, then the window growth."""
    cc.on_rtt_sample(rtt, now, snd_una=una, snd_nxt=nxt, srtt=srtt)
    cc.on_ack(MSS, now, rtt, cc.cwnd, False)


def test_delay_increase_ends_slow_start_at_the_ninth_sample_of_a_round():
    """packetdrill cubic-hystart-delay-rtt-jumps-upward: 200 ms, then a round at 240 ms
    (above 200 + clamp(200/8, 4, 16) = 216 ms): the first 8 samples are gathered, the
    9th ends slow start with ssthresh = cwnd, before this ACK's growth."""
    cc = _cubic(20)
    _ack(cc, 1, 1, 0.200, 0.0)  # delay_min 200 ms; a round that ends at 1
    una, nxt = 1, 20_001
    for i in range(MIN_SAMPLES):
        una += MSS
        _ack(cc, una, nxt, 0.240 + i * 0.001, 1.0 + i * 0.003)  # ACKs 3 ms apart
        assert cc.in_slow_start
    cwnd = cc.cwnd
    _ack(cc, una + MSS, nxt, 0.248, 1.03)
    assert cc.ssthresh == cwnd and cc.cwnd // MSS == cwnd // MSS  # no longer doubling
    assert cc.hystart.exit_reason == "delay"


def test_a_steady_rtt_keeps_slow_start():
    cc = _cubic(20)
    una, nxt, now = 1, 1, 0.0
    for _ in range(5):  # five rounds, ACKs 3 ms apart (no train), RTT flat
        nxt = una + cc.cwnd
        for _ in range(cc.cwnd // MSS):
            una += MSS
            now += 0.003
            _ack(cc, una, nxt, 0.1, now)
    assert cc.in_slow_start and not cc.hystart.found


def test_an_ack_train_longer_than_half_the_min_rtt_ends_slow_start():
    """ACKs 1.5 ms apart (a train) for more than delay_min / 2 = 10 ms of the round."""
    cc = _cubic(32)
    _ack(cc, 1, 1, 0.020, 0.0)
    una, nxt, now = 1, 40_001, 1.0
    ended_at = None
    for i in range(30):
        una += MSS
        _ack(cc, una, nxt, 0.020, now + i * 0.0015)
        if not cc.in_slow_start:
            ended_at = i
            break
    # The round starts at the first ACK (t = 1.0); the train passes 10 ms at t = 1.0105.
    assert ended_at == 7
    assert cc.hystart.exit_reason == "ack_train"


def test_spread_out_acks_are_no_train():
    cc = _cubic(32)
    _ack(cc, 1, 1, 0.020, 0.0)
    una, nxt = 1, 40_001
    for i in range(30):
        una += MSS
        _ack(cc, una, nxt, 0.020, 1.0 + i * 0.0025)  # 2.5 ms apart: > hystart_ack_delta
    assert cc.in_slow_start


def test_no_detection_below_sixteen_segments():
    cc = _cubic(LOW_WINDOW - 6)  # grows by one segment per ACK: 10 ... 15
    _ack(cc, 1, 1, 0.2, 0.0)
    una = 1
    for i in range(5):
        una += MSS
        _ack(cc, una, 100_001, 0.5, 1.0 + i * 0.0001)  # far above the minimum, a train
    assert cc.in_slow_start and not cc.hystart.found


def test_a_timeout_forgets_the_minimum_rtt_and_rearms_hystart():
    cc = _cubic(40)
    _ack(cc, 1, 1, 0.2, 0.0)
    cc.on_rto(1.0, cc.cwnd)
    assert cc.hystart.delay_min is None and not cc.hystart.found


def test_reno_has_no_hystart_and_the_variant_is_configurable():
    assert make("reno", MSS, 10 * MSS).hystart is None  # Linux: HyStart is CUBIC's
    assert TCPConfig().hystart == "linux"
    with pytest.raises(UsageError):
        TCPConfig(hystart="fast")
    with pytest.raises(UsageError):
        TCPConfig(congestion="bbr")
