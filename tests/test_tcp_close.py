"""Closing (RFC 9293 §3.6): four- and three-segment close, simultaneous close,
half-close, TIME_WAIT and the FIN_WAIT_2 orphan timeout."""

import pytest

from synack.tcp.seq import seq_add
from synack.tcp.states import State
from synack.wire.tcp import Flags
from tcp_harness import handshake

A, S, R, F, P = Flags.ACK, Flags.SYN, Flags.RST, Flags.FIN, Flags.PSH


def test_four_segment_close_and_fin_takes_one_sequence_number():
    a, b = handshake()
    snd = a.conn.snd_nxt
    a.conn.close(1.0)
    (fin,) = a.flush(1.0)
    assert fin.flags == F | A and fin.seq == snd and fin.seg_len == 1
    assert a.state is State.FIN_WAIT_1
    # Linux schedules the ACK of a FIN in CLOSE_WAIT as a delayed ACK (tcp_fin's
    # ping-pong mode), so that an answer can carry it; with no data received yet its
    # ACK timeout is still zero, so it leaves at once if the application is silent.
    assert b.recv_segment(fin, 1.1) == []
    assert b.state is State.CLOSE_WAIT
    assert b.conn.get_timer() == pytest.approx(1.1)
    (ack,) = b.timer(b.conn.get_timer())
    assert ack.flags == A and ack.ack == seq_add(snd, 1)
    a.recv_segment(ack, 1.2)
    assert a.state is State.FIN_WAIT_2
    b.conn.close(2.0)
    (fin2,) = b.flush(2.0)
    assert fin2.flags == F | A and b.state is State.LAST_ACK
    (last,) = a.recv_segment(fin2, 2.1)
    assert a.state is State.TIME_WAIT and last.flags == A
    b.recv_segment(last, 2.2)
    assert b.state is State.CLOSED
    assert a.conn.get_timer() == 2.1 + 60.0
    a.timer(62.1)
    assert a.state is State.CLOSED


def test_three_segment_close_when_passive_side_closes_at_once():
    a, b = handshake()
    a.conn.close(1.0)
    (fin,) = a.flush(1.0)
    b.conn.receive_segment(fin, 1.1)
    b.conn.close(1.1)  # the application reacts before the ACK leaves
    (finack,) = b.flush(1.1)
    assert finack.flags == F | A and finack.ack == seq_add(fin.seq, 1)
    (last,) = a.recv_segment(finack, 1.2)
    # FIN_WAIT_1 straight to TIME_WAIT on FIN+ACK of our FIN.
    assert a.states()[-2:] == [State.FIN_WAIT_1, State.TIME_WAIT]
    b.recv_segment(last, 1.3)
    assert b.state is State.CLOSED


def test_simultaneous_close_goes_through_closing():
    a, b = handshake()
    a.conn.close(1.0)
    b.conn.close(1.0)
    (fa,) = a.flush(1.0)
    (fb,) = b.flush(1.0)
    (aa,) = a.recv_segment(fb, 1.1)
    (ab,) = b.recv_segment(fa, 1.1)
    assert a.state is State.CLOSING and b.state is State.CLOSING
    a.recv_segment(ab, 1.2)
    b.recv_segment(aa, 1.2)
    assert a.state is State.TIME_WAIT and b.state is State.TIME_WAIT


def test_half_close_keeps_data_flowing_towards_the_side_that_sent_fin():
    a, b = handshake()
    a.conn.shutdown(1.0)
    (fin,) = a.flush(1.0)
    (ack,) = b.recv_ack(fin, 1.0)
    a.recv_segment(ack, 1.0)
    assert a.state is State.FIN_WAIT_2 and b.state is State.CLOSE_WAIT
    b.conn.send(b"still talking", 1.5)
    (data,) = b.flush(1.5)
    (dack,) = a.recv_segment(data, 1.5)
    assert a.conn.recv() == b"still talking"
    b.recv_segment(dack, 1.6)
    assert a.state is State.FIN_WAIT_2  # a half-closed socket gets no orphan timer
    assert a.conn.get_timer() is None


def test_time_wait_reacks_a_retransmitted_fin_and_restarts_2msl():
    a, b = handshake()
    a.conn.close(1.0)
    (fin,) = a.flush(1.0)
    b.conn.receive_segment(fin, 1.0)
    b.conn.close(1.0)
    (finack,) = b.flush(1.0)
    a.recv_segment(finack, 1.0)  # the last ACK is lost
    assert a.conn.get_timer() == 61.0
    (fin_again,) = b.timer(2.0)  # b retransmits its FIN after the RTO
    assert fin_again.flags & F
    (reack,) = a.recv_segment(fin_again, 2.0)
    assert reack.flags == A and reack.ack == seq_add(finack.seq, 1)
    assert a.conn.get_timer() == 62.0
    b.recv_segment(reack, 2.0)
    assert b.state is State.CLOSED


def test_orphan_in_fin_wait_2_times_out():
    a, b = handshake()
    a.conn.close(1.0)
    (fin,) = a.flush(1.0)
    (ack,) = b.recv_ack(fin, 1.0)
    a.recv_segment(ack, 1.0)
    assert a.state is State.FIN_WAIT_2
    assert a.conn.get_timer() == 61.0
    assert a.timer(61.0) == []
    assert a.state is State.CLOSED


def test_data_arriving_after_close_is_answered_with_reset():
    a, b = handshake()
    a.conn.close(1.0)
    (_fin,) = a.flush(1.0)
    b.conn.send(b"late", 1.0)
    (data,) = b.flush(1.0)
    (rst,) = a.recv_segment(data, 1.1)
    assert rst.flags == R
    assert a.state is State.CLOSED


def test_close_with_unread_data_sends_reset():
    a, b = handshake()
    b.conn.send(b"unread", 1.0)
    (data,) = b.flush(1.0)
    a.recv_segment(data, 1.0)
    a.conn.close(1.1)
    (rst,) = a.flush(1.1)
    # Linux tcp_send_active_reset: RST with ACK of what arrived, and the timestamps.
    assert rst.flags == R | A and a.state is State.CLOSED
    assert rst.seq == data.ack and rst.ack == data.seq + len(data.payload)
    assert rst.timestamps is not None and rst.timestamps[1] == data.timestamps[0]


def test_close_in_syn_sent_sends_nothing():
    from tcp_harness import B_ADDR, Peer

    a = Peer.make()
    a.conn.connect(B_ADDR, 0.0)
    a.flush(0.0)
    a.conn.close(0.5)
    assert a.flush(0.5) == []
    assert a.state is State.CLOSED


def test_fin_is_retransmitted_until_acknowledged():
    a, _b = handshake(sack=False)  # without SACK there is no tail loss probe: the RTO resends
    a.conn.close(1.0)
    (fin,) = a.flush(1.0)
    deadline = a.conn.get_timer()
    (again,) = a.timer(deadline)
    assert again.flags == F | A and again.seq == fin.seq
    assert a.conn.get_timer() - deadline > deadline - 1.0  # backed off


def test_fin_in_an_interactive_exchange_is_acked_after_the_delayed_ack_timeout():
    a, b = handshake()
    a.conn.send(b"request", 1.0)
    (data,) = a.flush(1.0)
    b.recv_segment(data, 1.0)
    b.conn.recv()
    b.conn.send(b"reply", 1.01)  # answered within the ACK timeout: ping-pong mode
    (reply,) = b.flush(1.01)
    a.recv_segment(reply, 1.02)
    assert a.conn.recv() == b"reply"
    a.conn.close(2.0)
    (fin,) = a.flush(2.0)
    assert b.recv_segment(fin, 2.1) == []  # no quick ACK in an interactive exchange
    assert b.conn.get_timer() == pytest.approx(2.14)  # 40 ms (Linux TCP_ATO_MIN)
    (ack,) = b.timer(b.conn.get_timer())
    assert ack.ack == seq_add(fin.seq, 1)


def test_fin_in_quick_ack_mode_is_acked_at_once():
    a, b = handshake()
    a.conn.send(b"data", 1.0)
    (data,) = a.flush(1.0)
    b.recv_segment(data, 1.0)
    a.conn.close(2.0)
    (fin,) = a.flush(2.0)
    (ack,) = b.recv_segment(fin, 2.1)
    assert ack.ack == seq_add(fin.seq, 1)


def test_shut_rd_keeps_acknowledging_and_queueing_data_like_linux():
    a, b = handshake()
    a.conn.shutdown_read()
    assert a.conn.at_eof  # nothing buffered: a read reports end of stream
    b.conn.send(b"after SHUT_RD", 1.0)
    (data,) = b.flush(1.0)
    (ack,) = a.recv_segment(data, 1.0)
    assert ack.ack == seq_add(data.seq, len(data.payload))
    assert a.conn.recv() == b"after SHUT_RD"
