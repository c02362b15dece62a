"""The send side's buffer: bytes the application wrote that are not yet acknowledged.

``base`` is the sequence number of the first byte held; acknowledged bytes are dropped
from the front (RFC 9293 §3.10.7.4 fifth step: "Any segments on the retransmission queue
that are thereby entirely acknowledged are removed").

The bytes are kept as a list of chunks, not one bytearray: appending to a bytearray whose
front has been deleted reallocates and copies all of it (megabytes with a large
SO_SNDBUF), while a chunk list copies each byte once on the way in and once into the
segment that carries it.  Large writes become chunks of their own (``bytes`` are
immutable, so a ``bytes`` write, or a view of ``bytes``, is not even copied, and a
segment cut from such a chunk is a view of it, copied only into the packet); small
writes are gathered in a growing tail chunk, so a stream of one-byte writes does not
make a chunk per byte.
Positions are kept as unbounded stream offsets (``_lo``/``_hi``) so that locating a
chunk is a bisection, free of sequence-number wraparound.
"""

from __future__ import annotations

from bisect import bisect_right

from synack.tcp.seq import HALF, MASK, MOD, seq_add, seq_sub

#: Writes of at least this many octets are kept as chunks of their own; smaller ones are
#: appended to a tail chunk until it reaches this size.
CHUNK = 1 << 16


class SendBuffer:
    # Slots: thousands of connections (TIME_WAIT) each keep one; no per-object dict.
    __slots__ = ("_chunks", "_first", "_hi", "_lo", "_starts", "base", "capacity")

    def __init__(self, capacity: int, base: int = 0) -> None:
        self.capacity = capacity
        self.base = base
        self._chunks: list[bytes | bytearray | memoryview] = []
        self._starts: list[int] = []  # stream offset of each chunk's first octet
        self._first = 0  # index of the first chunk still held
        self._lo = 0  # stream offset of ``base``
        self._hi = 0  # stream offset just past the last octet written

    def __len__(self) -> int:
        return self._hi - self._lo

    @property
    def free(self) -> int:
        return max(self.capacity - (self._hi - self._lo), 0)

    @property
    def end(self) -> int:
        """Sequence number just past the last byte held."""
        return seq_add(self.base, self._hi - self._lo)

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Queue what fits of ``data`` (any buffer, counted in octets); returns how much."""
        owner: bytes | None  # the immutable object the octets live in, if any
        if type(data) is bytes:
            buf: bytes | bytearray | memoryview = data
            owner = data
        elif type(data) is bytearray:
            buf, owner = data, None
        else:
            view = memoryview(data)  # a view of our own: valid after the caller's release()
            if not view.c_contiguous:
                buf = owner = view.tobytes()
            else:
                if view.ndim != 1 or view.itemsize != 1:
                    view = view.cast("B")  # octets, not items
                buf = view
                owner = view.obj if type(view.obj) is bytes else None
        n = min(len(buf), self.free)
        if n <= 0:
            return 0
        piece = buf if n == len(buf) else memoryview(buf)[:n]
        chunks = self._chunks
        tail = chunks[-1] if len(chunks) > self._first else None
        if isinstance(tail, bytearray) and len(tail) + n <= CHUNK:
            tail += piece
        else:
            self._starts.append(self._hi)
            if n < CHUNK:
                chunks.append(bytearray(piece))
            elif owner is not None and self._may_pin(owner, n, tail):
                chunks.append(piece)  # the caller's immutable octets, not copied
            else:
                chunks.append(bytes(piece))  # a buffer the caller may reuse: one copy
        self._hi += n
        return n

    @staticmethod
    def _may_pin(owner: bytes, n: int, last: object) -> bool:
        """Whether to keep a view of ``owner`` rather than copy ``n`` octets of it: a view
        keeps the whole object alive until acknowledged, so only when the chunk is at
        least half of it, or the chunk before already keeps it (a writer's successive
        slices of one block).  A loop of ``data = data[n:]`` makes a new object each
        time, and pinning each would hold many copies of the rest."""
        if len(owner) <= 2 * n or last is owner:
            return True
        return type(last) is memoryview and last.obj is owner

    def slice(self, seq: int, n: int) -> bytes | memoryview:
        """The ``n`` octets from ``seq``: a view when they lie in one immutable chunk,
        else a copy (the growing tail chunk is a bytearray, which a view would pin)."""
        off = seq_sub(seq, self.base)
        if off < 0:
            return b""
        pos = self._lo + off
        stop = min(pos + n, self._hi)
        if pos >= stop:
            return b""
        i = bisect_right(self._starts, pos, self._first) - 1
        parts: list[bytes | memoryview] = []
        while pos < stop:
            chunk, start = self._chunks[i], self._starts[i]
            take = min(stop, start + len(chunk)) - pos
            lo = pos - start
            if type(chunk) is bytearray:
                with memoryview(chunk) as view:
                    parts.append(bytes(view[lo : lo + take]))
            else:
                parts.append(memoryview(chunk)[lo : lo + take])
            pos += take
            i += 1
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def available_from(self, seq: int) -> int:
        # max(held - seq_sub(seq, base), 0), written out: a dozen calls per segment.
        d = (seq - self.base) & MASK
        n = self._hi - self._lo - (d - MOD if d >= HALF else d)
        return n if n > 0 else 0

    def acknowledge(self, ack: int) -> int:
        """Drop bytes before ``ack``; returns how many were dropped."""
        n = seq_sub(ack, self.base)
        if n <= 0:
            return 0
        n = min(n, self._hi - self._lo)
        self._lo += n
        self.base = seq_add(self.base, n)
        chunks, starts = self._chunks, self._starts
        first = self._first
        while first < len(chunks) and starts[first] + len(chunks[first]) <= self._lo:
            chunks[first] = b""  # release the memory now; the slot goes at compaction
            first += 1
        if first > 64 and first * 2 > len(chunks):
            del chunks[:first], starts[:first]
            first = 0
        self._first = first
        return n

    def clear(self) -> None:
        self._chunks.clear()
        self._starts.clear()
        self._first = 0
        self._lo = self._hi = 0
