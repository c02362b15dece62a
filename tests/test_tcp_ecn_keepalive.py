"""ECN (RFC 3168) and keepalive (RFC 9293 §3.8.4)."""

import errno

from synack.tcp.states import State
from synack.wire.tcp import Flags
from tcp_harness import A_ADDR, B_ADDR, Peer, handshake

A, ECE, CWR = Flags.ACK, Flags.ECE, Flags.CWR


def test_ecn_is_off_for_active_opens_by_default_like_linux():
    a = Peer.make(A_ADDR)
    a.conn.connect(B_ADDR, 0.0)
    (syn,) = a.flush(0.0)
    assert not syn.flags & (ECE | CWR)


def test_ecn_negotiation_and_the_ce_ece_cwr_exchange():
    a, b = handshake(ecn=1)
    syn = a.sent[0]
    synack = b.sent[0]
    assert syn.flags & (ECE | CWR) == ECE | CWR  # ECN-setup SYN
    assert synack.flags & (ECE | CWR) == ECE  # ECN-setup SYN-ACK
    assert a.conn.ecn_ok and b.conn.ecn_ok
    a.conn.send(b"e" * 1000, 1.0)
    (data,) = a.flush(1.0)
    assert data.ip_ecn == 0b10  # ECT(0)
    data.ip_ecn = 0b11  # a router marked it CE
    (ack,) = b.recv_segment(data, 1.05)
    assert ack.flags & ECE
    cwnd = a.conn.cwnd
    a.recv_segment(ack, 1.1)
    assert a.conn.cwnd < cwnd  # one reduction
    assert a.conn.board.lost_bytes == 0  # and no retransmission
    a.conn.send(b"f" * 100, 1.2)
    (nxt,) = a.flush(1.2)
    assert nxt.flags & CWR
    (ack2,) = b.recv_ack(nxt, 1.25)
    assert not ack2.flags & ECE  # CWR ends the echo


def test_synack_without_ecn_setup_keeps_ecn_off():
    a = Peer.make(A_ADDR, ecn=1)
    b = Peer.make(B_ADDR, ecn=0)
    b.conn.listen()
    a.conn.connect(B_ADDR, 0.0)
    (syn,) = a.flush(0.0)
    (synack,) = b.recv_segment(syn, 0.0, A_ADDR)
    assert not synack.flags & ECE
    a.recv_segment(synack, 0.0)
    assert not a.conn.ecn_ok


def test_keepalive_is_off_by_default():
    a, _b = handshake()
    assert a.conn.get_timer() is None


def test_keepalive_probes_and_then_times_out():
    a, _b = handshake(keepalive=True, keepidle=10.0, keepintvl=2.0, keepcnt=3)
    assert a.conn.get_timer() == 10.0
    probes = []
    while a.state is State.ESTABLISHED:
        t = a.conn.get_timer()
        out = a.timer(t)
        probes += [(t, s) for s in out]
    assert [t for t, s in probes if not s.rst] == [10.0, 12.0, 14.0]
    assert all(s.seq == (a.conn.snd_una - 1) & 0xFFFFFFFF for _, s in probes if not s.rst)
    assert probes[-1][1].rst and probes[-1][0] == 16.0
    assert a.errors() == [errno.ETIMEDOUT]


def test_keepalive_answer_keeps_the_connection():
    a, b = handshake(keepalive=True, keepidle=10.0, keepintvl=2.0, keepcnt=3)
    (probe,) = a.timer(10.0)
    (answer,) = b.recv_segment(probe, 10.05)
    a.recv_segment(answer, 10.1)
    assert a.conn.get_timer() == 10.1 + 10.0
    assert a.state is State.ESTABLISHED
    assert answer.flags == A and not answer.rst


def test_an_ecn_echo_brings_cwnd_down_over_a_round_trip_with_prr():
    """Linux tcp_enter_cwr (PRR in CWR state since 3.7): on the echo the sender enters
    CWR; cwnd is in flight plus PRR's allowance, not ssthresh at once; when the window
    outstanding at the echo is acknowledged, cwnd is ssthresh and CWR ends."""
    a, b = handshake(ecn=1)
    mss = a.conn.eff_mss
    a.conn.send(b"e" * (10 * mss), 1.0)
    segs = a.flush(1.0)
    assert len(segs) == 10
    segs[0].ip_ecn = 0b11  # CE
    (ack,) = b.recv_segment(segs[0], 1.05)
    assert ack.flags & ECE
    a.recv_segment(ack, 1.1)
    info = a.conn.info()
    assert info["ca_state"] == "cwr"
    ssthresh = int(info["ssthresh"])
    assert ssthresh == 7 * mss  # CUBIC's beta 0.7 of 10 segments
    # 9 segments in flight, over ssthresh: PRR lets out ceil(1 * 7 / 10) = 1 segment.
    assert info["cwnd"] == 9 * mss + mss
    for s in segs[1:]:
        for x in b.recv_segment(s, 1.15):
            a.recv_segment(x, 1.2)
    assert a.conn.info()["ca_state"] == "open"
    assert a.conn.info()["cwnd"] == ssthresh
