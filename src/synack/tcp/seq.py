"""Sequence-number arithmetic modulo 2**32 (RFC 9293 §3.4).

Every comparison of sequence numbers in synack goes through these helpers, so that a
connection whose numbers wrap past 2**32 behaves exactly like one that does not.
"a < b" means "a comes before b" in the circular space: b - a, taken modulo 2**32, lies
in (0, 2**31).  (RFC 1982 serial-number arithmetic with SERIAL_BITS = 32.)
"""

from __future__ import annotations

MOD = 1 << 32
MASK = MOD - 1
HALF = 1 << 31


def seq_add(a: int, n: int) -> int:
    """a + n modulo 2**32 (n may be negative)."""
    return (a + n) & MASK


def seq_sub(a: int, b: int) -> int:
    """The signed distance a - b, in [-2**31, 2**31)."""
    d = (a - b) & MASK
    return d - MOD if d >= HALF else d


def seq_lt(a: int, b: int) -> bool:
    """a precedes b (RFC 9293 §3.4: "<" means less than, modulo 2**32)."""
    return 0 < ((b - a) & MASK) < HALF


# The other comparisons are written out rather than calling seq_lt: they run a dozen
# times per segment, and a second Python call doubled their cost.


def seq_le(a: int, b: int) -> bool:
    return ((b - a) & MASK) < HALF


def seq_gt(a: int, b: int) -> bool:
    return 0 < ((a - b) & MASK) < HALF


def seq_ge(a: int, b: int) -> bool:
    return ((a - b) & MASK) < HALF


def seq_in_window(x: int, start: int, length: int) -> bool:
    """start =< x < start + length, modulo 2**32 (the RFC 9293 §3.10.7.4 window test)."""
    return ((x - start) & MASK) < length if length > 0 else False


def seq_max(a: int, b: int) -> int:
    return b if 0 < ((b - a) & MASK) < HALF else a


def seq_min(a: int, b: int) -> int:
    return a if 0 < ((b - a) & MASK) < HALF else b
