"""IPv4 (RFC 791): header parse/build and header checksum."""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from functools import lru_cache

from synack.errors import DecodeError, UsageError
from synack.wire.checksum import address_sum, internet_checksum, pack_ipv4_address

PROTO_ICMP = 1
PROTO_TCP = 6
PROTO_UDP = 17


@dataclass(slots=True)
class IPv4Packet:
    """An IPv4 packet.  Addresses are dotted-quad strings ("192.0.2.1")."""

    src: str
    dst: str
    protocol: int
    payload: bytes = b""
    ttl: int = 64
    tos: int = 0  # DSCP << 2 | ECN (RFC 3168 §5: the low two bits are the ECN field)
    ident: int = 0
    dont_fragment: bool = True
    more_fragments: bool = False
    fragment_offset: int = 0  # in 8-octet units
    options: bytes = b""
    header_checksum: int | None = None  # as decoded from the wire
    total_length: int | None = None  # as decoded from the wire


# --- wire format (RFC 791 §3.1) -------------------------------------------------------

# Version/IHL, type of service, total length, identification, flags/fragment offset,
# time to live, protocol, header checksum, source address, destination address.
_HEADER = struct.Struct("!BBHHHBBH4s4s")
HEADER_LEN = 20
MAX_OPTIONS_LEN = 40  # IHL is 4 bits: at most 15 words, 5 of them fixed
_DF = 0x4000  # RFC 791 §3.1 "Flags": bit 1 Don't Fragment
_MF = 0x2000  # bit 2 More Fragments
_OFFSET_MASK = 0x1FFF
_CHECKSUM_AT = 10
_WORDS = struct.Struct("!10H")  # a 20-octet header as 16-bit words


@lru_cache(maxsize=4096)
def _address_text(packed: bytes) -> str:
    """Dotted quad of four octets (cached: a host sees few distinct addresses)."""
    return socket.inet_ntoa(packed)


def encode_ipv4(pkt: IPv4Packet) -> bytes:
    """The packet's wire bytes, with computed IHL, total length and header checksum.

    Options are zero-padded to a multiple of 4 octets (RFC 791 §3.1 "Padding").  The
    decoded ``header_checksum`` and ``total_length`` fields are ignored.  Raises
    :class:`UsageError` for out-of-range fields or a packet over 65535 octets.
    """
    options = pkt.options + bytes(-len(pkt.options) % 4)
    if len(options) > MAX_OPTIONS_LEN:
        raise UsageError(f"IPv4 options take {len(options)} octets, more than 40")
    hlen = HEADER_LEN + len(options)
    if not 0 <= pkt.fragment_offset <= _OFFSET_MASK:
        raise UsageError(f"fragment offset {pkt.fragment_offset} out of range")
    frag = pkt.fragment_offset | (_DF if pkt.dont_fragment else 0)
    frag |= _MF if pkt.more_fragments else 0
    try:
        header = _HEADER.pack(
            0x40 | (hlen >> 2),
            pkt.tos,
            hlen + len(pkt.payload),
            pkt.ident,
            frag,
            pkt.ttl,
            pkt.protocol,
            0,
            pack_ipv4_address(pkt.src),
            pack_ipv4_address(pkt.dst),
        )
    except struct.error as exc:
        raise UsageError(f"cannot encode IPv4 packet: {exc}") from exc
    header += options
    csum = internet_checksum(header)  # RFC 791 §3.1: over the header only
    return (
        header[:_CHECKSUM_AT] + csum.to_bytes(2, "big") + header[_CHECKSUM_AT + 2 :] + pkt.payload
    )


def ipv4_header(
    src: str, dst: str, protocol: int, payload_len: int, *, ident: int, tos: int = 0, ttl: int = 64
) -> bytes:
    """The 20-octet header of an atomic datagram (DF set, no options) carrying
    ``payload_len`` octets, checksum filled in (RFC 791 §3.1): what the host puts in
    front of each TCP segment, without building an :class:`IPv4Packet`."""
    total = HEADER_LEN + payload_len
    if total > 0xFFFF:
        raise UsageError(f"IPv4 packet of {total} octets is over 65535")
    # RFC 1071 over the ten words, the checksum word zero, by arithmetic on the fields.
    s = 0x4500 + tos + total + ident + _DF + (ttl << 8) + protocol
    s += address_sum(src) + address_sum(dst)
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return _HEADER.pack(
        0x45,
        tos,
        total,
        ident,
        _DF,
        ttl,
        protocol,
        ~s & 0xFFFF,
        pack_ipv4_address(src),
        pack_ipv4_address(dst),
    )


def parse_ipv4(
    data: bytes | memoryview, *, verify_checksum: bool = True
) -> tuple[int, int, int, int, int, int, int, int, str, str]:
    """Check an IPv4 header and return its fields without building a packet object:
    ``(header length, total length, tos, ident, flags/fragment word, ttl, protocol,
    checksum, src, dst)``.  The checks and errors are :func:`decode_ipv4`'s; the host's
    receive path uses this for TCP, whose decoder takes the payload as a view."""
    n = len(data)
    if n < HEADER_LEN:
        raise DecodeError("ip_truncated", f"{n} octets")
    ver_ihl, tos, total, ident, frag, ttl, proto, csum, src, dst = _HEADER.unpack_from(data)
    if ver_ihl >> 4 != 4:
        raise DecodeError("ip_bad_version", f"version {ver_ihl >> 4}")
    hlen = (ver_ihl & 0x0F) << 2
    if hlen < HEADER_LEN or hlen > n:
        raise DecodeError("ip_bad_ihl", f"IHL {hlen >> 2} with {n} octets")
    if total < hlen or total > n:
        raise DecodeError("ip_bad_total_length", f"total length {total} with {n} octets")
    if verify_checksum:
        # RFC 1071: the header's 16-bit words, checksum included, sum to 0xFFFF (a plain
        # 20-octet header summed as its ten words, without building a copy).
        if hlen == HEADER_LEN:
            s = sum(_WORDS.unpack_from(data))
            s = (s & 0xFFFF) + (s >> 16)
            bad = (s & 0xFFFF) + (s >> 16) != 0xFFFF
        else:
            bad = internet_checksum(data[:hlen]) != 0
        if bad:
            raise DecodeError("ip_bad_checksum", f"checksum {csum:#06x}")
    if frag & (_MF | _OFFSET_MASK):
        raise DecodeError("ip_fragment", f"MF={int(bool(frag & _MF))} offset={frag & _OFFSET_MASK}")
    return hlen, total, tos, ident, frag, ttl, proto, csum, _address_text(src), _address_text(dst)


def decode_ipv4(
    data: bytes | memoryview, *, verify_checksum: bool = True, payload_view: bool = False
) -> IPv4Packet:
    """Parse an IPv4 packet.

    Octets beyond the total length (e.g. Ethernet padding) are dropped.  Raises
    :class:`DecodeError`: ``ip_truncated`` (< 20 octets), ``ip_bad_version``,
    ``ip_bad_ihl`` (IHL < 5 or header past the end), ``ip_bad_total_length`` (shorter
    than the header or longer than the buffer), ``ip_bad_checksum``, and ``ip_fragment``
    for any fragment (MF set or non-zero offset): synack does not reassemble.

    With ``payload_view`` the payload is a ``memoryview`` of ``data`` rather than a copy
    (the host's TCP path, whose decoder copies the segment's data once itself).
    """
    fields = parse_ipv4(data, verify_checksum=verify_checksum)
    return packet_from_fields(data, fields, payload_view=payload_view)


def packet_from_fields(
    data: bytes | memoryview,
    fields: tuple[int, int, int, int, int, int, int, int, str, str],
    *,
    payload_view: bool = False,
) -> IPv4Packet:
    """The :class:`IPv4Packet` of ``data``, whose header :func:`parse_ipv4` read."""
    hlen, total, tos, ident, frag, ttl, proto, csum, src, dst = fields
    return IPv4Packet(
        src=src,
        dst=dst,
        protocol=proto,
        payload=memoryview(data)[hlen:total] if payload_view else bytes(data[hlen:total]),  # type: ignore[arg-type]
        ttl=ttl,
        tos=tos,
        ident=ident,
        dont_fragment=bool(frag & _DF),
        more_fragments=False,
        fragment_offset=0,
        options=bytes(data[HEADER_LEN:hlen]),
        header_checksum=csum,
        total_length=total,
    )
