"""The receive side: in-order bytes waiting for the application, and out-of-order
segments held until the gap before them fills (RFC 9293 §3.10.7.4 seventh step).

Memory is bounded: the connection only hands over bytes inside the window it announced,
and the window is never larger than the free space of the buffer.
"""

from __future__ import annotations

from synack.tcp.seq import seq_add, seq_sub


class ReceiveBuffer:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._data = bytearray()
        #: Out-of-order pieces, keyed by offset from rcv_nxt's... stored as absolute seq.
        self._ooo: dict[int, bytes] = {}
        self._ooo_bytes = 0
        #: Sequence number of an out-of-order FIN, if one arrived early.
        self.ooo_fin: int | None = None

    # --- application side ------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._data)

    @property
    def free(self) -> int:
        return max(self.capacity - len(self._data) - self._ooo_bytes, 0)

    def read(self, n: int) -> bytes:
        chunk = bytes(self._data[:n])
        del self._data[:n]
        return chunk

    def peek_all(self) -> bytes:
        return bytes(self._data)

    def clear(self) -> None:
        self._data.clear()
        self._ooo.clear()
        self._ooo_bytes = 0

    @property
    def ooo_bytes(self) -> int:
        return self._ooo_bytes

    # --- network side ----------------------------------------------------------------

    def accept(self, rcv_nxt: int, seq: int, data: bytes) -> int:
        """Take ``data`` starting at ``seq`` (already trimmed to the window).

        Returns how many bytes became in-order (by how much RCV.NXT advances).
        """
        offset = seq_sub(seq, rcv_nxt)
        if offset > 0:
            self._store_ooo(seq, data)
            return 0
        if offset < 0:
            data = data[-offset:]
        self._data += data
        advanced = len(data)
        nxt = seq_add(rcv_nxt, advanced)
        # Pull in out-of-order pieces that now touch the in-order edge.
        while self._ooo:
            found = False
            for start in list(self._ooo):
                piece = self._ooo[start]
                off = seq_sub(start, nxt)
                if off <= 0:
                    del self._ooo[start]
                    self._ooo_bytes -= len(piece)
                    if off + len(piece) > 0:
                        tail = piece[-off:] if off < 0 else piece
                        self._data += tail
                        advanced += len(tail)
                        nxt = seq_add(nxt, len(tail))
                    found = True
            if not found:
                break
        return advanced

    def _store_ooo(self, seq: int, data: bytes) -> None:
        old = self._ooo.get(seq)
        if old is not None and len(old) >= len(data):
            return
        if old is not None:
            self._ooo_bytes -= len(old)
        self._ooo[seq] = data
        self._ooo_bytes += len(data)

    def ooo_blocks(self) -> list[tuple[int, int]]:
        """The out-of-order ranges held, as (start, end) sequence numbers (for SACK)."""
        return [(s, seq_add(s, len(d))) for s, d in self._ooo.items()]
