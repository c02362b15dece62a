"""The Internet checksum (RFC 1071) and the TCP/UDP pseudo-header (RFC 9293 §3.1, RFC 768).

The checksum is the 16-bit ones'-complement of the ones'-complement sum of the data taken
as big-endian 16-bit words, an odd final octet padded on the right with zero (RFC 1071
§1, RFC 9293 §3.1 "Checksum").

Speed: because 2**16 ≡ 1 (mod 0xFFFF), a buffer read as one big-endian integer is
congruent to the sum of its 16-bit words modulo 0xFFFF, which is exactly the
ones'-complement sum (end-around carry, RFC 1071 §2(A)) up to the choice between the two
representations of zero.  One ``int.from_bytes`` and one ``%`` therefore replace a Python
loop; this was measured fastest of the pure-Python approaches tried (about 4x faster
than summing an ``array('H')``).

Large buffers: the ``%`` of a big integer divides digit by digit (about 0.6 GB/s here),
so when numpy is installed (the optional ``fast`` extra) buffers of
:data:`NUMPY_THRESHOLD` octets or more are summed as little-endian 32-bit words with
``numpy.sum`` into a 64-bit accumulator (about 11 GB/s for 64 KB).  The sum of
little-endian words is the byte-swapped sum of big-endian ones (RFC 1071 §2(B),
byte-order independence), and swapping the two octets of a 16-bit value is a
multiplication by 256 modulo 0xFFFF.  ``benchmarks/checksum.py`` measures both ways.
"""

from __future__ import annotations

import socket
from functools import lru_cache
from typing import Any

from synack.errors import UsageError

_MASK16 = 0xFFFF

#: What the sums take: any contiguous buffer of octets.
BytesLike = bytes | bytearray | memoryview

#: Buffers at least this long are summed with numpy when it is available (measured
#: crossover: numpy's per-call overhead is about 2 µs, a 1460-octet buffer as one
#: integer costs about 2.7 µs).
NUMPY_THRESHOLD = 2048

_np: Any
try:  # optional accelerator (pip install synack[fast])
    import numpy as _np
except ImportError:  # pragma: no cover - depends on the environment
    _np = None
else:
    _np_add_reduce = _np.add.reduce
    _np_uint64 = _np.uint64
    _LE32 = _np.dtype("<u4")


@lru_cache(maxsize=1024)
def pack_ipv4_address(addr: str) -> bytes:
    """The four octets of a dotted-quad IPv4 address (strict: exactly four decimal parts)."""
    try:
        return socket.inet_pton(socket.AF_INET, addr)
    except (OSError, TypeError) as exc:
        raise UsageError(f"not an IPv4 address: {addr!r}") from exc


@lru_cache(maxsize=1024)
def address_sum(addr: str) -> int:
    """The sum of an IPv4 address's two 16-bit words (unfolded), for checksums."""
    packed = pack_ipv4_address(addr)
    return ((packed[0] << 8) | packed[1]) + ((packed[2] << 8) | packed[3])


def ones_complement_sum(data: BytesLike, initial: int = 0) -> int:
    """The folded 16-bit ones'-complement sum of ``data`` plus ``initial`` (RFC 1071 §2).

    ``initial`` may be any non-negative unfolded partial sum (e.g. from
    :func:`pseudo_header_sum`).  The result is in [0, 0xFFFF]; it is 0 only when the data
    and ``initial`` are all zero (a non-zero sum is never folded to "+0").
    """
    n = len(data)
    if _np is not None and n >= NUMPY_THRESHOLD:
        # numpy.add.reduce, not ndarray.sum: the same loop without sum's Python wrapper.
        le = int(_np_add_reduce(_np.frombuffer(data, _LE32, n >> 2), dtype=_np_uint64))
        # The body as big-endian 16-bit words: byte-swap the little-endian sum (x256);
        # the tail (0-3 octets, at an even offset) as one big-endian 32-bit word.
        total = (le % _MASK16) * 256
        nonzero = bool(le)
        if n & 3:
            tail = bytes(data[n & ~3 :])
            total += int.from_bytes(tail + bytes(4 - len(tail)), "big")
            nonzero = nonzero or any(tail)
    else:
        if n & 1:
            data = bytes(data) + b"\x00"  # RFC 1071 §4.1: pad the odd octet with zero
        total = int.from_bytes(data, "big")
        nonzero = bool(total)
    return _fold(total, nonzero, initial)


_ZEROS = bytes(4)


def _be_sum(b: BytesLike) -> int:
    """A buffer's big-endian 16-bit word sum modulo 0xFFFF, without numpy."""
    data = bytes(b) + _ZEROS[:1] if len(b) & 1 else b
    return int.from_bytes(data, "big") % _MASK16


def _from_le32(sums: list[int]) -> list[int]:
    """Sums of little-endian 32-bit words as big-endian 16-bit word sums modulo 0xFFFF:
    a little-endian 32-bit word is congruent to the sum of its two little-endian halves
    (2**16 ≡ 1), whose sum is 256 times the big-endian one (the module docstring)."""
    return [s % _MASK16 * 256 % _MASK16 for s in sums]


def word_sums(buffers: list[bytes]) -> list[int]:
    """Each buffer's sum of big-endian 16-bit words (an odd final octet padded with
    zero) modulo 0xFFFF, in [0, 0xFFFE]: what a checksum check needs of many packets at
    once (a buffer whose checksum is right sums, with its pseudo-header, to 0).

    With numpy and two or more buffers they are joined, each padded to a multiple of four
    octets (zeros add nothing), and summed by one ``numpy.add.reduceat`` over
    little-endian 32-bit words: 0.4 µs per 1500-octet packet in a batch of 64, against
    2.6 µs one at a time.  Empty buffers sum to 0.
    """
    if _np is None or len(buffers) < 2 or not all(buffers):
        return [_be_sum(b) for b in buffers]
    parts: list[bytes] = []
    starts: list[int] = []
    pos = 0
    for b in buffers:
        starts.append(pos >> 2)
        parts.append(b)
        n = len(b)
        pad = -n & 3
        if pad:
            parts.append(_ZEROS[:pad])
        pos += n + pad
    words = _np.frombuffer(b"".join(parts), dtype="<u4")
    return _from_le32(_np.add.reduceat(words, starts, dtype=_np.uint64).tolist())


def piece_sums(payload: BytesLike, size: int) -> list[int]:
    """The same sum for each ``size``-octet piece of one buffer (the last piece may be
    shorter): a TSO packet's payload cut into segments.  With numpy and a size that is a
    multiple of four, the pieces lie on 32-bit words and one ``numpy.add.reduceat``
    over the buffer itself does them all, with no copy; otherwise each piece is summed on
    its own."""
    n = len(payload)
    view = memoryview(payload)
    if _np is None or size % 4 or n < 2 * size:
        return [_be_sum(view[off : off + size]) for off in range(0, n, size)]
    n4 = n & ~3
    words = _np.frombuffer(view, dtype="<u4", count=n4 >> 2)
    starts = list(range(0, n4 >> 2, size >> 2))
    sums: list[int] = _np.add.reduceat(words, starts, dtype=_np.uint64).tolist()
    if len(sums) * size < n:  # a last piece that lies wholly in the tail (1-3 octets)
        sums.append(0)
    if n4 < n:  # the tail, in the last piece, as one little-endian word
        sums[-1] += int.from_bytes(bytes(view[n4:]) + _ZEROS[: 4 - (n - n4)], "little")
    return _from_le32(sums)


def pure_ones_complement_sum(data: BytesLike, initial: int = 0) -> int:
    """:func:`ones_complement_sum` without the numpy path (tests compare the two)."""
    if len(data) & 1:
        data = bytes(data) + b"\x00"
    total = int.from_bytes(data, "big")
    return _fold(total, bool(total), initial)


def _fold(total: int, nonzero: bool, initial: int) -> int:
    """``total`` (congruent to the data's sum modulo 0xFFFF) plus ``initial``, folded."""
    s = total % _MASK16
    if s == 0 and nonzero:
        s = _MASK16  # the non-zero representation of zero, as end-around carry yields
    s += initial
    while s >> 16:
        s = (s & _MASK16) + (s >> 16)
    return s


def internet_checksum(data: BytesLike, initial: int = 0) -> int:
    """The RFC 1071 Internet checksum of ``data``: ~(ones'-complement sum) & 0xFFFF.

    Computed over a buffer whose checksum field already holds a correct checksum, the
    result is 0 (RFC 1071 §1 (3)), which is how the decoders verify.
    """
    return ~ones_complement_sum(data, initial) & _MASK16


def pseudo_header_sum(src_ip: str, dst_ip: str, protocol: int, length: int) -> int:
    """Unfolded sum of the 12-octet IPv4 pseudo-header, for use as ``initial``.

    RFC 9293 §3.1 (TCP) and RFC 768 (UDP): source address, destination address, a zero
    octet, the protocol number, and the TCP/UDP length (header plus data, in octets).
    """
    return address_sum(src_ip) + address_sum(dst_ip) + (protocol & 0xFF) + (length & _MASK16)
