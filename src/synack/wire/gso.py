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
from synack.wire.checksum import internet_checksum, ones_complement_sum

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
    addr_sum = ones_complement_sum(src + dst, 6)  # pseudo-header less its length (§3.1)
    out: list[bytes] = []
    view = memoryview(packet)
    for i, off in enumerate(range(0, payload_len, gso_size)):
        piece = view[start + off : start + min(off + gso_size, payload_len)]
        last = off + gso_size >= payload_len
        flags = off_flags
        if i:
            flags &= ~_CWR
        if not last:
            flags &= ~(_FIN | _PSH)
        tcp_len = doff + len(piece)
        tcp_fields = (sport, dport, (seq + off) & 0xFFFFFFFF, ack, flags, window)
        head = _TCP_HEADER.pack(*tcp_fields, 0, urgent) + tcp_opts
        initial = ones_complement_sum(piece, addr_sum + tcp_len)
        csum = internet_checksum(head, initial)
        head = _TCP_HEADER.pack(*tcp_fields, csum, urgent) + tcp_opts
        ip_fields = (ver_ihl, tos, ihl + tcp_len, (ident + i) & 0xFFFF, frag, ttl, proto)
        ip_csum = internet_checksum(_IP_HEADER.pack(*ip_fields, 0, src, dst) + ip_opts)
        ip_head = _IP_HEADER.pack(*ip_fields, ip_csum, src, dst) + ip_opts
        out.append(b"".join((ip_head, head, piece)))
    return out
