"""info(now): Linux's tcpi_last_* times and busy-time chronographs (tcp_chrono_*), and
tcpi_reord_seen."""

from __future__ import annotations

import pytest

from synack.packetdrill.tcpinfo import run_code
from synack.wire.options import Sack
from synack.wire.tcp import Flags, TCPSegment
from tcp_harness import Peer, handshake

A = Flags.ACK


def _from_b(b: Peer, a: Peer, ack: int, window: int = 65535, **kw: object) -> TCPSegment:
    return TCPSegment(b.conn.local[1], a.conn.local[1], b.conn.snd_nxt, ack, A, window, **kw)  # type: ignore[arg-type]


def test_times_since_last_data_and_ack_start_at_establishment():
    a, b = handshake(rtt=0.01, timestamps=False)  # A established at 0.01
    info = a.conn.info(1.01)
    assert info["last_data_recv"] == pytest.approx(1.0)
    assert info["last_data_sent"] == pytest.approx(1.0)
    assert info["last_ack_recv"] == pytest.approx(1.0)
    a.conn.send(b"q" * 10, 2.0)
    (data,) = a.flush(2.0)
    a.recv_segment(_from_b(b, a, data.seq + 10, payload=b"r" * 5), 2.5)
    info = a.conn.info(3.0)
    assert info["last_data_sent"] == pytest.approx(1.0)
    assert info["last_data_recv"] == pytest.approx(0.5)
    assert info["last_ack_recv"] == pytest.approx(0.5)
    assert "last_data_recv" not in a.conn.info()  # only with a clock reading


def test_a_closed_peer_window_counts_as_receive_window_limited_time():
    """packetdrill tcp-info-rwnd-limited: data waits 200 ms on a zero window, then
    30 ms in flight: busy 230 ms, of which 200 ms limited by the peer's window."""
    a, b = handshake(rtt=0.01, timestamps=False)
    start = a.conn.snd_nxt
    a.recv_segment(_from_b(b, a, start, window=0), 0.01)
    a.conn.send(b"x" * 1000, 0.01)
    assert a.flush(0.01) == []  # nothing fits a zero window
    info = a.conn.info(0.11)
    assert info["rwnd_limited"] == pytest.approx(0.1)
    (data,) = a.recv_segment(_from_b(b, a, start, window=2000), 0.21)
    assert data.payload
    a.recv_segment(_from_b(b, a, start + 1000, window=2000), 0.24)
    info = a.conn.info(1.0)  # idle since 0.24: the clocks stopped
    assert info["rwnd_limited"] == pytest.approx(0.2)
    assert info["busy_time"] == pytest.approx(0.23)
    assert info["sndbuf_limited"] == 0


def test_a_full_send_buffer_counts_as_send_buffer_limited_time():
    a, b = handshake(rtt=0.01, timestamps=False, sndbuf=4000)
    start = a.conn.snd_nxt
    assert a.conn.send(b"y" * 6000, 1.0) == 4000  # the writer must wait
    sent = a.flush(1.0)
    assert sent
    a.recv_segment(_from_b(b, a, start + len(sent[0].payload)), 1.05)  # room again
    info = a.conn.info(1.1)
    assert info["sndbuf_limited"] == pytest.approx(0.05)
    assert info["busy_time"] == pytest.approx(0.1)


def test_each_delivery_found_out_of_order_counts_once_in_reord_seen():
    """packetdrill cubic-rack-reo-timeout-...: a SACK of 3001:4001 after 9001:10001,
    then the cumulative ACK of what lay below: two reordering events."""
    a, b = handshake(rtt=0.02, timestamps=False)
    mss = a.conn.eff_mss
    a.conn.send(b"z" * (10 * mss), 1.0)
    sent = a.flush(1.0)
    base = sent[0].seq
    end = base + 10 * mss
    a.recv_segment(_from_b(b, a, base, options=(Sack(((base + 9 * mss, end),)),)), 1.02)
    assert a.conn.info()["reord_seen"] == 0
    blocks = ((base + 3 * mss, base + 4 * mss), (base + 9 * mss, end))
    a.recv_segment(_from_b(b, a, base, options=(Sack(blocks),)), 1.02)
    assert a.conn.info()["reord_seen"] == 1
    a.recv_segment(_from_b(b, a, end), 1.021)
    assert a.conn.info()["reord_seen"] == 2


def test_a_code_block_ending_in_a_line_continuation_runs():
    """packetdrill writes blocks into one file, so "...;\\" before "}%" is valid."""
    text = "assert x == 1, x;\\\n  assert y == 2, y;\\\n"
    assert run_code(text, {"x": 1, "y": 2}, "t") is None
    assert run_code(text, {"x": 1, "y": 3}, "t") == "AssertionError: 3"


def test_after_reordering_a_new_sack_alone_grows_cwnd():
    """Linux tcp_may_raise_cwnd (packetdrill cubic-rack-reo-...): the first SACK-only
    ACK leaves cwnd at 10; once reordering (7 segments) exceeds the DupThresh, a new SACK
    grows it (11); the cumulative ACK adds the 8 segments it delivers (19)."""
    a, b = handshake(rtt=0.02, timestamps=False)
    mss = a.conn.eff_mss
    a.conn.send(b"z" * (10 * mss), 1.0)
    base = a.flush(1.0)[0].seq
    end = base + 10 * mss
    a.recv_segment(_from_b(b, a, base, options=(Sack(((base + 9 * mss, end),)),)), 1.02)
    assert a.conn.info()["cwnd"] == 10 * mss
    blocks = ((base + 3 * mss, base + 4 * mss), (base + 9 * mss, end))
    a.recv_segment(_from_b(b, a, base, options=(Sack(blocks),)), 1.02)
    assert a.conn.info()["reordering"] == 7
    assert a.conn.info()["cwnd"] == 11 * mss
    a.recv_segment(_from_b(b, a, end), 1.021)
    assert a.conn.info()["cwnd"] == 19 * mss
