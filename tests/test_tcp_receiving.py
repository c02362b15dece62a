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


def test_window_is_half_the_free_buffer_and_reading_sends_a_window_update():
    a, b = handshake(rcvbuf=16384, timestamps=False)
    shift = a.conn.agreement.rcv_wscale
    # Linux tcp_win_from_space: half the buffer, in whole segments at first.
    assert 16384 // 2 - 1460 < a.conn.info()["rcv_wnd"] <= 16384 // 2
    edges, windows = [], []
    for i in range(5):
        (ack,) = a.recv_ack(_data(b, a, i * 1460, 1460), 1.0 + i * 0.1)
        windows.append(ack.window << shift)
        edges.append(ack.ack - b.conn.iss + (ack.window << shift))
    assert edges == sorted(edges)  # the right edge never moves left (RFC 9293 §3.8.6.2.2)
    assert windows[-1] < windows[0]  # data waiting for the application closes the window
    a.conn.recv()
    (update,) = a.flush(2.0)
    assert (update.window << shift) >= 16384 // 2 - (1 << shift)


def test_in_order_data_past_the_window_is_queued_while_the_buffer_has_room():
    a, b = handshake(rcvbuf=8192, timestamps=False)
    big = _data(b, a, 0, 6000)  # more than the 4096-byte window, as Linux allows
    (ack,) = a.recv_segment(big, 1.0)
    assert a.conn.readable == 6000 and ack.ack == seq_add(b.conn.iss, 6001)
    assert ack.window > 0  # 8192 - 6000 held: half of it is still offered
    more = _data(b, a, 6000, 3000)
    a.recv_segment(more, 1.0)  # the window is open: queued whole again
    assert a.conn.readable == 9000  # now more than the buffer: nothing more is queued
    last = _data(b, a, 9000, 1000)
    (ack3,) = a.recv_segment(last, 1.0)
    assert a.conn.readable == 9000 and ack3.window == 0
    assert ack3.ack == seq_add(b.conn.iss, 9001)


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


@pytest.mark.parametrize("gso_size,expected", [(0, 1460), (1000, 1000)])
def test_the_peers_mss_is_measured_by_the_segment_size_of_an_offloaded_packet(
    gso_size: int, expected: int
) -> None:
    """Linux tcp_measure_rcv_mss: a GRO packet of 10 segments counts by its gso_size
    (packetdrill gro/gro-mss-option), a plain segment by its length, at most advmss."""
    a, b = handshake()
    big = seg(A, b.conn.snd_nxt, a.conn.snd_nxt, b"x" * 10_000)
    big.gso_size = gso_size
    a.recv_segment(big, 1.0)
    assert a.conn.info()["rcv_mss"] == expected
