"""The TCP header codec (RFC 9293 §3.1) and tcpdump-style flags."""

from __future__ import annotations

import pytest

from synack.errors import DecodeError, UsageError
from synack.wire.checksum import internet_checksum, pseudo_header_sum
from synack.wire.options import EOL, MSS, NOP, Sack, SackPermitted, Timestamps, WindowScale
from synack.wire.tcp import Flags, TCPSegment, decode_tcp, encode_tcp, format_flags

SRC, DST = "192.0.2.1", "198.51.100.2"


def _syn() -> TCPSegment:
    return TCPSegment(
        src_port=40000,
        dst_port=80,
        seq=0xFFFFFFF0,
        ack=0,
        flags=Flags.SYN,
        window=64240,
        options=(MSS(1460), SackPermitted(), Timestamps(123, 0), NOP(), WindowScale(7)),
    )


def _reason(data: bytes) -> str:
    with pytest.raises(DecodeError) as exc:
        decode_tcp(data, SRC, DST)
    return exc.value.reason


def test_syn_with_linux_options_round_trips_and_reports_offset_and_checksum() -> None:
    wire = encode_tcp(_syn(), SRC, DST)
    assert len(wire) == 40
    seg = decode_tcp(wire, SRC, DST)
    assert seg == _syn()
    assert seg.data_offset == 10
    assert seg.checksum == int.from_bytes(wire[16:18], "big")


def test_header_fields_sit_at_their_rfc_9293_offsets() -> None:
    seg = TCPSegment(0x1234, 0x5678, 0x01020304, 0x05060708, Flags.ACK | Flags.PSH, 0x9ABC)
    seg.urgent = 0xDEF0
    wire = encode_tcp(seg, SRC, DST, checksum=False)
    assert wire.hex() == "12345678010203040506070850189abc0000def0"


def test_checksum_covers_pseudo_header_header_and_payload() -> None:
    seg = TCPSegment(1, 2, 3, 4, Flags.ACK, 5, payload=b"odd")
    wire = encode_tcp(seg, SRC, DST)
    assert internet_checksum(wire, pseudo_header_sum(SRC, DST, 6, len(wire))) == 0
    # The same segment between other addresses has a different checksum.
    assert encode_tcp(seg, SRC, "198.51.100.3")[16:18] != wire[16:18]


def test_payload_round_trips() -> None:
    seg = TCPSegment(1, 2, 3, 4, Flags.ACK | Flags.PSH, 5, payload=bytes(range(256)) * 5)
    assert decode_tcp(encode_tcp(seg, SRC, DST), SRC, DST) == seg


@pytest.mark.parametrize(
    "flag, byte12, byte13",
    [
        (Flags.NS, 0x51, 0x00),
        (Flags.CWR, 0x50, 0x80),
        (Flags.ECE, 0x50, 0x40),
        (Flags.URG, 0x50, 0x20),
        (Flags.ACK, 0x50, 0x10),
        (Flags.PSH, 0x50, 0x08),
        (Flags.RST, 0x50, 0x04),
        (Flags.SYN, 0x50, 0x02),
        (Flags.FIN, 0x50, 0x01),
    ],
)
def test_each_flag_lands_on_its_bit_and_decodes_back(flag: Flags, byte12: int, byte13: int) -> None:
    seg = TCPSegment(1, 2, 3, 4, flag, 5, urgent=9 if flag is Flags.URG else 0)
    wire = encode_tcp(seg, SRC, DST)
    assert (wire[12], wire[13]) == (byte12, byte13)
    assert decode_tcp(wire, SRC, DST).flags == flag


def test_all_nine_flags_together_round_trip() -> None:
    everything = Flags(0x1FF)
    seg = TCPSegment(1, 2, 3, 4, everything, 5, urgent=1)
    wire = encode_tcp(seg, SRC, DST)
    assert wire[12] & 0x0F == 0x01 and wire[13] == 0xFF
    assert decode_tcp(wire, SRC, DST).flags == everything


def test_reserved_bits_are_ignored_on_receive() -> None:
    wire = bytearray(encode_tcp(TCPSegment(1, 2, 3, 4, Flags.ACK, 5), SRC, DST, checksum=False))
    wire[12] |= 0x0E  # the three reserved bits between data offset and NS
    seg = decode_tcp(bytes(wire), SRC, DST, verify_checksum=False)
    assert seg.flags == Flags.ACK and seg.data_offset == 5


def test_short_segment_raises_tcp_truncated() -> None:
    assert _reason(b"") == "tcp_truncated"
    assert _reason(encode_tcp(_syn(), SRC, DST)[:19]) == "tcp_truncated"


def test_data_offset_below_five_raises_tcp_bad_data_offset() -> None:
    wire = bytearray(encode_tcp(TCPSegment(1, 2, 3, 4, Flags.ACK, 5), SRC, DST))
    wire[12] = 0x40
    assert _reason(bytes(wire)) == "tcp_bad_data_offset"


def test_data_offset_past_the_end_raises_tcp_bad_data_offset() -> None:
    wire = encode_tcp(_syn(), SRC, DST)
    assert _reason(wire[:36]) == "tcp_bad_data_offset"


def test_corrupted_octet_raises_tcp_bad_checksum() -> None:
    wire = bytearray(encode_tcp(TCPSegment(1, 2, 3, 4, Flags.ACK, 5, payload=b"data"), SRC, DST))
    wire[-1] ^= 0x01
    assert _reason(bytes(wire)) == "tcp_bad_checksum"


def test_wrong_addresses_raise_tcp_bad_checksum() -> None:
    wire = encode_tcp(_syn(), SRC, DST)
    with pytest.raises(DecodeError, match="tcp_bad_checksum"):
        decode_tcp(wire, DST, "203.0.113.9")


def test_checksum_verification_can_be_skipped() -> None:
    wire = bytearray(encode_tcp(_syn(), SRC, DST))
    wire[16] ^= 0xFF
    assert decode_tcp(bytes(wire), SRC, DST, verify_checksum=False).seq == _syn().seq


def test_checksum_false_writes_the_given_checksum_verbatim() -> None:
    seg = _syn()
    seg.checksum = 0xBEEF
    wire = encode_tcp(seg, SRC, DST, checksum=False)
    assert wire[16:18] == b"\xbe\xef"
    assert _reason(wire) == "tcp_bad_checksum"


def _with_raw_options(options: bytes) -> bytes:
    """A checksummed SYN whose options area is exactly ``options`` (a multiple of 4)."""
    base = encode_tcp(TCPSegment(1, 2, 3, 4, Flags.SYN, 5), SRC, DST, checksum=False)
    offset = (20 + len(options)) // 4
    raw = bytearray(base[:12] + bytes([offset << 4]) + base[13:] + options)
    csum = internet_checksum(bytes(raw), pseudo_header_sum(SRC, DST, 6, len(raw)))
    raw[16:18] = csum.to_bytes(2, "big")
    return bytes(raw)


@pytest.mark.parametrize(
    "options, reason",
    [
        ("01 02 04 05", "tcp_option_truncated"),  # MSS with only 2 of its 4 octets
        ("01 01 01 fe", "tcp_option_truncated"),  # a kind with no length octet
        ("02 03 00 00", "tcp_option_bad_length"),
        ("fe 00 00 00", "tcp_option_bad_length"),
    ],
)
def test_malformed_options_in_a_segment_raise_the_option_reason(options: str, reason: str) -> None:
    assert _reason(_with_raw_options(bytes.fromhex(options.replace(" ", "")))) == reason


def test_unknown_option_in_a_segment_is_skipped_by_length() -> None:
    seg = decode_tcp(_with_raw_options(bytes.fromhex("fe04abcd020405b4")), SRC, DST)
    assert seg.mss == 1460


def test_options_longer_than_40_octets_are_refused() -> None:
    seg = TCPSegment(1, 2, 3, 4, Flags.ACK, 5, options=(Sack(((1, 2),) * 4), NOP(), NOP(), EOL()))
    assert len(encode_tcp(seg, SRC, DST)) == 60
    seg.options = (Sack(((1, 2),) * 4), Timestamps(1, 2))
    with pytest.raises(UsageError):
        encode_tcp(seg, SRC, DST)


def test_out_of_range_fields_are_refused() -> None:
    with pytest.raises(UsageError):
        encode_tcp(TCPSegment(70000, 2, 3, 4, Flags.ACK, 5), SRC, DST)
    with pytest.raises(UsageError):
        encode_tcp(TCPSegment(1, 2, 1 << 32, 4, Flags.ACK, 5), SRC, DST)


@pytest.mark.parametrize(
    "flags, text",
    [
        (Flags.SYN, "S"),
        (Flags.SYN | Flags.ACK, "S."),
        (Flags.ACK, "."),
        (Flags.PSH | Flags.ACK, "P."),
        (Flags.FIN | Flags.ACK, "F."),
        (Flags.RST, "R"),
        (Flags.RST | Flags.ACK, "R."),
        (Flags.FIN | Flags.PSH | Flags.ACK, "FP."),
        (Flags.SYN | Flags.ECE | Flags.CWR, "SEW"),
        (Flags.SYN | Flags.ACK | Flags.ECE, "S.E"),
        (Flags.URG | Flags.ACK, ".U"),
        (Flags(0x1FF), "FSRP.UEWe"),
        (Flags(0), "none"),
    ],
)
def test_flags_format_like_tcpdump(flags: Flags, text: str) -> None:
    assert format_flags(flags) == text
