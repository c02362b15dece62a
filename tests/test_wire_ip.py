"""The IPv4 header codec (RFC 791 §3.1)."""

from __future__ import annotations

import pytest

from synack.errors import DecodeError, UsageError
from synack.wire.checksum import internet_checksum
from synack.wire.ip import PROTO_TCP, PROTO_UDP, IPv4Packet, decode_ipv4, encode_ipv4, parse_ipv4


def _pkt(**kw: object) -> IPv4Packet:
    fields: dict[str, object] = {
        "src": "10.0.0.1",
        "dst": "10.0.0.2",
        "protocol": PROTO_TCP,
        "payload": b"x" * 21,
    }
    fields.update(kw)
    return IPv4Packet(**fields)  # type: ignore[arg-type]


def _reason(data: bytes) -> str:
    with pytest.raises(DecodeError) as exc:
        decode_ipv4(data)
    return exc.value.reason


def _refresh_checksum(raw: bytearray) -> bytes:
    hlen = (raw[0] & 0x0F) * 4
    raw[10:12] = b"\x00\x00"
    raw[10:12] = internet_checksum(bytes(raw[:hlen])).to_bytes(2, "big")
    return bytes(raw)


def test_packet_round_trips_and_reports_wire_length_and_checksum() -> None:
    pkt = _pkt(ttl=3, tos=0x02, ident=0xBEEF, dont_fragment=False)
    wire = encode_ipv4(pkt)
    got = decode_ipv4(wire)
    assert got.total_length == len(wire) == 41
    assert got.header_checksum == int.from_bytes(wire[10:12], "big")
    got.header_checksum = got.total_length = None
    assert got == pkt


def test_header_fields_sit_at_their_rfc_791_offsets() -> None:
    wire = encode_ipv4(_pkt(payload=b"", ident=0x1234, ttl=0x40, tos=0xB8))
    assert wire[:10].hex() == "45b80014123440004006"
    assert wire[12:].hex() == "0a0000010a000002"
    assert internet_checksum(wire) == 0


def test_options_are_padded_to_four_octets_and_set_ihl() -> None:
    wire = encode_ipv4(_pkt(options=b"\x01\x01\x01"))
    assert wire[0] == 0x46 and wire[20:24] == b"\x01\x01\x01\x00"
    assert decode_ipv4(wire).options == b"\x01\x01\x01\x00"


def test_trailing_link_padding_is_trimmed_to_total_length() -> None:
    wire = encode_ipv4(_pkt(payload=b"abc"))
    assert decode_ipv4(wire + bytes(23)).payload == b"abc"


def test_short_buffer_raises_ip_truncated() -> None:
    assert _reason(encode_ipv4(_pkt())[:19]) == "ip_truncated"


def test_version_other_than_four_raises_ip_bad_version() -> None:
    raw = bytearray(encode_ipv4(_pkt()))
    raw[0] = 0x65
    assert _reason(_refresh_checksum(raw)) == "ip_bad_version"


def test_ihl_below_five_raises_ip_bad_ihl() -> None:
    raw = bytearray(encode_ipv4(_pkt()))
    raw[0] = 0x44
    assert _reason(bytes(raw)) == "ip_bad_ihl"


def test_ihl_past_the_buffer_raises_ip_bad_ihl() -> None:
    raw = bytearray(encode_ipv4(_pkt(payload=b"")))
    raw[0] = 0x46
    assert _reason(bytes(raw)) == "ip_bad_ihl"


def test_total_length_shorter_than_header_raises_ip_bad_total_length() -> None:
    raw = bytearray(encode_ipv4(_pkt()))
    raw[2:4] = (19).to_bytes(2, "big")
    assert _reason(_refresh_checksum(raw)) == "ip_bad_total_length"


def test_total_length_past_the_buffer_raises_ip_bad_total_length() -> None:
    assert _reason(encode_ipv4(_pkt())[:-1]) == "ip_bad_total_length"


def test_corrupted_header_raises_ip_bad_checksum() -> None:
    raw = bytearray(encode_ipv4(_pkt()))
    raw[8] ^= 0x10  # TTL
    assert _reason(bytes(raw)) == "ip_bad_checksum"
    assert decode_ipv4(bytes(raw), verify_checksum=False).ttl == 64 ^ 0x10


def test_corrupted_payload_is_not_the_ip_layers_business() -> None:
    raw = bytearray(encode_ipv4(_pkt()))
    raw[-1] ^= 0xFF
    assert decode_ipv4(bytes(raw)).payload[-1] == ord("x") ^ 0xFF


@pytest.mark.parametrize(
    "kw", [{"more_fragments": True}, {"fragment_offset": 1}, {"fragment_offset": 0x1FFF}]
)
def test_fragments_raise_ip_fragment(kw: dict[str, object]) -> None:
    assert _reason(encode_ipv4(_pkt(**kw))) == "ip_fragment"


def test_encoding_refuses_bad_fields() -> None:
    with pytest.raises(UsageError):
        encode_ipv4(_pkt(src="10.0.0"))
    with pytest.raises(UsageError):
        encode_ipv4(_pkt(ttl=256))
    with pytest.raises(UsageError):
        encode_ipv4(_pkt(options=bytes(41)))
    with pytest.raises(UsageError):
        encode_ipv4(_pkt(payload=bytes(65516)))
    with pytest.raises(UsageError):
        encode_ipv4(_pkt(fragment_offset=0x2000))
    assert len(encode_ipv4(_pkt(payload=bytes(65515), protocol=PROTO_UDP))) == 65535


def test_parse_ipv4_gives_the_header_fields_the_packet_decoder_reads() -> None:
    wire = encode_ipv4(_pkt(ttl=7, tos=0x01, ident=0x1234, options=b"\x01\x01\x01\x01"))
    hlen, total, tos, ident, frag, ttl, proto, csum, src, dst = parse_ipv4(wire + b"pad")
    assert (hlen, total, tos, ident, ttl, proto) == (24, 24 + 21, 0x01, 0x1234, 7, PROTO_TCP)
    assert frag == 0x4000 and csum == int.from_bytes(wire[10:12], "big")
    assert (src, dst) == ("10.0.0.1", "10.0.0.2")
    with pytest.raises(DecodeError) as exc:
        parse_ipv4(wire[:10])
    assert exc.value.reason == "ip_truncated"
