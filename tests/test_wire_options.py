"""TCP options: encode, decode, drop reasons, tcpdump text (RFC 9293 §3.2, 7323, 2018)."""

from __future__ import annotations

import pytest

from synack.errors import DecodeError, UsageError
from synack.wire.options import (
    EOL,
    MSS,
    NOP,
    Sack,
    SackPermitted,
    TCPOption,
    Timestamps,
    UnknownOption,
    WindowScale,
    decode_options,
    encode_options,
    format_options,
)

LINUX_SYN: tuple[TCPOption, ...] = (
    MSS(1460),
    SackPermitted(),
    Timestamps(1, 0),
    NOP(),
    WindowScale(7),
)


def test_linux_syn_options_encode_to_the_known_20_octets() -> None:
    assert encode_options(LINUX_SYN) == bytes.fromhex("020405b40402080a000000010000000001030307")


@pytest.mark.parametrize(
    "option, wire",
    [
        (NOP(), "01"),
        (MSS(536), "02040218"),
        (WindowScale(14), "03030e"),
        (SackPermitted(), "0402"),
        (Timestamps(0xDEADBEEF, 7), "080adeadbeef00000007"),
        (Sack(((100, 200),)), "050a00000064000000c8"),
        (Sack(((1, 2), (3, 4), (5, 6), (7, 8))), "0522" + "".join(f"{i:08x}" for i in range(1, 9))),
        (UnknownOption(30, b"\x01\x02"), "1e040102"),
        (UnknownOption(254, b""), "fe02"),
    ],
)
def test_each_option_encodes_to_its_wire_form_and_decodes_back(
    option: TCPOption, wire: str
) -> None:
    raw = bytes.fromhex(wire)
    assert encode_options((option,)) == raw + bytes(-len(raw) % 4)
    assert decode_options(raw) == (option,)


def test_encoding_pads_with_zero_octets_to_a_multiple_of_four() -> None:
    assert encode_options((WindowScale(7),)) == bytes.fromhex("03030700")
    assert encode_options((NOP(),)) == bytes.fromhex("01000000")
    assert encode_options(()) == b""


def test_padding_decodes_as_one_eol_and_ends_the_list() -> None:
    assert decode_options(bytes.fromhex("03030700")) == (WindowScale(7), EOL())


def test_bytes_after_eol_are_ignored_even_if_they_are_garbage() -> None:
    assert decode_options(bytes.fromhex("01010002ff05")) == (NOP(), NOP(), EOL())


def test_unknown_option_is_kept_and_skipped_by_its_length() -> None:
    raw = bytes.fromhex("fd06aabbccdd0101020405b4")
    unknown = UnknownOption(0xFD, bytes.fromhex("aabbccdd"))
    assert decode_options(raw) == (unknown, NOP(), NOP(), MSS(1460))
    assert encode_options(decode_options(raw)) == raw


@pytest.mark.parametrize(
    "wire",
    [
        "02",  # a kind with no length octet
        "0101 08",  # the same after NOPs
        "02 04 05",  # MSS runs past the end
        "08 0a 00000001 0000",  # timestamps run past the end
        "fe 05 0000",  # unknown option runs past the end
        "05 0a 00000001",  # SACK runs past the end
    ],
)
def test_truncated_options_raise_tcp_option_truncated(wire: str) -> None:
    with pytest.raises(DecodeError) as exc:
        decode_options(bytes.fromhex(wire.replace(" ", "")))
    assert exc.value.reason == "tcp_option_truncated"


@pytest.mark.parametrize(
    "wire",
    [
        "fe 00 00 00",  # length 0 would loop forever
        "fe 01 00 00",  # length 1 is shorter than kind + length
        "02 03 05 00",  # MSS must be 4
        "02 05 05 b4 00",
        "03 04 07 00",  # window scale must be 3
        "04 03 00 00",  # SACK-permitted must be 2
        "08 08 00000001 0000",  # timestamps must be 10
        "05 02 00 00",  # SACK with no blocks
        "05 06 00000001",  # SACK length not 2 + 8n
    ],
)
def test_bad_lengths_raise_tcp_option_bad_length(wire: str) -> None:
    with pytest.raises(DecodeError) as exc:
        decode_options(bytes.fromhex(wire.replace(" ", "")))
    assert exc.value.reason == "tcp_option_bad_length"


def test_encoding_rejects_out_of_range_values_and_empty_sack() -> None:
    with pytest.raises(UsageError):
        encode_options((MSS(70000),))
    with pytest.raises(UsageError):
        encode_options((Sack(()),))
    with pytest.raises(UsageError):
        encode_options((UnknownOption(99, bytes(300)),))


def test_format_matches_tcpdump_for_a_linux_syn() -> None:
    assert format_options(LINUX_SYN) == "mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7"


def test_format_sack_eol_and_unknown_like_tcpdump() -> None:
    opts = (NOP(), NOP(), Sack(((100, 200), (300, 400))), UnknownOption(30, b"\xab\x01"), EOL())
    assert format_options(opts) == "nop,nop,sack 2 {100:200}{300:400},unknown-30 0xab01,eol"
    assert format_options((Sack(((1, 2),)),)) == "sack 1 {1:2}"
    assert format_options((UnknownOption(77, b""),)) == "unknown-77"
