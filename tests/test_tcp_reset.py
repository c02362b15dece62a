"""RST processing (RFC 9293 §3.10.7.4) and RFC 5961 challenge ACKs."""

import errno

from synack.tcp.seq import seq_add
from synack.tcp.states import State
from synack.wire.tcp import Flags
from tcp_harness import handshake, seg

A, S, R, F = Flags.ACK, Flags.SYN, Flags.RST, Flags.FIN


def test_exact_rst_resets_an_established_connection():
    a, b = handshake()
    out = a.recv_segment(seg(R, b.conn.snd_nxt), 1.0)
    assert out == []
    assert a.state is State.CLOSED and a.errors() == [errno.ECONNRESET]


def test_in_window_rst_that_is_not_exact_gets_a_challenge_ack():
    a, b = handshake()
    (chal,) = a.recv_segment(seg(R, seq_add(b.conn.snd_nxt, 100)), 1.0)
    assert chal.flags == A and chal.seq == a.conn.snd_nxt and chal.ack == a.conn.rcv_nxt
    assert a.state is State.ESTABLISHED


def test_challenge_acks_are_rate_limited():
    a, b = handshake()
    bad = seg(R, seq_add(b.conn.snd_nxt, 100))
    assert len(a.recv_segment(bad, 1.0)) == 1
    assert a.recv_segment(bad, 1.1) == []
    assert len(a.recv_segment(bad, 1.6)) == 1
    assert a.conn.counters["TCPChallengeACKLimited"] == 1


def test_out_of_window_rst_is_dropped_silently():
    a, b = handshake()
    assert a.recv_segment(seg(R, seq_add(b.conn.snd_nxt, 10_000_000)), 1.0) == []
    assert a.state is State.ESTABLISHED


def test_syn_in_established_gets_a_challenge_ack_not_a_reset():
    a, _b = handshake()
    (chal,) = a.recv_segment(seg(S, 12345), 1.0)
    assert chal.flags == A and chal.ack == a.conn.rcv_nxt
    assert a.state is State.ESTABLISHED


def test_ack_of_unsent_data_is_dropped_silently_in_established():
    """Linux tcp_rcv_established discards it without an answer (packetdrill
    ts_recent/invalid_ack), and takes nothing from it: not the FIN it carries."""
    a, b = handshake()
    bad = seg(A | F, b.conn.snd_nxt, seq_add(a.conn.snd_nxt, 5000))
    assert a.recv_segment(bad, 1.0) == []
    assert a.state is State.ESTABLISHED


def test_ack_of_unsent_data_gets_a_challenge_ack_after_close():
    """In the other synchronized states Linux answers it with a challenge ACK
    (tcp_rcv_state_process), as RFC 5961 §5.2 says."""
    a, b = handshake()
    a.conn.close(1.0)
    a.flush(1.0)
    assert a.state is State.FIN_WAIT_1
    (chal,) = a.recv_segment(seg(A, b.conn.snd_nxt, seq_add(a.conn.snd_nxt, 5000)), 1.0)
    assert chal.flags == A


def test_no_rst_is_ever_sent_in_answer_to_an_rst():
    a, b = handshake()
    for s in (seg(R, 1), seg(R | A, 1, 1), seg(R, seq_add(b.conn.snd_nxt, 1 << 30))):
        assert all(not x.rst for x in a.recv_segment(s, 5.0))


def test_half_open_connection_is_discovered():
    """RFC 9293 §3.5 Figure 10 with RFC 5961: the crashed side's new SYN meets a challenge
    ACK, answers it with RST, and the stale side aborts."""
    from tcp_harness import B_ADDR, Peer

    _a, b = handshake()
    fresh = Peer.make()  # a restarted: same address and port, no TCB
    fresh.conn.connect(B_ADDR, 10.0)
    (syn,) = fresh.flush(10.0)
    (chal,) = b.recv_segment(syn, 10.1)
    assert chal.flags == A
    (rst,) = fresh.recv_segment(chal, 10.2)
    assert rst.flags == R and rst.seq == chal.ack
    b.recv_segment(rst, 10.3)
    assert b.state is State.CLOSED and b.errors() == [errno.ECONNRESET]
    assert fresh.state is State.SYN_SENT
