"""IPv4 (RFC 791): header parse/build and header checksum."""

from __future__ import annotations

from dataclasses import dataclass

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
