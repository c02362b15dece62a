"""RFC 5681 behaviour both algorithms share: slow start with byte counting, the loss
window after an RTO, restart after idle, no growth while application-limited, and
invariants over random event sequences."""

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synack.tcp.congestion import ALGORITHMS, make
from synack.tcp.congestion.standard import StandardCongestionControl
from synack.tcp.congestion.synthetic import ack_round, run_rounds

MSS = 1000
IW = 10 * MSS  # RFC 6928
RTT = 0.1
NAMES = sorted(ALGORITHMS)


def cc(name: str, mss: int = MSS, iw: int = IW) -> StandardCongestionControl:
    made = make(name, mss, iw)
    assert isinstance(made, StandardCongestionControl)
    return made


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("ack_every", [1, 2])
def test_slow_start_doubles_cwnd_every_rtt(name, ack_every):
    # RFC 5681 §3.1 eq 2 with RFC 3465 L = 2*SMSS: a delayed ACK covering two segments
    # opens the window by two, so the window doubles per RTT either way.
    c = cc(name)
    assert c.cwnd == IW and c.in_slow_start
    cwnds = [s.cwnd for s in run_rounds(c, 6, RTT, ack_every=ack_every)]
    assert cwnds == [IW * 2**n for n in range(1, 7)]


@pytest.mark.parametrize("name", NAMES)
def test_a_stretch_ack_in_slow_start_grows_cwnd_by_at_most_two_segments(name):
    # RFC 3465 §2.2: cwnd += min(N, L), L = 2*SMSS.
    c = cc(name)
    c.on_ack(8 * MSS, 0.1, RTT, IW, False)
    assert c.cwnd == IW + 2 * MSS
    c.on_ack(MSS // 2, 0.2, RTT, IW, False)
    assert c.cwnd == IW + 2 * MSS + MSS // 2


@pytest.mark.parametrize("name", NAMES)
def test_rto_sets_loss_window_of_one_segment(name):
    # RFC 5681 §3.1: after a timeout cwnd = LW = 1 SMSS.
    c = cc(name)
    run_rounds(c, 2, RTT)  # cwnd 40 segments
    c.on_rto(1.0, 40 * MSS)
    assert c.cwnd == MSS
    assert c.in_slow_start


@pytest.mark.parametrize("name", NAMES)
def test_repeated_rto_of_the_same_segment_holds_ssthresh(name):
    # RFC 5681 §3.1: when the segment was already retransmitted by the timer,
    # "the value of ssthresh is held constant".
    c = cc(name)
    run_rounds(c, 2, RTT)
    c.on_rto(1.0, 40 * MSS)
    first = c.ssthresh
    assert first > 2 * MSS
    c.on_rto(3.0, MSS)  # backed-off retransmission; eq 4 would give 2 SMSS
    assert c.ssthresh == first and c.cwnd == MSS
    # New data acknowledged: a later timeout is a new loss and sets ssthresh again.
    c.on_ack(MSS, 3.5, RTT, MSS, False)
    c.on_rto(5.0, 2 * MSS)
    assert c.ssthresh == 2 * MSS  # both eq 4 and RFC 9438 floor at 2 SMSS


@pytest.mark.parametrize("name", NAMES)
def test_end_of_recovery_after_a_timeout_keeps_slow_starting(name):
    # RFC 5681 §3.1: after an RTO the window slow-starts from LW; the end of that
    # recovery must not jump to ssthresh (nor cut a window already above it).
    c = cc(name)
    run_rounds(c, 3, RTT)
    c.on_rto(1.0, 80 * MSS)
    run_rounds(c, 2, RTT, start=1.0)
    assert c.cwnd == 4 * MSS
    c.on_recovery_end(1.2)
    assert c.cwnd == 4 * MSS and c.in_slow_start
    # A later fast recovery ends with cwnd = ssthresh as usual.
    c.on_congestion_event(2.0, 4 * MSS)
    c.on_recovery_end(2.1)
    assert c.cwnd == c.ssthresh < 4 * MSS


@pytest.mark.parametrize("name", NAMES)
def test_slow_start_after_rto_counts_one_segment_per_ack(name):
    # RFC 3465 §2.3: L = 1*SMSS in the slow start that follows an RTO, so with delayed
    # ACKs the window grows by half per RTT instead of doubling.
    c = cc(name)
    run_rounds(c, 3, RTT)  # 80 segments
    c.on_rto(1.0, 80 * MSS)
    cwnds = [s.cwnd // MSS for s in run_rounds(c, 6, RTT, start=1.0, ack_every=2)]
    assert cwnds == [2, 3, 5, 8, 12, 18]


@pytest.mark.parametrize("name", NAMES)
def test_slow_start_after_rto_with_an_ack_per_segment_doubles_to_ssthresh(name):
    c = cc(name)
    run_rounds(c, 3, RTT)
    c.on_rto(1.0, 80 * MSS)
    ssthresh = c.ssthresh
    cwnds = [s.cwnd for s in run_rounds(c, 8, RTT, start=1.0)]
    assert cwnds[:5] == [2 * MSS, 4 * MSS, 8 * MSS, 16 * MSS, 32 * MSS]
    # Slow start stops at ssthresh; the window then grows by far less than doubling.
    crossing = next(i for i, w in enumerate(cwnds) if w >= ssthresh)
    assert cwnds[crossing] < 2 * cwnds[crossing - 1]
    # (Reno: one segment per RTT; CUBIC after a timeout: Linux's floor of 5 % per RTT.)
    assert all(b - a < max(2 * MSS, a // 16) for a, b in pairwise(cwnds[crossing:]))


@pytest.mark.parametrize("name", NAMES)
def test_restart_after_idle_longer_than_rto_resets_cwnd_to_initial_window(name):
    # RFC 5681 §4.1: cwnd = min(RW, cwnd), RW = min(IW, cwnd).
    c = cc(name)
    run_rounds(c, 2, RTT)
    assert c.cwnd == 40 * MSS
    c.ssthresh = 20 * MSS  # as if slow start had ended there
    c.on_idle(5.0, idle=1.5, rto=1.0)
    assert c.cwnd == IW
    # ssthresh keeps 3/4 of the old window (RFC 2861 §3, Linux tcp_cwnd_restart).
    assert c.ssthresh == 30 * MSS
    assert c.in_slow_start


@pytest.mark.parametrize("name", NAMES)
def test_idle_up_to_one_rto_keeps_cwnd(name):
    c = cc(name)
    run_rounds(c, 2, RTT)
    c.on_idle(5.0, idle=1.0, rto=1.0)
    assert c.cwnd == 40 * MSS


@pytest.mark.parametrize("name", NAMES)
def test_restart_window_never_raises_a_small_cwnd(name):
    c = cc(name)
    run_rounds(c, 2, RTT)
    c.on_rto(1.0, 40 * MSS)  # cwnd 1 SMSS < IW
    ssthresh = c.ssthresh
    c.on_idle(9.0, idle=5.0, rto=1.0)
    assert c.cwnd == MSS and c.ssthresh == ssthresh


@pytest.mark.parametrize("name", NAMES)
def test_restart_after_idle_can_be_turned_off(name):
    # Linux net.ipv4.tcp_slow_start_after_idle = 0.
    c = cc(name)
    c.restart_after_idle = False
    run_rounds(c, 2, RTT)
    c.on_idle(5.0, idle=30.0, rto=1.0)
    assert c.cwnd == 40 * MSS


@pytest.mark.parametrize("name", NAMES)
def test_restart_window_follows_the_mss(name):
    c = cc(name, mss=1460, iw=14600)
    run_rounds(c, 2, RTT)
    c.on_mss_change(1200)
    c.on_idle(5.0, idle=2.0, rto=1.0)
    assert c.cwnd == 10 * 1200


@pytest.mark.parametrize("name", NAMES)
def test_application_limited_acks_do_not_grow_cwnd(name):
    # RFC 7661: an unvalidated window must not grow.
    c = cc(name)
    now = 0.0
    for _ in range(5):
        now = ack_round(c, now, RTT, app_limited=True)
    assert c.cwnd == IW
    c.on_congestion_event(now, IW)
    c.on_recovery_end(now + RTT)
    cwnd = c.cwnd
    for _ in range(20):
        now = ack_round(c, now + RTT, RTT, app_limited=True)
    assert c.cwnd == cwnd


@pytest.mark.parametrize("name", NAMES)
def test_recovery_end_sets_cwnd_to_ssthresh(name):
    c = cc(name)
    run_rounds(c, 2, RTT)
    c.on_congestion_event(1.0, 40 * MSS)
    assert c.cwnd == 40 * MSS  # PRR, in the connection, brings it down during recovery
    c.on_recovery_end(1.2)
    assert c.cwnd == c.ssthresh and not c.in_slow_start
    info = c.info()
    assert info["cwnd"] == c.cwnd and info["ssthresh"] == c.ssthresh
    assert info["congestion_events"] == 1


# --- properties over random event sequences --------------------------------------------

EVENT = st.one_of(
    # An ACK covers 1..100 % of the window (it cannot acknowledge more than was sent).
    st.tuples(st.just("ack"), st.integers(1, 100), st.booleans()),
    st.tuples(st.just("loss"), st.integers(0, 200_000), st.just(False)),
    st.tuples(st.just("rto"), st.integers(0, 200_000), st.just(False)),
    st.tuples(st.just("idle"), st.integers(0, 3_000), st.just(False)),
)


def replay(name: str, mss: int, events: list[tuple[str, int, bool]]) -> list[tuple[int, int]]:
    c = make(name, mss, 10 * mss)
    now = 0.0
    trace = []
    for kind, amount, app_limited in events:
        now += 0.01
        before = c.cwnd
        if kind == "ack":
            c.on_ack(max(c.cwnd * amount // 100, 1), now, 0.05, c.cwnd, app_limited)
            assert c.cwnd >= before, "an ACK never shrinks the window"
            if app_limited:
                assert c.cwnd == before, "no growth while application-limited"
            elif before < c.ssthresh:
                assert c.cwnd - before <= 2 * mss, "RFC 3465 L = 2*SMSS"
            else:
                # Reno: one SMSS per cwnd acknowledged; CUBIC: target <= 1.5 * cwnd.
                assert c.cwnd <= 1.5 * before + mss
        elif kind == "loss":
            c.on_congestion_event(now, amount)
            c.on_recovery_end(now)
        elif kind == "rto":
            c.on_rto(now, amount)
            assert c.cwnd == mss
        else:
            c.on_idle(now, amount / 1000, 1.0)
            assert c.cwnd <= before
        assert c.cwnd >= mss
        assert c.ssthresh >= 2 * mss
        trace.append((c.cwnd, c.ssthresh))
    return trace


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(NAMES),
    st.sampled_from([536, 1000, 1460, 8960]),
    st.lists(EVENT, max_size=60),
)
def test_invariants_hold_and_runs_are_deterministic(name, mss, events):
    assert replay(name, mss, events) == replay(name, mss, events)
