"""RACK-TLP loss detection (RFC 8985), Linux's default.

RACK: a segment is lost when a segment sent sufficiently later has been delivered —
"sufficiently" being the RTT of that delivery plus a reordering window (§6).  TLP: when
the tail of a flight gets no ACK for about two RTTs, probe it with one segment so that a
lost tail is repaired by fast recovery instead of an RTO (§7).
"""

from __future__ import annotations

from synack.tcp.scoreboard import Scoreboard, SentSegment
from synack.tcp.seq import seq_gt, seq_lt, seq_sub

#: RFC 8985 §6.2 step 4 / Linux tp->reordering: the DupThresh used to zero reo_wnd.
DUPTHRESH = 3
#: Linux net.ipv4.tcp_max_reordering: the largest reordering degree remembered.
MAX_REORDERING = 300
#: Linux TCP_RTO_MIN added to the PTO when only one segment is out (worst-case delayed ACK).
PTO_ONE_SEGMENT_EXTRA = 0.2
#: Linux TCP_TIMEOUT_MIN (2 jiffies) added otherwise.
PTO_EXTRA = 0.002


def _sent_after(t1: float, end1: int, t2: float, end2: int) -> bool:
    """RFC 8985 §6.2 step 2: "sent after", with the sequence number as tie-breaker."""
    return t1 > t2 or (t1 == t2 and seq_gt(end1, end2))


class Rack:
    # Slots: thousands of connections (TIME_WAIT) each keep one; no per-object dict.
    __slots__ = (
        "end_seq",
        "fack",
        "min_rtt",
        "reo_wnd_mult",
        "reord",
        "reord_seen",
        "reordering",
        "rtt",
        "valid",
        "xmit_ts",
    )

    def __init__(self) -> None:
        self.xmit_ts = 0.0  # RACK.xmit_ts
        self.end_seq = 0  # RACK.end_seq
        self.rtt = 0.0  # RACK.rtt
        self.min_rtt: float | None = None
        self.fack: int | None = None  # highest end sequence delivered
        self.reord = False  # RACK.reord: reordering has been seen
        self.reo_wnd_mult = 1
        self.valid = False
        #: Linux tp->reordering: how far (in segments) reordering has been seen to
        #: reach, starting from the DupThresh (tcpi_reordering).
        self.reordering = DUPTHRESH
        #: Linux tp->reord_seen: deliveries found out of order (tcpi_reord_seen).
        self.reord_seen = 0

    def update(
        self, delivered: list[SentSegment], now: float, ts_ecr: int | None, mss: int = 1
    ) -> None:
        """Step 2 and 3: take the most recently sent delivered segment's time, and an RTT.

        ``delivered``: the segments this ACK acknowledged cumulatively (not SACKed), then
        those it newly SACKed, each group in sequence order.  RACK.rtt is the RTT of the
        last segment taken in the order Linux takes them (tcp_ack: SACKed segments in
        tcp_sacktag_write_queue, then cumulatively acknowledged ones in
        tcp_clean_rtx_queue, each calling tcp_rack_advance, which sets rack.rtt_us every
        time): the highest cumulatively acknowledged segment's if there is one, else the
        highest newly SACKed one's.  (RFC 8985 §6.2 step 2 walks them in order of sending,
        which ends at the most recently sent; the two differ when a retransmission and
        a later original are acknowledged together.)"""
        prior_fack = self.fack
        low: int | None = None
        rtt_cumulative: float | None = None
        rtt_sacked: float | None = None
        for s in delivered:
            rtt = now - s.xmit_time
            if s.retransmits:
                # Ambiguous: ignore unless the timestamps prove the ACK is for the
                # retransmission, or the RTT is implausibly short (RFC 8985 §6.2 step 2).
                if ts_ecr is not None and seq_lt(ts_ecr, s.tsval):
                    continue
                if self.min_rtt is not None and rtt < self.min_rtt:
                    continue
            if self.min_rtt is None or rtt < self.min_rtt:
                self.min_rtt = rtt
            if s.sacked:
                rtt_sacked = rtt
            else:
                rtt_cumulative = rtt
            if not self.valid or _sent_after(s.xmit_time, s.end, self.xmit_ts, self.end_seq):
                self.xmit_ts = s.xmit_time
                self.end_seq = s.end
                self.valid = True
            if self.fack is not None and seq_lt(s.end, self.fack) and not s.retransmits:
                self.reord = True  # step 3: delivered out of order
                below = prior_fack is not None and seq_lt(s.start, prior_fack)
                if below and (low is None or seq_lt(s.start, low)):
                    low = s.start
            if self.fack is None or seq_gt(s.end, self.fack):
                self.fack = s.end
        last = rtt_cumulative if rtt_cumulative is not None else rtt_sacked
        if last is not None:
            self.rtt = last
        if low is not None and self.fack is not None:
            # Linux tcp_check_sack_reordering: the degree is the distance from the
            # lowest segment delivered out of order to the highest delivered, in MSS.
            metric = seq_sub(self.fack, low)
            if metric > self.reordering * mss:
                self.reordering = min(-(-metric // max(mss, 1)), MAX_REORDERING)
            self.reord_seen += 1  # "This exciting event is worth to be remembered. 8)"

    def reo_wnd(self, in_recovery: bool, board: Scoreboard, srtt: float | None, mss: int) -> float:
        """Step 4: the reordering window."""
        if not self.reord:
            if in_recovery:
                return 0.0
            if board.sacked_bytes >= DUPTHRESH * mss:
                return 0.0
        base = (self.min_rtt or 0.0) / 4 * self.reo_wnd_mult
        return min(base, srtt) if srtt is not None else base

    def detect_loss(
        self, board: Scoreboard, now: float, reo_wnd: float
    ) -> tuple[list[SentSegment], float | None]:
        """Step 5: mark lost segments; returns them and the reorder-timer delay, if any."""
        lost: list[SentSegment] = []
        timeout: float | None = None
        if not self.valid:
            return lost, None
        for s in board.segments:
            if s.sacked or (s.lost and not s.retransmitted_since_lost):
                continue
            if not _sent_after(self.xmit_ts, self.end_seq, s.xmit_time, s.end):
                continue
            remaining = s.xmit_time + self.rtt + reo_wnd - now
            if remaining <= 1e-9:
                if board.mark_lost(s):
                    lost.append(s)
            else:
                timeout = remaining if timeout is None else max(timeout, remaining)
        return lost, timeout


def probe_timeout(srtt: float | None, segments_out: int, rto_remaining: float | None) -> float:
    """The PTO (RFC 8985 §7.2, as Linux computes it in tcp_schedule_loss_probe)."""
    if srtt is None:
        pto = 1.0
    else:
        pto = 2 * srtt + (PTO_ONE_SEGMENT_EXTRA if segments_out == 1 else PTO_EXTRA)
    if rto_remaining is not None:
        pto = min(pto, rto_remaining)
    return pto
