"""Retransmission timing: SYN backoff and give-up, SYN-ACK retries, data RTO, RTT."""

import errno

import pytest

from synack.tcp.rto import RTOEstimator
from synack.tcp.states import State
from synack.wire.tcp import Flags
from tcp_harness import A_ADDR, B_ADDR, Peer, handshake, seg

S, A = Flags.SYN, Flags.ACK


def test_syn_is_retried_six_times_with_doubling_backoff_then_etimedout():
    a = Peer.make(A_ADDR)
    a.conn.connect(B_ADDR, 0.0)
    (syn,) = a.flush(0.0)
    times = []
    while a.state is State.SYN_SENT:
        t = a.conn.get_timer()
        out = a.timer(t)
        if out:
            assert out[0].flags == S and out[0].seq == syn.seq
            times.append(t)
        else:
            end = t
    assert times == [1.0, 3.0, 7.0, 15.0, 31.0, 63.0]
    assert end == 127.0
    assert a.errors() == [errno.ETIMEDOUT]


def test_synack_is_retried_five_times_then_dropped():
    b = Peer.make(B_ADDR)
    b.conn.become_listener_child()
    b.recv_segment(seg(S, 1000, src=40000, dst=80), 0.0, A_ADDR)
    times = []
    while b.state is State.SYN_RECEIVED:
        t = b.conn.get_timer()
        if b.timer(t):
            times.append(t)
    assert times == [1.0, 3.0, 7.0, 15.0, 31.0]
    assert b.errors() == []  # a request socket dies silently


def test_lost_data_is_retransmitted_after_rto():
    a, b = handshake()
    a.conn.send(b"x" * 100, 1.0)
    (lost,) = a.flush(1.0)
    t = a.conn.get_timer()
    (again,) = a.timer(t)
    assert again.seq == lost.seq and again.payload == lost.payload
    (ack,) = b.recv_segment(again, t)
    a.recv_segment(ack, t)
    assert a.conn.snd_una == a.conn.snd_nxt
    assert a.conn.counters["RetransSegs"] == 1


def test_rto_follows_rfc6298():
    r = RTOEstimator()
    assert r.rto == 1.0
    r.sample(0.1)
    assert r.srtt == pytest.approx(0.1) and r.rttvar == pytest.approx(0.05)
    assert r.rto == pytest.approx(0.3)
    r.sample(0.1)
    assert r.rttvar == pytest.approx(0.0375)
    r2 = RTOEstimator()
    r2.sample(0.001)
    assert r2.rto == 0.2  # Linux's 200 ms minimum
    r2.back_off()
    assert r2.rto == 0.4
    for _ in range(20):
        r2.back_off()
    assert r2.rto == 120.0


def test_data_retransmissions_give_up_with_etimedout():
    a, _b = handshake(retries2=3)
    a.conn.send(b"x", 1.0)
    a.flush(1.0)
    while a.state is State.ESTABLISHED:
        a.timer(a.conn.get_timer())
    assert a.errors() == [errno.ETIMEDOUT]


def test_linux_rto_keeps_rto_min_inside_the_formula():
    """Linux tcp_rtt_estimator: RTO = SRTT + max(rto_min, ~4 mdev), the variance term
    decaying once per round trip; the first sample gives 3 x RTT for long RTTs.  On a
    steady 100 ms path RFC 6298 settles near 200 ms, Linux at 300 ms (packetdrill
    cubic-rto-ss-ca-cwnd-bump, slow-start-after-win-update)."""
    linux, rfc = RTOEstimator(), RTOEstimator(linux=False)
    linux.sample(0.1, 1, 1001)
    assert linux.rto == pytest.approx(0.3)
    una = 1
    for _ in range(40):
        una += 1000
        linux.sample(0.1, una, una + 1000)
        rfc.sample(0.1)
    assert linux.rto == pytest.approx(0.3, abs=0.002)  # 100 ms + the 200 ms floor term
    assert rfc.rto == pytest.approx(0.2, abs=0.002)
    long = RTOEstimator()
    long.sample(0.5, 1, 1001)
    assert long.rto == pytest.approx(1.5)  # "make sure rto = 3*rtt"


def test_an_rto_cuts_ssthresh_from_cwnd_not_from_the_flight():
    """Linux tcp_enter_loss: the algorithm's ssthresh from cwnd (CUBIC: 0.7 x 10), even
    when only one segment was in flight."""
    a, b = handshake(rtt=0.1)
    a.conn.send(b"x" * 100, 1.0)
    (first,) = a.flush(1.0)
    for ack in b.recv_ack(first, 1.05):
        a.recv_segment(ack, 1.1)
    a.conn.send(b"y" * 100, 1.2)
    a.flush(1.2)
    mss = a.conn.eff_mss
    while a.conn.counters.get("TCPTimeouts", 0) == 0:
        a.timer(a.conn.get_timer())
    assert a.conn.ssthresh == 7 * mss
    assert a.conn.cwnd == mss
