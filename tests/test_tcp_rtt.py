"""RTT measurement as Linux takes it: from the send times of the segments each ACK newly
covers (Karn's rule, RFC 6298 §3), the echoed timestamp (RFC 7323 §4.1) only when the
ACK gives no clean send time (tcp_clean_rtx_queue, tcp_ack_update_rtt)."""

from __future__ import annotations

import pytest

from synack.wire.options import Timestamps
from synack.wire.tcp import Flags, TCPSegment
from tcp_harness import Peer, handshake

A = Flags.ACK


def _srtt_after(samples: list[float], first: float) -> float:
    """Linux/RFC 6298 SRTT after a first sample and then ``samples`` (alpha 1/8)."""
    srtt = first
    for r in samples:
        srtt += (r - srtt) / 8
    return srtt


def _ack(b: Peer, a: Peer, ack: int, *, tsecr: int | None = None) -> TCPSegment:
    """An ACK from B's side, optionally echoing ``tsecr``."""
    opts = () if tsecr is None else (Timestamps(1, tsecr),)
    return TCPSegment(b.conn.local[1], a.conn.local[1], b.conn.snd_nxt, ack, A, 65535, options=opts)


def test_every_ack_gives_a_sample_from_the_send_time_of_what_it_covers():
    """Two ACKs in one flight give two samples (Karn's one timed segment per flight
    would give one): without timestamps, each from the newly acknowledged segment."""
    a, b = handshake(rtt=0.1, timestamps=False)
    mss = a.conn.eff_mss
    a.conn.send(b"x" * (2 * mss), 1.0)
    first, second = a.flush(1.0)
    a.recv_segment(_ack(b, a, first.seq + mss), 1.05)
    assert a.conn.info()["srtt"] == pytest.approx(_srtt_after([0.05], 0.1))
    a.recv_segment(_ack(b, a, second.seq + mss), 1.08)
    assert a.conn.info()["srtt"] == pytest.approx(_srtt_after([0.05, 0.08], 0.1))


def test_an_ack_covering_a_retransmission_gives_no_sample():
    """Karn: the retransmitted segment's ACK may belong to either transmission."""
    a, b = handshake(rtt=0.1, timestamps=False)
    a.conn.send(b"x" * 100, 1.0)
    (data,) = a.flush(1.0)
    (again,) = a.timer(a.conn.get_timer())  # the RTO resends it
    assert again.seq == data.seq
    before = a.conn.info()["srtt"]
    a.recv_segment(_ack(b, a, data.seq + 100), 1.9)
    assert a.conn.info()["srtt"] == before
    assert a.conn.snd_una == data.seq + 100


def test_the_send_time_wins_over_the_timestamp_echo():
    """An echo of an old TSval would say 500 ms; the segment was sent 40 ms ago."""
    a, b = handshake(rtt=0.1)
    a.conn.send(b"x" * 100, 1.0)
    (data,) = a.flush(1.0)
    old_tsval = data.timestamps[0] - 460  # 460 ms before the data left
    a.recv_segment(_ack(b, a, data.seq + 100, tsecr=old_tsval), 1.04)
    assert a.conn.info()["srtt"] == pytest.approx(_srtt_after([0.04], 0.1))


def test_after_a_retransmission_the_timestamp_echo_gives_the_sample():
    """RFC 7323 §4.1: the echoed TSval of the retransmission dates it unambiguously."""
    a, b = handshake(rtt=0.1)
    a.conn.send(b"x" * 100, 1.0)
    a.flush(1.0)
    t = a.conn.get_timer()
    (again,) = a.timer(t)
    a.recv_segment(_ack(b, a, again.seq + 100, tsecr=again.timestamps[0]), t + 0.03)
    assert a.conn.info()["srtt"] == pytest.approx(_srtt_after([0.03], 0.1), abs=0.001)
