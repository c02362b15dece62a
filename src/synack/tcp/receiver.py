"""The receive side: in-order bytes waiting for the application, out-of-order data held
until the gap before it fills (RFC 9293 §3.10.7.4 seventh step), and the SACK blocks
that describe it (RFC 2018 §4, D-SACK RFC 2883).

Out-of-order data is kept as disjoint, merged intervals, so overlapping or repeated
segments never take more memory than the bytes they cover.  The connection only hands
over bytes inside the window it announced, and that window never exceeds the free space
of the buffer, so memory stays within ``capacity`` whatever the peer sends.
"""

from __future__ import annotations

from synack.tcp.seq import MASK, seq_sub

#: Payloads at least this long are kept as views of their packets until read; shorter
#: ones are copied, so that a stream of tiny segments costs no more than their octets.
VIEW_MIN = 1024

#: RFC 2018 §3: at most 4 blocks fit in 40 option bytes; 3 alongside timestamps.
MAX_SACK_BLOCKS = 4
MAX_SACK_BLOCKS_WITH_TS = 3


class ReceiveBuffer:
    # Slots: thousands of connections (TIME_WAIT) each keep one; no per-object dict.
    __slots__ = (
        "_chunks",
        "_dsack",
        "_len",
        "_ooo",
        "_ooo_bytes",
        "_recent",
        "capacity",
        "delivered",
        "dsack",
        "ooo_fin",
    )

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        # In-order bytes as the chunks that arrived (segment payloads), so that reading
        # everything hands the application those very objects, or one join of them:
        # no copy into and out of an intermediate buffer.  A payload may be a read-only
        # view of the packet it came in (see _append): the join is then its one copy.
        self._chunks: list[bytes | memoryview] = []  # a list: a deque costs 600 bytes
        self._len = 0
        # Out-of-order intervals as [stream offset, bytes], sorted and disjoint.  Stream
        # offsets are 64-bit positions (bytes delivered so far + distance from RCV.NXT),
        # so they never wrap.
        self._ooo: list[tuple[int, bytearray]] = []
        self._ooo_bytes = 0
        self.delivered = 0  # stream offset of RCV.NXT (bytes taken in order so far)
        #: Sequence number of an out-of-order FIN, if one arrived early.
        self.ooo_fin: int | None = None
        # SACK bookkeeping (RFC 2018 §4): the order in which blocks were last reported.
        self._recent: list[int] = []  # interval start offsets, most recent first
        self._dsack: tuple[int, int] | None = None  # (start seq, end seq) to report once
        self.dsack = True  # net.ipv4.tcp_dsack

    # --- application side ------------------------------------------------------------

    def __len__(self) -> int:
        return self._len

    @property
    def free(self) -> int:
        return max(self.capacity - self._len - self._ooo_bytes, 0)

    @property
    def ooo_bytes(self) -> int:
        return self._ooo_bytes

    def read(self, n: int) -> bytes:
        chunks = self._chunks
        if n >= self._len:
            out = bytes(chunks[0]) if len(chunks) == 1 else b"".join(chunks)
            chunks.clear()
            self._len = 0
            return out
        parts: list[bytes | memoryview] = []
        left = n
        i = 0
        while left > 0:
            head = chunks[i]
            if len(head) <= left:
                parts.append(head)
                left -= len(head)
                i += 1
            else:
                parts.append(head[:left])
                chunks[i] = head[left:]
                left = 0
        del chunks[:i]  # one move for all the chunks taken
        self._len -= n
        return bytes(parts[0]) if len(parts) == 1 else b"".join(parts)

    def peek_all(self) -> bytes:
        return b"".join(self._chunks)

    def _append(self, data: bytes | bytearray | memoryview) -> None:
        if data:
            if isinstance(data, bytearray) or (
                isinstance(data, memoryview)
                and (type(data.obj) is not bytes or len(data) < VIEW_MIN)
            ):
                # A mutable buffer is copied (its owner may reuse it), and so is a small
                # payload: a view (about 200 octets) would keep its whole packet.
                data = bytes(data)
            self._chunks.append(data)
            self._len += len(data)

    def clear(self) -> None:
        self._chunks.clear()
        self._len = 0
        self._ooo.clear()
        self._ooo_bytes = 0
        self._recent.clear()

    # --- network side ----------------------------------------------------------------

    def accept(self, rcv_nxt: int, seq: int, data: bytes | memoryview) -> int:
        """Take ``data`` starting at ``seq`` (already trimmed to the window, and not
        starting before RCV.NXT).  Returns how many bytes became in order."""
        offset = seq_sub(seq, rcv_nxt)
        start = self.delivered + offset
        if offset > 0:
            self._store(start, data, rcv_nxt)
            return 0
        self._append(data)
        new_end = self.delivered + len(data)
        self.delivered = new_end
        advanced = len(data)
        dup: tuple[int, int] | None = None
        # Pull in out-of-order intervals that now touch (or overlap) the in-order edge.
        while self._ooo and self._ooo[0][0] <= self.delivered:
            s, piece = self._ooo.pop(0)
            overlap_end = min(s + len(piece), new_end)
            if s < overlap_end:
                # Bytes we held already came again: a D-SACK for the first such range
                # (RFC 2883 §4; Linux tcp_ofo_queue extends it only if contiguous).
                if dup is None:
                    dup = (s, overlap_end)
                elif s <= dup[1]:
                    dup = (dup[0], max(dup[1], overlap_end))
            self._ooo_bytes -= len(piece)
            if s in self._recent:
                self._recent.remove(s)
            tail = piece[self.delivered - s :]
            if tail:
                self._append(tail)
                self.delivered += len(tail)
                advanced += len(tail)
        if dup is not None:
            left = (rcv_nxt + (dup[0] - (new_end - len(data)))) & MASK
            self.note_duplicate(left, dup[1] - dup[0])
        return advanced

    def note_duplicate(self, seq: int, length: int) -> None:
        """A segment that was already received: report it in a D-SACK (RFC 2883 §4)."""
        if length > 0 and self.dsack:
            self._dsack = (seq, (seq + length) & MASK)

    def _store(self, start: int, data: bytes | memoryview, rcv_nxt: int) -> None:
        end = start + len(data)
        merged_start, merged = start, bytearray(data)
        keep: list[tuple[int, bytearray]] = []
        duplicate = False
        for s, piece in self._ooo:
            e = s + len(piece)
            if e < merged_start or s > merged_start + len(merged):
                keep.append((s, piece))
                continue
            if s <= start and end <= e:
                duplicate = True
            # Overlapping or adjacent: merge, keeping the bytes already held.
            lo = min(s, merged_start)
            hi = max(e, merged_start + len(merged))
            buf = bytearray(hi - lo)
            buf[merged_start - lo : merged_start - lo + len(merged)] = merged
            buf[s - lo : e - lo] = piece
            merged_start, merged = lo, buf
            self._ooo_bytes -= len(piece)
            if s in self._recent:
                self._recent.remove(s)
        if duplicate:
            base = (rcv_nxt + (start - self.delivered)) & MASK
            self.note_duplicate(base, len(data))
        keep.append((merged_start, merged))
        keep.sort(key=lambda t: t[0])
        self._ooo = keep
        self._ooo_bytes += len(merged)
        self._recent.insert(0, merged_start)  # RFC 2018 §4: most recent block first

    def sack_blocks(self, rcv_nxt: int, timestamps: bool) -> tuple[tuple[int, int], ...]:
        """The SACK blocks for the next ACK (RFC 2018 §4), D-SACK first (RFC 2883 §4).
        The D-SACK is reported once."""
        if not self._ooo and self._dsack is None:
            return ()  # nothing out of order, no duplicate to report: the usual case
        limit = MAX_SACK_BLOCKS_WITH_TS if timestamps else MAX_SACK_BLOCKS
        blocks: list[tuple[int, int]] = []
        if self._dsack is not None:
            blocks.append(self._dsack)
            self._dsack = None
        by_start = dict(self._ooo)
        order = [s for s in self._recent if s in by_start]
        order += [s for s, _ in self._ooo if s not in order]
        for s in order:
            if len(blocks) >= limit:
                break
            left = (rcv_nxt + (s - self.delivered)) & MASK
            blocks.append((left, (left + len(by_start[s])) & MASK))
        return tuple(blocks)

    def ooo_blocks(self, rcv_nxt: int) -> list[tuple[int, int]]:
        """The out-of-order ranges held, as (start, end) sequence numbers."""
        out = []
        for s, piece in self._ooo:
            left = (rcv_nxt + (s - self.delivered)) & MASK
            out.append((left, (left + len(piece)) & MASK))
        return out
