"""Sending rules: segmentation at the effective MSS, PSH, Nagle (Minshall), TCP_NODELAY,
the send buffer bound, sender SWS avoidance, zero window and persist probes."""

from synack.tcp.seq import seq_add
from synack.wire.tcp import Flags
from tcp_harness import handshake, seg

A, P = Flags.ACK, Flags.PSH


def test_segments_are_cut_at_the_effective_mss_with_psh_on_the_last():
    a, _b = handshake()
    mss = a.conn.eff_mss
    assert mss == 1460 - 12  # timestamps take 12 bytes of every segment
    a.conn.send(b"x" * (2 * mss + 100), 1.0)
    out = a.flush(1.0)
    assert [len(s.payload) for s in out] == [mss, mss, 100]
    assert [bool(s.flags & P) for s in out] == [False, False, True]


def test_nagle_holds_a_small_segment_while_a_small_one_is_unacknowledged():
    a, b = handshake()
    a.conn.send(b"a", 1.0)
    (first,) = a.flush(1.0)
    a.conn.send(b"b", 1.01)
    assert a.flush(1.01) == []  # held: "a" is small and unacknowledged
    ack = b.recv_ack(first, 1.05)
    (second,) = a.recv_segment(ack[0], 1.1)
    assert second.payload == b"b"


def test_nodelay_sends_small_segments_at_once():
    a, _b = handshake(nodelay=True)
    a.conn.send(b"a", 1.0)
    a.flush(1.0)
    a.conn.send(b"b", 1.01)
    assert [s.payload for s in a.flush(1.01)] == [b"b"]


def test_send_buffer_bounds_what_send_accepts():
    a, _b = handshake(sndbuf=4000)
    assert a.conn.send(b"x" * 10_000, 1.0) == 4000
    assert a.conn.send(b"y", 1.0) == 0


def test_send_window_limits_flight_and_zero_window_starts_persist_probes():
    a, b = handshake()
    # The peer announces a window of 1000 bytes (scale 7: field 7 -> 896 bytes).
    a.conn.receive_segment(seg(A, b.conn.snd_nxt, a.conn.snd_nxt, window=0), 1.0)
    a.flush(1.0)
    a.conn.send(b"z" * 3000, 1.0)
    assert a.flush(1.0) == []  # zero window: nothing may be sent
    t = a.conn.get_timer()
    (probe,) = a.timer(t)
    # Linux's zero-window probe: <SEQ=SND.UNA-1>, no data.
    assert probe.seq == seq_add(a.conn.snd_una, -1) and not probe.payload
    t2 = a.conn.get_timer()
    assert t2 - t > t - 1.0  # probes back off
    # A window update lets the data go.
    out = a.recv_segment(seg(A, b.conn.snd_nxt, a.conn.snd_una, window=100), t2 - 0.01)
    assert sum(len(s.payload) for s in out) == 3000


def test_sender_sws_avoidance_waits_for_a_useful_window():
    a, _b = handshake()
    a.conn.send(b"w" * 5000, 1.0)
    sent = a.flush(1.0)
    assert sum(len(s.payload) for s in sent) == 5000
    # Now a peer that offered 64 KiB shrinks its window to 10 bytes beyond what is in
    # flight after acknowledging everything: a 10-byte segment would be silly.
    a2, b2 = handshake(window_scaling=False)
    a2.conn.send(b"v" * 3000, 1.0)
    a2.flush(1.0)
    una = seq_add(a2.conn.snd_una, 3000)
    a2.conn.send(b"u" * 3000, 1.1)
    out = a2.recv_segment(seg(A, b2.conn.snd_nxt, una, window=10), 1.1)
    assert out == []


def test_options_change_on_a_live_connection():
    a, _ = handshake()
    a.conn.configure(1.0, nodelay=True, keepalive=True, keepidle=5.0, sndbuf=10)
    assert a.conn.config.nodelay and a.conn.get_timer() == 6.0
    assert a.conn.send(b"x" * 100, 1.0) == 10
    a.conn.configure(1.0, congestion="reno")
    assert a.conn.cc.name == "reno" and a.conn.cwnd == 10 * a.conn.eff_mss


def test_info_counts_bytes_and_segments_like_tcp_info():
    a, b = handshake()
    a.conn.send(b"z" * 3000, 1.0)
    for s in a.flush(1.0):
        for ack in b.recv_ack(s, 1.05):
            a.recv_segment(ack, 1.1)
    ai, bi = a.conn.info(), b.conn.info()
    assert ai["bytes_acked"] == 3000 and bi["bytes_received"] == 3000
    assert ai["data_segs_out"] == 3 and bi["data_segs_in"] == 3
    assert ai["delivered"] == 3 and ai["ca_state"] == "open"
    assert bi["segs_out"] >= 2 and ai["segs_in"] == bi["segs_out"]  # SYN-ACK and ACKs


def test_the_final_fin_goes_even_when_cwnd_is_full():
    """Linux tcp_cwnd_test: "Don't be strict about the congestion window for the final
    FIN" (packetdrill shutdown/shutdown-rdwr-write-queue-close)."""
    a, _b = handshake()
    mss = a.conn.eff_mss
    a.conn.send(b"x" * (10 * mss), 1.0)
    assert len(a.flush(1.0)) == 10  # the initial window, all of it in flight
    a.conn.shutdown(1.01)
    (fin,) = a.flush(1.01)
    assert fin.fin and not fin.payload and fin.seq == seq_add(a.conn.snd_una, 10 * mss)


def test_data_beyond_a_full_cwnd_waits_even_with_a_fin_queued():
    a, _b = handshake()
    mss = a.conn.eff_mss
    a.conn.send(b"x" * (10 * mss + 2 * mss), 1.0)
    assert len(a.flush(1.0)) == 10
    a.conn.shutdown(1.01)
    assert a.flush(1.01) == []  # two segments left: only a lone final one may pass


def test_a_window_too_small_for_a_segment_is_used_after_the_override_timeout():
    """Sender SWS avoidance holds back a segment that the peer's small window would cut
    short, but not for ever (RFC 9293 §3.8.6.2.1): the persist timer runs, and when it
    fires what fits goes out, as Linux's probe does (tcp_write_wakeup).  Without it a
    lost window update would leave the connection waiting for ever."""
    a, b = handshake(window_scaling=False)
    a.conn.send(b"v" * 3000, 1.0)
    a.flush(1.0)
    una = seq_add(a.conn.snd_una, 3000)
    a.conn.send(b"u" * 3000, 1.1)
    assert a.recv_segment(seg(A, b.conn.snd_nxt, una, window=10), 1.1) == []
    t = a.conn.get_timer()
    assert t is not None  # the persist timer runs
    (probe,) = a.timer(t)
    assert probe.seq == una and probe.payload == b"u" * 10  # what the window allows
    assert a.conn.rto.backoff == 0
