"""The sender's record of every segment in flight (RFC 6675 §3's scoreboard, plus what
RACK needs from RFC 8985 §6.1: each segment's last transmission time).

Segments are kept in sequence order from SND.UNA.  Each is SACKed or not, marked lost or
not, and has been sent one or more times.  ``pipe`` is RFC 6675's estimate of the octets
still in the network; it equals Linux's ``packets_in_flight`` counted in bytes:
outstanding - sacked - lost + retransmitted-and-not-yet-lost-again.
"""

from __future__ import annotations

from dataclasses import dataclass

from synack.tcp.seq import seq_add, seq_ge, seq_gt, seq_le, seq_lt, seq_sub


@dataclass(slots=True)
class SentSegment:
    start: int
    end: int  # start + length (+1 for SYN/FIN)
    xmit_time: float  # last (re)transmission (RFC 8985 §6.1 Segment.xmit_ts)
    first_time: float
    fin: bool = False
    retransmits: int = 0
    sacked: bool = False
    lost: bool = False
    tsval: int = 0  # the TSval it was last sent with (RFC 8985 §6.2 step 2)
    retransmitted_since_lost: bool = False

    @property
    def length(self) -> int:
        return seq_sub(self.end, self.start)

    @property
    def in_pipe(self) -> bool:
        """RFC 6675 §4 SetPipe: counted once if not lost, once more if retransmitted."""
        return not self.sacked and (not self.lost or self.retransmitted_since_lost)


class Scoreboard:
    # Slots: thousands of connections (TIME_WAIT) each keep one; no per-object dict.
    __slots__ = ("_pipe", "highest_sacked", "lost_bytes", "marked_lost", "sacked_bytes", "segments")

    def __init__(self) -> None:
        self.segments: list[SentSegment] = []
        self.sacked_bytes = 0
        self.lost_bytes = 0
        self._pipe = 0  # kept up to date by every change below (RFC 6675 SetPipe, O(1))
        self.highest_sacked: int | None = None
        #: Segments ever marked lost (a count to tell whether an ACK revealed new loss).
        self.marked_lost = 0

    def __len__(self) -> int:
        return len(self.segments)

    def clear(self) -> None:
        self.segments.clear()
        self.sacked_bytes = self.lost_bytes = self._pipe = 0
        self.highest_sacked = None

    def add(self, seg: SentSegment) -> None:
        self.segments.append(seg)
        if seg.in_pipe:
            self._pipe += seg.length

    def find(self, start: int) -> SentSegment | None:
        for s in self.segments:
            if s.start == start:
                return s
        return None

    @property
    def pipe(self) -> int:
        return self._pipe

    def recount_pipe(self) -> int:
        """RFC 6675 SetPipe computed from scratch (tests check it against ``pipe``)."""
        return sum(s.length for s in self.segments if s.in_pipe)

    def acknowledge(self, ack: int) -> list[SentSegment]:
        """Remove segments covered by the cumulative ACK; returns them.  A segment only
        partly covered is trimmed (its start moves up)."""
        segments = self.segments
        k = 0
        for s in segments:
            if not seq_le(s.end, ack):
                break
            length = seq_sub(s.end, s.start)
            if s.in_pipe:
                self._pipe -= length
            if s.sacked:
                self.sacked_bytes -= length
            elif s.lost:
                self.lost_bytes -= length
            k += 1
        done = segments[:k]
        del segments[:k]  # one move of the rest, not one per segment removed
        if self.segments and seq_lt(self.segments[0].start, ack):
            s = self.segments[0]
            cut = seq_sub(ack, s.start)
            if s.in_pipe:
                self._pipe -= cut
            if s.sacked:
                self.sacked_bytes -= cut
            elif s.lost:
                self.lost_bytes -= cut
            s.start = ack
        if self.highest_sacked is not None and seq_le(self.highest_sacked, ack):
            self.highest_sacked = None
        return done

    def apply_sack(self, blocks: tuple[tuple[int, int], ...], snd_una: int) -> list[SentSegment]:
        """Mark segments wholly inside any SACK block (RFC 2018 §3, RFC 6675 §5 Update()).
        Returns the newly SACKed segments."""
        newly: list[SentSegment] = []
        for left, right in blocks:
            if not seq_lt(left, right) or seq_le(right, snd_una):
                continue  # invalid, or a D-SACK below SND.UNA (RFC 2883)
            for s in self.segments:
                if s.sacked or seq_lt(s.start, left) or seq_gt(s.end, right):
                    continue
                if s.in_pipe:
                    self._pipe -= s.length
                s.sacked = True
                if s.lost:
                    s.lost = False
                    self.lost_bytes -= s.length
                self.sacked_bytes += s.length
                newly.append(s)
                if self.highest_sacked is None or seq_gt(s.end, self.highest_sacked):
                    self.highest_sacked = s.end
        if len(newly) > 1:
            # In sequence order, whatever the order of the blocks (most recent first,
            # RFC 2018 §4), as Linux sorts them (tcp_sacktag_write_queue): RACK takes
            # the last one's RTT and judges reordering along them.
            newly.sort(key=lambda s: seq_sub(s.start, snd_una))
        return newly

    def mark_lost(self, s: SentSegment) -> bool:
        if s.sacked or (s.lost and not s.retransmitted_since_lost):
            return False
        if s.in_pipe:
            self._pipe -= s.length
        if not s.lost:
            self.lost_bytes += s.length
        self.marked_lost += 1
        s.lost = True
        s.retransmitted_since_lost = False
        return True

    def retransmitted(self, s: SentSegment) -> None:
        """``s`` was sent again: a lost segment is back in the pipe (RFC 6675 §4)."""
        if s.sacked:
            return
        if not s.in_pipe:
            s.retransmitted_since_lost = True
            self._pipe += s.length
        else:
            s.retransmitted_since_lost = s.lost

    def split(self, s: SentSegment, n: int) -> SentSegment:
        """Cut ``s`` after ``n`` bytes (the MSS shrank); returns the tail, placed after it."""
        tail = SentSegment(
            seq_add(s.start, n),
            s.end,
            s.xmit_time,
            s.first_time,
            fin=s.fin,
            retransmits=s.retransmits,
            sacked=s.sacked,
            lost=s.lost,
            tsval=s.tsval,
            retransmitted_since_lost=s.retransmitted_since_lost,
        )
        self.segments.insert(self.segments.index(s) + 1, tail)
        s.end = tail.start
        s.fin = False
        return tail

    def mark_all_lost(self) -> None:
        """RTO: every unSACKed segment is considered lost (RFC 6675 §5.1, RFC 8985 §6.3)."""
        for s in self.segments:
            self.mark_lost(s)

    def sacked_above(self, seg: SentSegment) -> int:
        """Bytes SACKed above ``seg`` (RFC 6675 IsLost uses DupThresh * SMSS)."""
        return sum(s.length for s in self.segments if s.sacked and seq_ge(s.start, seg.end))

    def next_lost(self) -> SentSegment | None:
        """The first segment marked lost and not yet retransmitted (RFC 6675 NextSeg rule 1)."""
        if not self.lost_bytes:
            return None
        for s in self.segments:
            if s.lost and not s.retransmitted_since_lost and not s.sacked:
                return s
        return None

    def retrans_out(self) -> int:
        """Segments retransmitted and still in the network (Linux retrans_out)."""
        return sum(
            1
            for s in self.segments
            if s.retransmits and not s.sacked and (not s.lost or s.retransmitted_since_lost)
        )

    @property
    def any_sacked(self) -> bool:
        return self.sacked_bytes > 0
