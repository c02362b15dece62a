"""The three-way handshake and its variants (RFC 9293 §3.5), on bare connections."""

import errno

from synack.tcp.isn import rfc6528_isn
from synack.tcp.seq import seq_add
from synack.tcp.states import State
from synack.wire.options import MSS, NOP, SackPermitted, Timestamps, WindowScale
from synack.wire.tcp import Flags
from tcp_harness import A_ADDR, B_ADDR, Peer, handshake, seg

A, S, R, F, P = Flags.ACK, Flags.SYN, Flags.RST, Flags.FIN, Flags.PSH


def test_handshake_takes_three_segments_and_syn_takes_one_sequence_number():
    a = Peer.make(A_ADDR)
    b = Peer.make(B_ADDR)
    b.conn.listen()
    a.conn.connect(B_ADDR, 0.0)
    (syn,) = a.flush(0.0)
    assert syn.flags == S and syn.seq == a.conn.iss and syn.seg_len == 1
    (synack,) = b.recv_segment(syn, 0.01, A_ADDR)
    assert synack.flags == S | A
    assert synack.ack == seq_add(syn.seq, 1)
    assert b.state is State.SYN_RECEIVED
    (ack,) = a.recv_segment(synack, 0.02)
    assert ack.flags == A and ack.seq == seq_add(a.conn.iss, 1)
    assert ack.ack == seq_add(synack.seq, 1)
    assert b.recv_segment(ack, 0.03) == []
    assert a.states() == [State.CLOSED, State.SYN_SENT, State.ESTABLISHED]
    assert b.states() == [State.CLOSED, State.LISTEN, State.SYN_RECEIVED, State.ESTABLISHED]


def test_syn_options_follow_linux_order():
    a = Peer.make(A_ADDR)
    a.conn.connect(B_ADDR, 0.0)
    (syn,) = a.flush(0.0)
    kinds = [type(o) for o in syn.options]
    assert kinds == [MSS, SackPermitted, Timestamps, NOP, WindowScale]
    assert syn.mss == 1460 and syn.wscale == 7
    assert syn.window == 64240


def test_synack_echoes_only_offered_options():
    b = Peer.make(B_ADDR)
    b.conn.listen()
    syn = seg(S, 1000, window=8192, src=40000, dst=80)
    (synack,) = b.recv_segment(syn, 0.0, A_ADDR)
    assert [type(o) for o in synack.options] == [MSS]
    # Without a peer MSS option, 536 is assumed (RFC 9293 §3.7.1).
    assert b.conn.agreement is not None and b.conn.agreement.peer_mss == 536
    assert b.conn.eff_mss == 536


def test_synack_without_timestamps_pads_sack_permitted_with_nops():
    b = Peer.make(B_ADDR)
    b.conn.listen()
    syn = seg(S, 1000, src=40000, dst=80)
    syn.options = (MSS(1400), NOP(), NOP(), SackPermitted(), NOP(), WindowScale(2))
    (synack,) = b.recv_segment(syn, 0.0, A_ADDR)
    assert [type(o) for o in synack.options] == [MSS, NOP, NOP, SackPermitted, NOP, WindowScale]
    assert b.conn.eff_mss == 1400


def test_window_scale_applies_only_when_both_sides_send_it():
    a, _b = handshake()
    assert a.conn.agreement.snd_wscale == 7 and a.conn.agreement.rcv_wscale == 7
    a2, b2 = handshake(window_scaling=False)
    assert a2.conn.agreement.snd_wscale == 0 and b2.conn.agreement.rcv_wscale == 0


def test_data_on_the_third_segment_is_accepted():
    a = Peer.make(A_ADDR)
    b = Peer.make(B_ADDR)
    b.conn.listen()
    a.conn.connect(B_ADDR, 0.0)
    (syn,) = a.flush(0.0)
    (synack,) = b.recv_segment(syn, 0.0, A_ADDR)
    a.conn.send(b"GET /", 0.0)  # queued in SYN_SENT (RFC 9293 §3.10.2)
    assert a.flush(0.0) == []
    (third,) = a.recv_segment(synack, 0.0)
    assert third.flags == A | P and third.payload == b"GET /"
    b.recv_segment(third, 0.0)
    assert b.state is State.ESTABLISHED
    assert b.conn.recv() == b"GET /"


def test_simultaneous_open_goes_through_syn_received():
    a = Peer.make(A_ADDR)
    b = Peer.make(B_ADDR)
    a.conn.connect(B_ADDR, 0.0)
    b.conn.connect(A_ADDR, 0.0)
    (syn_a,) = a.flush(0.0)
    (syn_b,) = b.flush(0.0)
    (synack_a,) = a.recv_segment(syn_b, 0.1)
    (synack_b,) = b.recv_segment(syn_a, 0.1)
    assert synack_a.flags == S | A and synack_a.seq == a.conn.iss
    assert a.state is State.SYN_RECEIVED and b.state is State.SYN_RECEIVED
    assert a.recv_segment(synack_b, 0.2) == []
    assert b.recv_segment(synack_a, 0.2) == []
    expected = [State.CLOSED, State.SYN_SENT, State.SYN_RECEIVED, State.ESTABLISHED]
    assert a.states() == expected and b.states() == expected


def test_old_duplicate_syn_is_reset_and_listener_returns_to_listen():
    """RFC 9293 §3.5 Figure 8, with an RFC-style LISTEN TCB."""
    a = Peer.make(A_ADDR)
    b = Peer.make(B_ADDR)
    b.conn.listen()
    a.conn.set_iss(100)
    a.conn.connect(B_ADDR, 0.0)
    (syn,) = a.flush(0.0)
    old = seg(S, 90, src=40000, dst=80)
    (synack,) = b.recv_segment(old, 0.1, A_ADDR)
    assert synack.ack == 91
    (rst,) = a.recv_segment(synack, 0.2)
    assert rst.flags == R and rst.seq == 91
    assert a.state is State.SYN_SENT
    assert b.recv_segment(rst, 0.3) == []
    assert b.state is State.LISTEN
    (synack2,) = b.recv_segment(syn, 0.4, A_ADDR)
    assert synack2.ack == 101
    (ack,) = a.recv_segment(synack2, 0.5)
    b.recv_segment(ack, 0.6)
    assert a.state is State.ESTABLISHED and b.state is State.ESTABLISHED


def test_rst_with_acceptable_ack_in_syn_sent_is_connection_refused():
    a = Peer.make(A_ADDR)
    a.conn.connect(B_ADDR, 0.0)
    (syn,) = a.flush(0.0)
    a.recv_segment(seg(R | A, 0, seq_add(syn.seq, 1)), 0.1)
    assert a.state is State.CLOSED
    assert a.errors() == [errno.ECONNREFUSED]


def test_rst_with_wrong_ack_in_syn_sent_is_ignored():
    a = Peer.make(A_ADDR)
    a.conn.connect(B_ADDR, 0.0)
    (syn,) = a.flush(0.0)
    assert a.recv_segment(seg(R | A, 0, seq_add(syn.seq, 7)), 0.1) == []
    assert a.state is State.SYN_SENT


def test_bad_ack_in_syn_sent_gets_a_reset():
    a = Peer.make(A_ADDR)
    a.conn.connect(B_ADDR, 0.0)
    (syn,) = a.flush(0.0)
    (rst,) = a.recv_segment(seg(S | A, 500, seq_add(syn.seq, 5)), 0.1)
    assert rst.flags == R and rst.seq == seq_add(syn.seq, 5)
    assert a.state is State.SYN_SENT


def test_listen_ignores_rst_and_resets_an_ack():
    b = Peer.make(B_ADDR)
    b.conn.listen()
    assert b.recv_segment(seg(R, 5, src=40000, dst=80), 0.0, A_ADDR) == []
    (rst,) = b.recv_segment(seg(A, 5, 777, src=40000, dst=80), 0.0, A_ADDR)
    assert rst.flags == R and rst.seq == 777
    assert b.state is State.LISTEN


def test_retransmitted_syn_in_syn_received_gets_the_synack_again():
    b = Peer.make(B_ADDR)
    b.conn.listen()
    syn = seg(S, 1000, src=40000, dst=80)
    (synack,) = b.recv_segment(syn, 0.0, A_ADDR)
    (again,) = b.recv_segment(syn, 0.5, A_ADDR)
    assert again.flags == S | A and again.seq == synack.seq and again.ack == 1001


def test_isn_is_rfc6528_keyed_hash_plus_4us_clock():
    secret = b"s" * 16
    i0 = rfc6528_isn(secret, A_ADDR, B_ADDR, 0.0)
    i1 = rfc6528_isn(secret, A_ADDR, B_ADDR, 1.0)
    assert (i1 - i0) & 0xFFFFFFFF == 250000  # one second = 250,000 ticks of 4 µs
    assert rfc6528_isn(secret, A_ADDR, ("10.0.0.2", 81), 0.0) != i0
    assert rfc6528_isn(b"t" * 16, A_ADDR, B_ADDR, 0.0) != i0


def test_syn_data_is_not_acknowledged():
    b = Peer.make(B_ADDR)
    b.conn.listen()
    (synack,) = b.recv_segment(seg(S, 1000, payload=b"early", src=40000, dst=80), 0.0, A_ADDR)
    assert synack.ack == 1001
