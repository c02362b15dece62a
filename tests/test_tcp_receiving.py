"""Receiving rules: delayed ACKs and quick ACKs, out-of-order data with SACK and D-SACK,
window from free buffer space, window updates on reads, memory bound, PAWS."""

import pytest

from synack.tcp.seq import seq_add
from synack.wire.options import Sack, Timestamps
from synack.wire.tcp import Flags
from tcp_harness import handshake, seg

A, P, F = Flags.ACK, Flags.PSH, Flags.FIN


def _data(b_peer, a_peer, offset, n, **kw):
    """A data segment from b to a, ``offset`` bytes into b's stream."""
    s = seg(A | P, seq_add(b_peer.conn.iss, 1 + offset), a_peer.conn.snd_nxt, b"d" * n, **kw)
    return s


def test_quick_acks_at_start_then_every_second_full_segment():
    a, b = handshake(timestamps=False)
    mss = 1460
    acks = []
    for i in range(24):
        acks.append(len(a.recv_segment(_data(b, a, i * mss, mss), 1.0 + i * 0.001)))
    assert acks[:16] == [1] * 16  # quick-ACK mode (Linux TCP_MAX_QUICKACKS)
    assert acks[16:] == [0, 1, 0, 1, 0, 1, 0, 1]  # then every second full-sized segment


def test_delayed_ack_fires_after_40ms():
    a, b = handshake(timestamps=False)
    a.conn.acks.pingpong = True  # an interactive exchange: no quick ACKs
    assert a.recv_segment(_data(b, a, 0, 100), 1.0) == []
    assert a.conn.get_timer() == pytest.approx(1.04)
    (ack,) = a.timer(a.conn.get_timer())
    assert ack.ack == seq_add(b.conn.iss, 101)


def test_out_of_order_data_is_acked_at_once_with_sack_blocks_most_recent_first():
    a, b = handshake()
    base = seq_add(b.conn.iss, 1)
    (ack1,) = a.recv_segment(_data(b, a, 1000, 100), 1.0)
    assert ack1.ack == base
    assert ack1.sack_blocks == ((seq_add(base, 1000), seq_add(base, 1100)),)
    (ack2,) = a.recv_segment(_data(b, a, 3000, 100), 1.0)
    assert ack2.sack_blocks == (
        (seq_add(base, 3000), seq_add(base, 3100)),
        (seq_add(base, 1000), seq_add(base, 1100)),
    )
    # Linux's option layout: nop,nop,TS,nop,nop,sack.
    assert isinstance(ack2.options[2], Timestamps) and isinstance(ack2.options[5], Sack)
    # Filling the first gap is acknowledged at once and the block disappears.
    (ack3,) = a.recv_segment(_data(b, a, 0, 1000), 1.0)
    assert ack3.ack == seq_add(base, 1100)
    assert ack3.sack_blocks == ((seq_add(base, 3000), seq_add(base, 3100)),)
    assert a.conn.recv() == b"d" * 1100


def test_duplicate_data_is_reported_with_a_dsack():
    a, b = handshake()
    base = seq_add(b.conn.iss, 1)
    a.recv_segment(_data(b, a, 0, 500), 1.0)
    (ack,) = a.recv_segment(_data(b, a, 0, 500), 1.1)
    assert ack.sack_blocks[0] == (base, seq_add(base, 500))  # RFC 2883 D-SACK
    (ack2,) = a.recv_segment(_data(b, a, 2000, 10), 1.2)
    assert ack2.sack_blocks == ((seq_add(base, 2000), seq_add(base, 2010)),)  # once only


def test_overlapping_out_of_order_segments_take_no_extra_memory():
    a, b = handshake()
    for start in range(1000, 1500, 10):
        a.recv_segment(_data(b, a, start, 100), 1.0)
    assert a.conn.rcvbuf.ooo_bytes == 590  # bytes 1000..1590, once


def test_data_beyond_the_window_is_trimmed_and_memory_stays_within_the_buffer():
    a, b = handshake(rcvbuf=8192, initial_rcv_wnd=8192)
    a.conn.acks.pingpong = True
    for i in range(40):  # a peer that ignores the window
        a.recv_segment(_data(b, a, i * 1000, 1000), 1.0)
    assert a.conn.readable + a.conn.rcvbuf.ooo_bytes <= 8192
    assert a.conn.counters["TCPRcvWndOverflow"] > 0


def test_window_shrinks_as_data_waits_and_reading_sends_a_window_update():
    a, b = handshake(rcvbuf=16384, initial_rcv_wnd=16384, timestamps=False)
    shift = a.conn.agreement.rcv_wscale
    out = []
    for i in range(11):
        out += a.recv_segment(_data(b, a, i * 1460, 1460), 1.0)
    assert (out[-1].window << shift) <= 16384 - 11 * 1460
    a.flush(1.0)
    a.conn.recv()
    (update,) = a.flush(1.1)
    assert (update.window << shift) >= 16384 - 1460


def test_paws_drops_an_old_duplicate_by_its_timestamp():
    a, b = handshake()
    good = _data(b, a, 0, 10)
    good.options = (Timestamps(5000, 0),)
    a.recv_segment(good, 1.0)
    old = _data(b, a, 10, 10)
    old.options = (Timestamps(4000, 0),)  # older TSval than TS.Recent
    (ack,) = a.recv_segment(old, 1.1)
    assert ack.ack == seq_add(b.conn.iss, 11)  # dropped and acknowledged
    assert a.conn.readable == 10
    assert a.conn.counters["PAWSEstab"] == 1


def test_fin_after_out_of_order_data_waits_for_the_gap():
    a, b = handshake()
    fin = seg(A | F, seq_add(b.conn.iss, 101), a.conn.snd_nxt)
    a.recv_segment(fin, 1.0)
    assert not a.conn.at_eof
    a.recv_segment(_data(b, a, 0, 100), 1.1)
    assert a.conn.recv() == b"d" * 100 and a.conn.at_eof
