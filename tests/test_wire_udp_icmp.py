"""UDP (RFC 768) and ICMP (RFC 792) codecs."""

from __future__ import annotations

import pytest

from synack.errors import DecodeError
from synack.wire.checksum import internet_checksum, pseudo_header_sum
from synack.wire.icmp import (
    DEST_UNREACHABLE,
    ECHO_REPLY,
    ECHO_REQUEST,
    PORT_UNREACHABLE,
    PROTOCOL_UNREACHABLE,
    ICMPMessage,
    decode_icmp,
    dest_unreachable,
    echo_reply_for,
    echo_request,
    encode_icmp,
    port_unreachable,
)
from synack.wire.ip import PROTO_UDP, IPv4Packet, encode_ipv4
from synack.wire.udp import UDPDatagram, decode_udp, encode_udp

SRC, DST = "192.0.2.1", "192.0.2.2"


def _udp_reason(data: bytes) -> str:
    with pytest.raises(DecodeError) as exc:
        decode_udp(data, SRC, DST)
    return exc.value.reason


def _icmp_reason(data: bytes) -> str:
    with pytest.raises(DecodeError) as exc:
        decode_icmp(data)
    return exc.value.reason


# --- UDP ------------------------------------------------------------------------------


def test_udp_round_trips_with_a_pseudo_header_checksum() -> None:
    d = UDPDatagram(5353, 53, b"query")
    wire = encode_udp(d, SRC, DST)
    assert wire[:6].hex() == "14e90035000d"
    assert internet_checksum(wire, pseudo_header_sum(SRC, DST, PROTO_UDP, len(wire))) == 0
    got = decode_udp(wire, SRC, DST)
    assert got == d and got.checksum == int.from_bytes(wire[6:8], "big")


def test_udp_computed_zero_checksum_is_sent_as_all_ones() -> None:
    # Choose the payload so that the ones'-complement sum is 0xFFFF (checksum 0).
    head = encode_udp(UDPDatagram(1, 2, b"\x00\x00"), SRC, DST)
    csum = int.from_bytes(head[6:8], "big")
    # The sum S of that datagram has checksum ~S; carrying ~S as data instead of zeros
    # makes the sum S + ~S = 0xFFFF, whose checksum is 0.
    payload = csum.to_bytes(2, "big")
    wire = encode_udp(UDPDatagram(1, 2, payload), SRC, DST)
    assert wire[6:8] == b"\xff\xff"
    assert decode_udp(wire, SRC, DST).payload == payload


def test_udp_zero_checksum_means_none_and_is_not_verified() -> None:
    wire = encode_udp(UDPDatagram(1, 2, b"abc"), SRC, DST, checksum=False)
    assert wire[6:8] == b"\x00\x00"
    got = decode_udp(wire, SRC, DST)
    assert got.payload == b"abc" and got.checksum == 0


def test_udp_octets_beyond_the_length_field_are_ignored() -> None:
    wire = encode_udp(UDPDatagram(1, 2, b"abc"), SRC, DST)
    assert decode_udp(wire + b"pad", SRC, DST).payload == b"abc"


def test_udp_short_datagram_raises_udp_truncated() -> None:
    assert _udp_reason(b"\x00" * 7) == "udp_truncated"


@pytest.mark.parametrize("length", [0, 7, 12])
def test_udp_bad_length_field_raises_udp_bad_length(length: int) -> None:
    wire = bytearray(encode_udp(UDPDatagram(1, 2, b"abc"), SRC, DST))
    wire[4:6] = length.to_bytes(2, "big")
    assert _udp_reason(bytes(wire)) == "udp_bad_length"


def test_udp_corruption_raises_udp_bad_checksum() -> None:
    wire = bytearray(encode_udp(UDPDatagram(1, 2, b"abc"), SRC, DST))
    wire[9] ^= 0x40
    assert _udp_reason(bytes(wire)) == "udp_bad_checksum"
    assert decode_udp(bytes(wire), SRC, DST, verify_checksum=False).payload == b'a"c'


# --- ICMP -----------------------------------------------------------------------------


def test_echo_request_round_trips_with_identifier_and_sequence() -> None:
    req = echo_request(0x1234, 7, b"ping")
    wire = encode_icmp(req)
    assert wire[:2] == bytes((ECHO_REQUEST, 0)) and wire[4:8].hex() == "12340007"
    assert internet_checksum(wire) == 0
    got = decode_icmp(wire)
    assert got == req and (got.ident, got.seq) == (0x1234, 7)


def test_echo_reply_mirrors_the_request() -> None:
    reply = echo_reply_for(echo_request(9, 65535, b"data"))
    assert (reply.type, reply.code, reply.ident, reply.seq) == (ECHO_REPLY, 0, 9, 65535)
    assert reply.payload == b"data"


def test_port_unreachable_carries_the_original_header_and_eight_octets() -> None:
    original = encode_ipv4(
        IPv4Packet(DST, SRC, PROTO_UDP, encode_udp(UDPDatagram(1, 2, b"x" * 30), DST, SRC))
    )
    msg = port_unreachable(original)
    assert (msg.type, msg.code, msg.rest_of_header) == (DEST_UNREACHABLE, PORT_UNREACHABLE, 0)
    assert msg.payload == original[:28]
    assert decode_icmp(encode_icmp(msg)) == msg


def test_dest_unreachable_respects_ip_options_in_the_original() -> None:
    original = encode_ipv4(IPv4Packet(DST, SRC, 99, bytes(range(20)), options=b"\x01" * 4))
    msg = dest_unreachable(PROTOCOL_UNREACHABLE, original)
    assert msg.code == PROTOCOL_UNREACHABLE and msg.payload == original[:32]


def test_icmp_short_message_raises_icmp_truncated() -> None:
    assert _icmp_reason(b"\x08\x00\x00\x00\x00\x00\x00") == "icmp_truncated"


def test_icmp_corruption_raises_icmp_bad_checksum() -> None:
    wire = bytearray(encode_icmp(echo_request(1, 1, b"abc")))
    wire[-1] ^= 1
    assert _icmp_reason(bytes(wire)) == "icmp_bad_checksum"
    assert decode_icmp(bytes(wire), verify_checksum=False).payload == b"abb"


def test_icmp_checksum_false_writes_the_given_checksum() -> None:
    msg = ICMPMessage(ECHO_REQUEST, 0, 0, b"", checksum=0x1234)
    assert encode_icmp(msg, checksum=False)[2:4] == b"\x12\x34"
