"""Loss recovery: RACK-based fast retransmit with SACK, NewReno without SACK, PRR,
tail loss probes, RTO recovery, restart after idle (RFC 8985, 6675, 6582, 6937, 5681)."""

import pytest

from synack.tcp.congestion.cubic import Cubic
from synack.tcp.congestion.reno import Reno
from synack.tcp.seq import seq_add
from synack.tcp.states import State
from synack.wire.tcp import Flags, TCPSegment
from tcp_harness import A_ADDR, B_ADDR, handshake

A = Flags.ACK


def _warm(a, b, t=1.0, rtt=0.1):
    """One exchange so that the sender has an RTT sample of ``rtt``."""
    a.conn.send(b"w" * 100, t)
    (s,) = a.flush(t)
    acks = b.recv_ack(s, t + rtt / 2)
    for ack in acks:
        a.recv_segment(ack, t + rtt)


def _flight(a, n, t):
    a.conn.send(b"x" * (a.conn.eff_mss * n), t)
    out = a.flush(t)
    assert len(out) == n
    return out


def test_third_sacked_segment_triggers_fast_retransmit_with_sack():
    a, b = handshake(rtt=0.1)
    _warm(a, b)
    segs = _flight(a, 10, 2.0)
    acks = [b.recv_segment(s, 2.05)[0] for s in segs[1:4]]  # segs[0] is lost
    assert all(x.sack_blocks for x in acks)
    assert a.recv_segment(acks[0], 2.1) == []  # one SACKed segment: maybe reordering
    assert a.recv_segment(acks[1], 2.1) == []
    out = a.recv_segment(acks[2], 2.1)  # three: RACK's reordering window drops to zero
    assert out[0].seq == segs[0].seq and out[0].payload == segs[0].payload
    assert a.conn.in_recovery
    assert a.conn.counters["TCPRecoveries"] == 1


def test_rack_reorder_timer_marks_loss_without_three_sacks():
    a, b = handshake(rtt=0.1)
    _warm(a, b)
    segs = _flight(a, 2, 2.0)
    (ack,) = b.recv_segment(segs[1], 2.05)
    assert a.recv_segment(ack, 2.1) == []
    t = a.conn.get_timer()
    assert 2.1 < t < 2.2  # reordering window: min_rtt / 4
    out = a.timer(t)
    assert out and out[0].seq == segs[0].seq


def test_three_duplicate_acks_trigger_fast_retransmit_without_sack():
    a, b = handshake(rtt=0.1, sack=False)
    _warm(a, b)
    segs = _flight(a, 6, 2.0)
    dupacks = [b.recv_segment(s, 2.05)[0] for s in segs[1:5]]
    assert len({d.ack for d in dupacks}) == 1
    out1 = a.recv_segment(dupacks[0], 2.1)
    out2 = a.recv_segment(dupacks[1], 2.1)
    assert all(s.seq != segs[0].seq for s in out1 + out2)  # limited transmit only
    out3 = a.recv_segment(dupacks[2], 2.1)
    assert out3[0].seq == segs[0].seq  # RFC 5681 §3.2
    assert a.conn.in_recovery


def test_partial_ack_retransmits_the_next_hole_newreno():
    a, b = handshake(rtt=0.1, sack=False)
    _warm(a, b)
    segs = _flight(a, 8, 2.0)
    # segs[0] and segs[2] are lost.
    dup = [b.recv_segment(s, 2.05) for s in (segs[1], segs[3], segs[4], segs[5])]
    for d in dup:
        for x in d:
            a.recv_segment(x, 2.1)
    assert a.conn.in_recovery
    retrans = [s for s in a.sent if s.seq == segs[0].seq]
    assert len(retrans) == 2
    (partial,) = b.recv_segment(retrans[-1], 2.15)
    assert partial.ack == segs[2].seq  # a partial ACK (RFC 6582)
    out = a.recv_segment(partial, 2.2)
    assert a.conn.in_recovery
    # The next hole is marked lost at once; PRR (RFC 6937) lets it go as soon as the
    # ACK clock allows: here with the next duplicate ACK.
    assert any(s.start == segs[2].seq and s.lost for s in a.conn.board.segments)
    if not any(s.seq == segs[2].seq for s in out):
        (dup,) = b.recv_segment(segs[6], 2.25)
        out = a.recv_segment(dup, 2.3)
    assert out and out[0].seq == segs[2].seq


def test_prr_paces_recovery_and_cwnd_ends_at_ssthresh():
    a, b = handshake(rtt=0.1, congestion="reno")
    _warm(a, b)
    mss = a.conn.eff_mss
    n = a.conn.cwnd // mss
    segs = _flight(a, n, 2.0)
    a.conn.send(b"y" * (40 * mss), 2.0)  # more data waiting behind the window
    assert a.flush(2.0) == []
    # Round 0: segs[0] is lost, the ACKs of all the others arrive.
    cwnd_at_loss = None
    sent: list = []
    for s in segs[1:]:
        (x,) = b.recv_segment(s, 2.05)
        before = a.conn.cwnd
        sent += a.recv_segment(x, 2.1)
        if a.conn.in_recovery and cwnd_at_loss is None:
            cwnd_at_loss = before
    ssthresh = a.conn.ssthresh
    # Reno's halving, from cwnd as Linux's tcp_reno_ssthresh does (RFC 5681 eq. 4 says
    # FlightSize), in whole segments.
    assert ssthresh == max(cwnd_at_loss // 2 // mss * mss, 2 * mss)
    # PRR (RFC 6937): after a round of ACKs in recovery, what is in flight has come
    # down to ssthresh, and neither a burst nor a stall got there.
    assert abs(a.conn.board.pipe - ssthresh) <= mss
    retrans = [s for s in sent if s.seq == segs[0].seq]
    assert len(retrans) == 1  # one fast retransmit
    # Round 1: everything arrives, the retransmission first; the full ACK ends recovery.
    sent.remove(retrans[0])
    acks = [x for s in [retrans[0], *sent] for x in b.recv_segment(s, 2.15)]
    for x in acks:
        a.recv_segment(x, 2.2)
        if not a.conn.in_recovery:
            break
    assert not a.conn.in_recovery
    assert a.conn.cwnd == ssthresh  # RFC 6937: cwnd = ssthresh at the end


def test_tail_loss_probe_retransmits_the_last_segment_after_two_rtts():
    a, b = handshake(rtt=0.1)
    _warm(a, b)
    a.conn.send(b"t" * 3000, 2.0)
    segs = a.flush(2.0)
    t = a.conn.get_timer()
    srtt = a.conn.rto.srtt
    assert t == pytest.approx(2.0 + 2 * srtt + 0.002)  # RFC 8985 §7.2, Linux's extra
    (probe,) = a.timer(t)
    assert probe.seq == segs[-1].seq and probe.payload == segs[-1].payload
    assert a.conn.counters["TCPLossProbes"] == 1


def test_without_tlp_the_tail_waits_for_the_rto():
    """net.ipv4.tcp_early_retrans below 3 (TCPConfig.tlp=False): no probe; the first
    timer is the RTO, which resends the first unacknowledged segment."""
    a, b = handshake(rtt=0.1, tlp=False)
    _warm(a, b)
    a.conn.send(b"t" * 3000, 2.0)
    segs = a.flush(2.0)
    t = a.conn.get_timer()
    assert t == pytest.approx(2.0 + a.conn.rto.rto)
    out = a.timer(t)
    assert out[0].seq == segs[0].seq
    assert a.conn.counters.get("TCPLossProbes", 0) == 0
    assert a.conn.counters["TCPTimeouts"] == 1


def test_rto_marks_everything_lost_and_restarts_from_one_segment():
    a, b = handshake(rtt=0.1, sack=False)
    _warm(a, b)
    segs = _flight(a, 5, 2.0)
    t = a.conn.get_timer()
    out = a.timer(t)
    assert [s.seq for s in out] == [segs[0].seq]
    assert a.conn.cwnd == a.conn.eff_mss  # RFC 5681 §3.1: loss window
    assert a.conn.board.lost_bytes == 5 * a.conn.eff_mss - 0 or a.conn.board.lost_bytes > 0
    # The ACK of the retransmission lets two more go (slow start).
    (ack,) = b.recv_segment(out[0], t + 0.05)
    more = a.recv_segment(ack, t + 0.1)
    assert [s.seq for s in more] == [segs[1].seq, segs[2].seq]


def test_congestion_control_is_chosen_by_name():
    a, _ = handshake(rtt=0.1, congestion="reno")
    assert isinstance(a.conn.cc, Reno)
    c, _ = handshake(rtt=0.1)
    assert isinstance(c.conn.cc, Cubic)  # Linux's default
    assert c.conn.cwnd == 10 * c.conn.eff_mss  # RFC 6928 IW10
    with pytest.raises(ValueError):
        handshake(rtt=0.1, congestion="vegas-ish")


def _grown(pair):
    """A warmed-up pair whose sender's cwnd grew past IW10 (four flights of ten, the
    last sent at 5.0 s and acknowledged at 5.1 s)."""
    a, b = pair
    _warm(a, b)
    for i in range(4):
        segs = _flight(a, 10, 2.0 + i)
        for s in segs:
            for x in b.recv_ack(s, 2.05 + i):
                a.recv_segment(x, 2.1 + i)
    assert a.conn.cwnd > 10 * a.conn.eff_mss
    return a, b


def test_restart_after_idle_resets_cwnd_to_the_initial_window():
    a, _ = _grown(handshake(rtt=0.1))
    mss = a.conn.eff_mss
    a.conn.send(b"i" * 100, 30.0)  # idle for much longer than one RTO
    a.flush(30.0)
    assert a.conn.cwnd <= 10 * mss
    a2, b2 = handshake(rtt=0.1, slow_start_after_idle=False)
    _warm(a2, b2)
    assert a2.conn.state is State.ESTABLISHED


def test_a_zero_window_pause_counts_as_idle_from_the_last_data_sent():
    """Linux measures idleness from the last *data* sent (lsndtime) and checks again
    when the window is updated (tcp_ack_update_window): data written just before the
    peer's window closed, then a window that reopens seconds later, restarts from the
    initial window although zero-window probes went out meanwhile (packetdrill
    slow-start-after-win-update)."""
    a, b = _grown(handshake(rtt=0.1))
    mss = a.conn.eff_mss
    c = a.conn

    def ack(window: int, t: float) -> list:
        closed = TCPSegment(B_ADDR[1], A_ADDR[1], b.conn.snd_nxt, c.snd_nxt, Flags.ACK, window)
        return a.recv_segment(closed, t)

    ack(0, 5.12)  # the peer's window closes, just after the last data (sent at 5.0)
    c.send(b"w" * (40 * mss), 5.12)  # written at once: idle for less than an RTO
    assert c.rto.rto > 0.12 and a.flush(5.12) == []
    probes = []
    while (t := c.get_timer() or 99.0) < 8.0:
        probes += a.timer(t)
    assert probes and all(not p.payload for p in probes)  # zero-window probes only
    out = ack(500, 8.5)  # the window reopens, 3.5 s after the last data sent
    assert c.cwnd == 10 * mss
    assert sum(len(s.payload) for s in out) == 10 * mss


def test_one_pause_is_reported_to_the_congestion_control_once():
    """Data written into a closed window and sent when it opens, seconds later: the
    algorithm hears of the pause once, at the transmission, with its whole length (a
    second report would shift CUBIC's clock twice)."""
    a, b = _grown(handshake(rtt=0.1))
    c = a.conn
    assert c.cc is not None
    calls: list[float] = []
    real = c.cc.on_idle

    def spy(now: float, idle: float, rto: float) -> None:
        calls.append(idle)
        real(now, idle, rto)

    c.cc.on_idle = spy  # type: ignore[method-assign]

    def ack(window: int, t: float) -> list:
        upd = TCPSegment(B_ADDR[1], A_ADDR[1], b.conn.snd_nxt, c.snd_nxt, Flags.ACK, window)
        return a.recv_segment(upd, t)

    ack(0, 5.12)
    c.send(b"w" * 5000, 5.12)
    while (t := c.get_timer() or 99.0) < 8.0:
        a.timer(t)
    assert ack(500, 8.5)  # sent now
    assert calls == [pytest.approx(3.5)]


def test_retransmission_ack_is_not_used_for_rtt_karn():
    a, b = handshake(rtt=0.1, timestamps=False)
    _warm(a, b, rtt=0.1)
    srtt = a.conn.rto.srtt
    a.conn.send(b"k" * 10, 2.0)
    (s,) = a.flush(2.0)
    t = a.conn.get_timer()
    (again,) = a.timer(t)
    (ack,) = b.recv_ack(again, t + 5.0)
    a.recv_segment(ack, t + 10.0)
    assert a.conn.rto.srtt == srtt
    assert a.conn.snd_una == seq_add(s.seq, 10)


def test_scoreboard_pipe_is_kept_exactly_by_every_operation():
    import random

    from synack.tcp.scoreboard import Scoreboard, SentSegment

    rng = random.Random(7)
    for _ in range(200):
        board = Scoreboard()
        start = 1000
        for _ in range(rng.randrange(1, 30)):
            n = rng.choice((1, 100, 1448))
            board.add(SentSegment(start, start + n, 0.0, 0.0))
            start += n
        una = 1000
        for _ in range(40):
            op = rng.randrange(5)
            segs = board.segments
            if not segs:
                break
            s = rng.choice(segs)
            if op == 0:
                board.mark_lost(s)
            elif op == 1:
                board.retransmitted(s)
            elif op == 2:
                board.apply_sack(((s.start, s.end),), una)
            elif op == 3:
                una = rng.choice([x.start for x in segs] + [segs[-1].end])
                board.acknowledge(una)
            else:
                board.mark_all_lost()
            assert board.pipe == board.recount_pipe()
            assert board.lost_bytes == sum(x.length for x in board.segments if x.lost)
            assert board.sacked_bytes == sum(x.length for x in board.segments if x.sacked)


def test_newreno_full_ack_ends_recovery_without_marking_more_losses():
    """The ACK that covers everything outstanding at the loss is a full ACK (RFC 6582
    §3.2 step 3): it must not be taken for a partial ACK that marks the next segment lost
    (which would start a spurious recovery after each loss)."""
    a, b = handshake(rtt=0.1, sack=False)
    _warm(a, b)
    segs = _flight(a, 6, 2.0)
    dups = [b.recv_segment(s, 2.05)[0] for s in segs[1:5]]
    for d in dups:
        a.recv_segment(d, 2.1)
    assert a.conn.in_recovery
    a.conn.send(b"n" * 3000, 2.1)  # new data outstanding beyond "recover"
    a.flush(2.1)
    retrans = [s for s in a.sent if s.seq == segs[0].seq][-1]
    acks = [x for s in (segs[5], retrans) for x in b.recv_ack(s, 2.15)]
    for x in acks:
        a.recv_segment(x, 2.2)
    assert not a.conn.in_recovery
    assert a.conn.board.lost_bytes == 0
    assert a.conn.counters["TCPRecoveries"] == 1
    assert a.conn.counters["RetransSegs"] == 1


def test_previously_sacked_segments_do_not_look_like_reordering_to_rack():
    a, b = handshake(rtt=0.1)
    _warm(a, b)
    segs = _flight(a, 6, 2.0)
    for s in segs[1:]:
        for x in b.recv_segment(s, 2.05):
            a.recv_segment(x, 2.1)
    retrans = [s for s in a.sent if s.seq == segs[0].seq][-1]
    for x in b.recv_segment(retrans, 2.15):
        a.recv_segment(x, 2.2)  # the cumulative ACK covers the SACKed segments
    assert not a.conn.rack.reord


def test_newreno_counts_each_segment_delivered_once():
    """Without SACK each duplicate ACK stands for one delivered segment, and the ACK
    that fills the hole delivers only the rest (Linux tcp_remove_reno_sacks)."""
    a, b = handshake(rtt=0.1, sack=False)
    _warm(a, b)
    before = a.conn.info()["delivered"]
    segs = _flight(a, 6, 2.0)
    for s in segs[1:]:
        for x in b.recv_segment(s, 2.05):
            a.recv_segment(x, 2.1)
    retrans = [s for s in a.sent if s.seq == segs[0].seq][-1]
    for x in b.recv_ack(retrans, 2.15):
        a.recv_segment(x, 2.2)
    assert a.conn.snd_una == a.conn.snd_max
    assert a.conn.info()["delivered"] - before == 6


def test_prr_slow_start_bound_adds_a_segment_only_on_a_safe_ack():
    """PRR-SSRB (RFC 6937 §3.1) as updated by draft-ietf-tcpm-prr-rfc6937bis and Linux's
    tcp_cwnd_reduction: the extra segment only when the ACK advanced SND.UNA and
    revealed no new loss."""
    from synack.tcp.prr import PRR

    mss = 1000
    unsafe, safe = PRR(7 * mss, 10 * mss, mss), PRR(7 * mss, 10 * mss, mss)
    assert unsafe.sndcnt(mss, 1 * mss) == mss  # first ACK: the fast retransmit only
    assert safe.sndcnt(mss, 1 * mss, True) == 2 * mss
    for p in (unsafe, safe):
        p.sent(mss)
    assert unsafe.sndcnt(2 * mss, 0) == 2 * mss  # max(prr_delivered - prr_out, delivered)
    assert safe.sndcnt(2 * mss, 0, True) == 3 * mss


def test_reordering_degree_is_measured_like_linux():
    """Linux tcp_check_sack_reordering (tcpi_reordering): segment 7 SACKed first, then
    segment 3, which was sent before it and never retransmitted, arrives: reordering
    reached 7 - 3 + 1 = 5 segments (packetdrill sack-shift-sacked-7-3-4-8-9-fack)."""
    a, b = handshake(rtt=0.1)
    _warm(a, b)
    segs = _flight(a, 10, 2.0)
    assert a.conn.info()["reordering"] == 3  # net.ipv4.tcp_reordering
    (ack7,) = b.recv_segment(segs[6], 2.05)
    a.recv_segment(ack7, 2.1)
    (ack3,) = b.recv_segment(segs[2], 2.06)
    a.recv_segment(ack3, 2.11)
    assert a.conn.info()["reordering"] == 5


def test_rack_rtt_is_the_highest_acknowledged_segments_like_linux():
    """Linux takes RACK's RTT from each segment as tcp_ack meets them (newly SACKed
    ones, then cumulatively acknowledged ones, in sequence order), so a retransmission
    acknowledged together with a later original leaves the original's RTT; the time
    and sequence of the most recently sent one are still RACK.xmit_ts/end_seq.
    (packetdrill prr-ss-ack-below-snd_una-cubic: with the retransmission's shorter RTT
    the next segment would count as lost and PRR would send one segment fewer.)"""
    from synack.tcp.rack import Rack
    from synack.tcp.scoreboard import SentSegment

    rack = Rack()
    rack.min_rtt = 0.010
    retrans = SentSegment(1, 1001, 0.020, 0.010, retransmits=1)
    original = SentSegment(3001, 4001, 0.010, 0.010)
    rack.update([retrans, original], 0.032, None, 1000)
    assert rack.rtt == pytest.approx(0.022)
    assert (rack.xmit_ts, rack.end_seq) == (0.020, 1001)
    # With nothing cumulatively acknowledged, the highest newly SACKed segment's RTT.
    sacked = [
        SentSegment(5001, 6001, 0.012, 0.012, sacked=True),
        SentSegment(6001, 7001, 0.010, 0.010, sacked=True),
    ]
    rack.update(sacked, 0.040, None, 1000)
    assert rack.rtt == pytest.approx(0.030)


def test_newly_sacked_segments_come_out_in_sequence_order_whatever_the_block_order():
    """SACK blocks arrive most recent first (RFC 2018 §4); Linux sorts them before use
    (tcp_sacktag_write_queue), so RACK meets the segments in sequence order."""
    from synack.tcp.scoreboard import Scoreboard, SentSegment

    board = Scoreboard()
    for i in range(6):
        board.add(SentSegment(1000 * i, 1000 * (i + 1), 0.0, 0.0))
    newly = board.apply_sack(((4000, 5000), (1000, 2000), (2000, 3000)), 0)
    assert [s.start for s in newly] == [1000, 2000, 4000]
