"""Segmentation offload in software: cut one large TCP/IPv4 packet into wire-sized ones.

A stack with TCP segmentation offload (TSO) hands its link one packet carrying several
segments' worth of payload, with the segment size beside it (Linux: ``skb_shinfo(skb)
->gso_size``); the device, or the kernel's GSO code when the device cannot, cuts it into
packets of at most that payload each (Linux ``tcp_gso_segment``).  synack does the same
where a link must see real wire packets: an impaired simulated link, whose loss and
reordering act per packet, and a TUN device's inbound impairment.

Each piece gets (as ``tcp_gso_segment`` and ``inet_gso_segment`` do):

* the sequence number advanced by the payload before it;
* CWR on the first piece only, FIN and PSH on the last only (RFC 3168 §6.1.2: CWR is set
  once per window reduction, on one segment);
* an IPv4 Identification one more than the piece before (``inet_gso_segment``
  increments the ID across segments), its own total length and header checksum;
* its own TCP checksum over the RFC 9293 §3.1 pseudo-header.

A packet whose payload fits in one piece is returned as is.
"""

from __future__ import annotations

import struct

from synack.errors import DecodeError
from synack.wire.checksum import ones_complement_sum, piece_sums

_IP_HEADER = struct.Struct("!BBHHHBBH4s4s")
_TCP_HEADER = struct.Struct("!HHIIHHHH")
_FIN, _PSH, _CWR = 0x001, 0x008, 0x080


def segment_tcp_packet(packet: bytes, gso_size: int) -> list[bytes]:
    """The wire packets of one TCP/IPv4 packet sent with segmentation offload.

    Raises :class:`DecodeError` (``gso_not_tcp``, ``gso_truncated``) for a packet that
    is not a well-formed TCP/IPv4 packet, and ``ValueError`` for a size below 1.
    """
    if gso_size < 1:
        raise ValueError(f"GSO segment size must be at least 1, not {gso_size}")
    if len(packet) < 40:
        raise DecodeError("gso_truncated", f"{len(packet)} octets")
    ver_ihl, tos, total, ident, frag, ttl, proto, _, src, dst = _IP_HEADER.unpack_from(packet)
    ihl = (ver_ihl & 0x0F) << 2
    if ver_ihl >> 4 != 4 or proto != 6 or ihl < 20:
        raise DecodeError("gso_not_tcp", f"version {ver_ihl >> 4} protocol {proto}")
    if total > len(packet) or total < ihl + 20:
        raise DecodeError("gso_truncated", f"total length {total} of {len(packet)}")
    doff = (packet[ihl + 12] >> 4) << 2
    start = ihl + doff
    if doff < 20 or start > total:
        raise DecodeError("gso_truncated", f"data offset {doff}")
    payload_len = total - start
    if payload_len <= gso_size:
        return [packet]
    ip_opts = packet[20:ihl]
    sport, dport, seq, ack, off_flags, window, _, urgent = _TCP_HEADER.unpack_from(packet, ihl)
    tcp_opts = packet[ihl + 20 : start]
    # Checksums by arithmetic on the fields (RFC 1071: a sum of 16-bit words, so a
    # header's sum is the sum of its fields' words; the options and addresses are the
    # same in every piece), and the pieces' payload sums in one pass over the payload.
    addr_sum = ones_complement_sum(src + dst, 6)  # pseudo-header less its length (§3.1)
    tcp_fixed = addr_sum + sport + dport + ack + window + urgent + ones_complement_sum(tcp_opts)
    ip_fixed = ((ver_ihl << 8) | tos) + frag + ((ttl << 8) | proto) + ones_complement_sum(src + dst)
    ip_fixed += ones_complement_sum(ip_opts)
    view = memoryview(packet)
    sums = piece_sums(view[start:total], gso_size)
    out: list[bytes] = []
    for i, off in enumerate(range(0, payload_len, gso_size)):
        piece = view[start + off : start + min(off + gso_size, payload_len)]
        last = off + gso_size >= payload_len
        flags = off_flags
        if i:
            flags &= ~_CWR
        if not last:
            flags &= ~(_FIN | _PSH)
        tcp_len = doff + len(piece)
        piece_seq = (seq + off) & 0xFFFFFFFF
        # 32-bit fields (seq, ack) added whole: 2**16 is 1 modulo 0xFFFF.
        csum = ~_fold(tcp_fixed + sums[i] + tcp_len + piece_seq + flags) & 0xFFFF
        head = _TCP_HEADER.pack(sport, dport, piece_seq, ack, flags, window, csum, urgent)
        ident_i = (ident + i) & 0xFFFF
        ip_total = ihl + tcp_len
        ip_csum = ~_fold(ip_fixed + ip_total + ident_i) & 0xFFFF
        ip_head = _IP_HEADER.pack(
            ver_ihl, tos, ip_total, ident_i, frag, ttl, proto, ip_csum, src, dst
        )
        out.append(b"".join((ip_head, ip_opts, head, tcp_opts, piece)))
    return out


def _fold(s: int) -> int:
    """An unfolded sum folded to 16 bits, end-around carry (RFC 1071 §2(C)); non-zero
    for a non-zero sum."""
    s = s % 0xFFFF
    return s or 0xFFFF
