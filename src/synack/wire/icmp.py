"""ICMP for IPv4 (RFC 792): echo request/reply and destination unreachable."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from synack.errors import DecodeError, UsageError
from synack.wire.checksum import internet_checksum

# Message types and destination-unreachable codes (RFC 792).
ECHO_REPLY = 0
DEST_UNREACHABLE = 3
ECHO_REQUEST = 8
PROTOCOL_UNREACHABLE = 2
PORT_UNREACHABLE = 3

# Type, code, checksum, rest of header (identifier/sequence for echo, unused for others).
_HEADER = struct.Struct("!BBHI")
HEADER_LEN = 8
_ORIGINAL_DATA_LEN = 8  # RFC 792: the original header plus 64 bits of its data


@dataclass(slots=True)
class ICMPMessage:
    """An ICMP message.  ``rest_of_header`` is the 32-bit word after the checksum."""

    type: int
    code: int
    rest_of_header: int = 0
    payload: bytes = b""
    checksum: int | None = field(default=None, compare=False)

    @property
    def ident(self) -> int:
        """Echo identifier (RFC 792 "Echo or Echo Reply Message"): high 16 bits."""
        return self.rest_of_header >> 16

    @property
    def seq(self) -> int:
        """Echo sequence number: low 16 bits of the rest of the header."""
        return self.rest_of_header & 0xFFFF


def echo_request(ident: int, seq: int, data: bytes = b"") -> ICMPMessage:
    """An Echo message (type 8, code 0) carrying ``data``."""
    return ICMPMessage(ECHO_REQUEST, 0, ((ident & 0xFFFF) << 16) | (seq & 0xFFFF), data)


def echo_reply_for(request: ICMPMessage) -> ICMPMessage:
    """The Echo Reply (type 0) to ``request``: same identifier, sequence and data (RFC 792)."""
    return ICMPMessage(ECHO_REPLY, 0, request.rest_of_header, request.payload)


def dest_unreachable(code: int, original_ip_packet: bytes) -> ICMPMessage:
    """A Destination Unreachable message (type 3) about ``original_ip_packet``.

    RFC 792: the data is the original Internet header plus the first 64 bits of its data;
    the rest-of-header word is unused (zero).
    """
    ihl = (original_ip_packet[0] & 0x0F) << 2 if original_ip_packet else 0
    return ICMPMessage(
        DEST_UNREACHABLE, code, 0, bytes(original_ip_packet[: ihl + _ORIGINAL_DATA_LEN])
    )


def port_unreachable(original_ip_packet: bytes) -> ICMPMessage:
    """Destination Unreachable, code 3 "port unreachable" (RFC 792), as for UDP."""
    return dest_unreachable(PORT_UNREACHABLE, original_ip_packet)


def encode_icmp(msg: ICMPMessage, *, checksum: bool = True) -> bytes:
    """The message's wire bytes; the checksum covers the whole ICMP message (RFC 792).

    With ``checksum=False``, ``msg.checksum`` (or 0) is written as is.
    """
    try:
        header = _HEADER.pack(
            msg.type,
            msg.code,
            0 if checksum or msg.checksum is None else msg.checksum,
            msg.rest_of_header,
        )
    except struct.error as exc:
        raise UsageError(f"cannot encode ICMP message: {exc}") from exc
    if not checksum:
        return header + msg.payload
    csum = internet_checksum(header + msg.payload)
    return header[:2] + csum.to_bytes(2, "big") + header[4:] + msg.payload


def decode_icmp(data: bytes, *, verify_checksum: bool = True) -> ICMPMessage:
    """Parse an ICMP message (the IP payload).

    Raises :class:`DecodeError`: ``icmp_truncated`` (< 8 octets), ``icmp_bad_checksum``.
    """
    n = len(data)
    if n < HEADER_LEN:
        raise DecodeError("icmp_truncated", f"{n} octets")
    mtype, code, csum, rest = _HEADER.unpack_from(data)
    if verify_checksum and internet_checksum(data) != 0:
        raise DecodeError("icmp_bad_checksum", f"checksum {csum:#06x}")
    return ICMPMessage(mtype, code, rest, bytes(data[HEADER_LEN:]), csum)
