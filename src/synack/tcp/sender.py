"""The send side's buffer: bytes the application wrote that are not yet acknowledged.

``base`` is the sequence number of the first byte held; acknowledged bytes are dropped
from the front (RFC 9293 §3.10.7.4 fifth step: "Any segments on the retransmission queue
that are thereby entirely acknowledged are removed").
"""

from __future__ import annotations

from synack.tcp.seq import seq_add, seq_sub


class SendBuffer:
    def __init__(self, capacity: int, base: int = 0) -> None:
        self.capacity = capacity
        self.base = base
        self._data = bytearray()

    def __len__(self) -> int:
        return len(self._data)

    @property
    def free(self) -> int:
        return max(self.capacity - len(self._data), 0)

    @property
    def end(self) -> int:
        """Sequence number just past the last byte held."""
        return seq_add(self.base, len(self._data))

    def write(self, data: bytes) -> int:
        n = min(len(data), self.free)
        self._data += data[:n]
        return n

    def slice(self, seq: int, n: int) -> bytes:
        off = seq_sub(seq, self.base)
        if off < 0:
            return b""
        return bytes(self._data[off : off + n])

    def available_from(self, seq: int) -> int:
        return max(len(self._data) - seq_sub(seq, self.base), 0)

    def acknowledge(self, ack: int) -> int:
        """Drop bytes before ``ack``; returns how many were dropped."""
        n = seq_sub(ack, self.base)
        if n <= 0:
            return 0
        n = min(n, len(self._data))
        del self._data[:n]
        self.base = seq_add(self.base, n)
        return n

    def clear(self) -> None:
        self._data.clear()
