"""Receive offload in software (GRO): join a flow's back-to-back TCP segments into one.

Linux runs every received packet through generic receive offload before the TCP stack
sees it (``napi_gro_receive``; ``inet_gro_receive`` and ``tcp_gro_receive`` for
TCP/IPv4): consecutive in-order segments of one flow that arrive in the same poll are
joined into one packet of up to 64 KB, so the stack does its per-segment work, and
sends its ACK, once per joined packet.  :func:`coalesce` does the same for a batch of
packets read from a TUN device without offload (where each read is one wire packet).

Each packet's checksums are verified first, IP header and TCP over the RFC 9293 §3.1
pseudo-header (``skb_gro_checksum_validate``); a packet that fails, or that GRO does
not join (not plain TCP/IPv4, a fragment, IP options), passes through alone and
unverified, for the host to check and count.  A segment is joined to the packet held
for its flow when, as ``tcp_gro_receive`` and ``inet_gro_receive`` require:

* it starts where the held packet ends, with the same ACK number, window, data offset,
  flags (leaving PSH, FIN and CWR aside) and option bytes (so the same timestamps);
* the IP TOS (ECN), TTL and DF bit are the same, and the IP ID is one more than the
  segment before's (or, with DF, the same in all);
* it carries no more payload than the first segment did (the segment size), and the
  joined packet stays within 65535 octets.

A segment with CWR is never joined to the one before (RFC 3168 §6.1.2: the sender's
reaction must be seen); one with SYN, RST or URG stands alone; PSH or FIN, or a payload
shorter than the segment size, ends the packet after it, and PSH and FIN are kept in the
joined header.  The joined packet has the first segment's headers with the new IP total
length and header checksum, and is handed over as verified (its TCP checksum field is
the first segment's: Linux marks such a packet ``CHECKSUM_UNNECESSARY``), with the
segment size beside it, so that the receiver measures the peer's MSS from it.
"""

from __future__ import annotations

import struct
from collections import Counter

from synack.wire.checksum import internet_checksum, word_sums

__all__ = ["coalesce"]

#: The IPv4 header (addresses as two words each) and the TCP header up to its window:
#: ports, sequence and ACK numbers, data offset, flags, window.
_HEADERS = struct.Struct("!BBHHHBBH4HHHIIBBH")
_FIN, _SYN, _RST, _PSH, _ACK, _URG, _CWR = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x80
_MAX_TOTAL = 0xFFFF
_DF = 0x4000
_CHECKSUM_AT = 10


class _Held:
    """The packet being built for one flow."""

    __slots__ = (
        "ack",
        "end",
        "first",
        "flags",
        "ident",
        "key",
        "mss",
        "options",
        "parts",
        "total",
    )

    def __init__(
        self, data: bytes, key: tuple[object, ...], end: int, ack: int, flags: int, mss: int
    ) -> None:
        self.first = data
        self.key = key
        self.end = end
        self.ack = ack
        self.flags = flags
        self.mss = mss
        self.options = b""
        self.ident = 0
        self.parts: list[memoryview] = []
        self.total = len(data)


def coalesce(
    packets: list[bytes], stats: Counter[str] | None = None
) -> tuple[list[bytes], list[bool], list[int]]:
    """The packets of one read batch with each flow's back-to-back segments joined: the
    packets, for each whether its checksums are verified, and its segment size (0 for a
    packet that is one segment).  Order is kept within each flow; a packet GRO does not
    join ends the packet held before it, so order is kept across flows too."""
    out: list[bytes] = []
    verified: list[bool] = []
    sizes: list[int] = []
    held: _Held | None = None
    # Every packet's 16-bit word sum, in one pass over the batch (with numpy).  Over the
    # whole packet it is the IP header's sum plus the TCP segment's, and a good IP header
    # sums to 0 (mod 0xFFFF), so with the pseudo-header it checks the TCP checksum.
    sums = word_sums(packets)

    def flush() -> None:
        nonlocal held
        if held is None:
            return
        h, held = held, None
        if not h.parts:
            out.append(h.first)
            verified.append(True)
            sizes.append(0)
            return
        out.append(_joined(h))
        verified.append(True)
        sizes.append(h.mss)
        if stats is not None:
            stats["gro_packets"] += 1
            stats["gro_segments"] += 1 + len(h.parts)

    for i, data in enumerate(packets):
        n = len(data)
        fields = _HEADERS.unpack_from(data) if n >= 40 else None
        if fields is None or fields[0] != 0x45:  # not IPv4 without IP options
            flush()
            out.append(data)
            verified.append(False)
            sizes.append(0)
            continue
        (_, tos, total, ident, frag, ttl, proto, csum, s1, s2, d1, d2) = fields[:12]
        sport, dport, seq, ack, doff, flags, window = fields[12:]
        hlen = 20 + ((doff >> 4) << 2)
        # RFC 1071 over the IP header's ten words, from its fields (0 mod 0xFFFF if good).
        ip_sum = 0x4500 + tos + total + ident + frag + (ttl << 8) + proto + csum
        ip_sum += s1 + s2 + d1 + d2
        if (
            proto != 6
            or total != n
            or frag & 0x3FFF
            or ip_sum % 0xFFFF
            or hlen < 40
            or hlen > n
            or (sums[i] + s1 + s2 + d1 + d2 + 6 + n - 20) % 0xFFFF
        ):
            # Not a TCP/IPv4 packet GRO takes, or a bad checksum: the host checks it
            # again, and counts it.
            flush()
            out.append(data)
            verified.append(False)
            sizes.append(0)
            continue
        key = (s1, s2, d1, d2, sport, dport, window, doff, tos, ttl, frag & _DF)
        length = n - hlen
        options = data[40:hlen]
        if (
            held is not None
            and key == held.key
            and seq == held.end
            and ack == held.ack
            and (flags & ~(_PSH | _FIN | _CWR)) == (held.flags & ~(_PSH | _FIN | _CWR))
            and not flags & _CWR
            and options == held.options
            and 0 < length <= held.mss
            and held.total + length <= _MAX_TOTAL
            # inet_gro_receive: IP IDs that go up by one per segment, or (DF set) one
            # fixed ID.
            and (
                ident == (held.ident + 1 + len(held.parts)) & 0xFFFF
                or (ident == held.ident and frag & _DF)
            )
        ):
            held.parts.append(memoryview(data)[hlen:])
            held.total += length
            held.end = (seq + length) & 0xFFFFFFFF
            held.flags |= flags & (_PSH | _FIN)
            if length < held.mss or flags & (_PSH | _FIN):
                flush()
            continue
        flush()
        if not length or flags & (_SYN | _RST | _URG | _PSH | _FIN) or not flags & _ACK:
            out.append(data)  # stands alone (checked: the host need not sum it again)
            verified.append(True)
            sizes.append(0)
            continue
        held = _Held(data, key, (seq + length) & 0xFFFFFFFF, ack, flags, length)
        held.options = options
        held.ident = ident
    flush()
    return out, verified, sizes


def _joined(h: _Held) -> bytes:
    """The first segment's headers (new IP total length and checksum, PSH and FIN of the
    segments joined) and every payload."""
    first = h.first
    hlen = 20 + ((first[32] >> 4) << 2)
    head = bytearray(first[:hlen])
    head[2:4] = h.total.to_bytes(2, "big")
    head[_CHECKSUM_AT : _CHECKSUM_AT + 2] = b"\0\0"
    csum = internet_checksum(head[:20])  # RFC 791 §3.1: over the IP header
    head[_CHECKSUM_AT : _CHECKSUM_AT + 2] = csum.to_bytes(2, "big")
    head[33] = h.flags
    return b"".join((head, memoryview(first)[hlen:], *h.parts))
