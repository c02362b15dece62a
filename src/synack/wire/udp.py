"""UDP (RFC 768): datagram parse/build with the pseudo-header checksum."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from synack.errors import DecodeError, UsageError
from synack.wire.checksum import internet_checksum, pseudo_header_sum
from synack.wire.ip import PROTO_UDP

# Source port, destination port, length, checksum (RFC 768 "Format").
_HEADER = struct.Struct("!HHHH")
HEADER_LEN = 8


@dataclass(slots=True)
class UDPDatagram:
    """A UDP datagram.  ``checksum`` is the value on the wire (0: none was sent)."""

    src_port: int
    dst_port: int
    payload: bytes = b""
    checksum: int | None = field(default=None, compare=False)


def encode_udp(d: UDPDatagram, src_ip: str, dst_ip: str, *, checksum: bool = True) -> bytes:
    """The datagram's wire bytes.

    RFC 768: the checksum covers the pseudo-header, header and data; a computed checksum
    of 0 is transmitted as all ones (0xFFFF), since 0 means "no checksum".  With
    ``checksum=False``, ``d.checksum`` (or 0, no checksum) is written as is.
    """
    length = HEADER_LEN + len(d.payload)
    try:
        header = _HEADER.pack(
            d.src_port, d.dst_port, length, 0 if checksum or d.checksum is None else d.checksum
        )
    except struct.error as exc:
        raise UsageError(f"cannot encode UDP datagram: {exc}") from exc
    if not checksum:
        return header + d.payload
    csum = internet_checksum(
        header + d.payload, pseudo_header_sum(src_ip, dst_ip, PROTO_UDP, length)
    )
    return header[:6] + (csum or 0xFFFF).to_bytes(2, "big") + d.payload


def decode_udp(
    data: bytes, src_ip: str, dst_ip: str, *, verify_checksum: bool = True
) -> UDPDatagram:
    """Parse a UDP datagram (the IP payload).

    Octets beyond the UDP length field are ignored.  A checksum field of 0 means none was
    transmitted and is not verified (RFC 768).  Raises :class:`DecodeError`:
    ``udp_truncated`` (< 8 octets), ``udp_bad_length`` (length field < 8 or past the
    end), ``udp_bad_checksum``.
    """
    n = len(data)
    if n < HEADER_LEN:
        raise DecodeError("udp_truncated", f"{n} octets")
    sport, dport, length, csum = _HEADER.unpack_from(data)
    if length < HEADER_LEN or length > n:
        raise DecodeError("udp_bad_length", f"length {length} with {n} octets")
    if length < n:
        data = data[:length]
    if (
        verify_checksum
        and csum != 0
        and internet_checksum(data, pseudo_header_sum(src_ip, dst_ip, PROTO_UDP, length)) != 0
    ):
        raise DecodeError("udp_bad_checksum", f"checksum {csum:#06x}")
    return UDPDatagram(sport, dport, bytes(data[HEADER_LEN:]), csum)
