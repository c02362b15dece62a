"""Property tests: decoders raise only DecodeError; valid values round-trip exactly."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from synack.errors import DecodeError
from synack.wire.icmp import ICMPMessage, decode_icmp, encode_icmp
from synack.wire.ip import IPv4Packet, decode_ipv4, encode_ipv4
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
)
from synack.wire.tcp import Flags, TCPSegment, decode_tcp, encode_tcp
from synack.wire.udp import UDPDatagram, decode_udp, encode_udp

SRC, DST = "10.1.2.3", "10.4.5.6"
FAST = settings(max_examples=300, deadline=None)

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)
addresses = st.tuples(u8, u8, u8, u8).map(lambda t: ".".join(map(str, t)))

_KNOWN_KINDS = {0, 1, 2, 3, 4, 5, 8}

options_one: st.SearchStrategy[TCPOption] = st.one_of(
    st.just(NOP()),
    st.builds(MSS, u16),
    st.builds(WindowScale, u8),
    st.just(SackPermitted()),
    st.builds(Timestamps, u32, u32),
    st.builds(Sack, st.lists(st.tuples(u32, u32), min_size=1, max_size=4).map(tuple)),
    st.builds(
        UnknownOption,
        u8.filter(lambda k: k not in _KNOWN_KINDS),
        st.binary(max_size=10),
    ),
)


@st.composite
def option_lists(draw: st.DrawFn) -> tuple[TCPOption, ...]:
    """Options that fit in a TCP header (40 octets), possibly ending with EOL."""
    opts: tuple[TCPOption, ...] = tuple(draw(st.lists(options_one, max_size=6)))
    if draw(st.booleans()):
        opts += (EOL(),)
    while len(encode_options(opts)) > 40:
        opts = opts[1:]
    return opts


def as_decoded(opts: tuple[TCPOption, ...]) -> tuple[TCPOption, ...]:
    """What decode(encode(opts)) gives: zero padding reads back as one EOL."""
    unpadded = sum(_unpadded_len(o) for o in opts)
    if unpadded % 4 and not (opts and isinstance(opts[-1], EOL)):
        return (*opts, EOL())
    return opts


def _unpadded_len(o: TCPOption) -> int:
    if isinstance(o, NOP | EOL):
        return 1
    if isinstance(o, Sack):
        return 2 + 8 * len(o.blocks)
    if isinstance(o, UnknownOption):
        return 2 + len(o.data)
    return {MSS: 4, WindowScale: 3, SackPermitted: 2, Timestamps: 10}[type(o)]


segments = st.builds(
    TCPSegment,
    src_port=u16,
    dst_port=u16,
    seq=u32,
    ack=u32,
    flags=st.integers(0, 0x1FF).map(Flags),
    window=u16,
    urgent=u16,
    options=option_lists(),
    payload=st.binary(max_size=64),
)

ip_packets = st.builds(
    IPv4Packet,
    src=addresses,
    dst=addresses,
    protocol=u8,
    payload=st.binary(max_size=64),
    ttl=u8,
    tos=u8,
    ident=u16,
    dont_fragment=st.booleans(),
    options=st.binary(max_size=40).map(lambda b: b + bytes(-len(b) % 4)),
)

udp_datagrams = st.builds(UDPDatagram, src_port=u16, dst_port=u16, payload=st.binary(max_size=64))
icmp_messages = st.builds(
    ICMPMessage, type=u8, code=u8, rest_of_header=u32, payload=st.binary(max_size=64)
)


@st.composite
def mutated(draw: st.DrawFn, valid: st.SearchStrategy[bytes]) -> bytes:
    """A valid packet with bit flips, a truncation/extension, or a header field rewritten."""
    raw = bytearray(draw(valid))
    for _ in range(draw(st.integers(0, 3))):
        if raw:
            i = draw(st.integers(0, len(raw) - 1))
            raw[i] ^= 1 << draw(st.integers(0, 7))
    if raw and draw(st.booleans()):
        # Overwrite a length-ish field (any 1 or 2 octets in the first 24) with junk.
        i = draw(st.integers(0, min(len(raw), 24) - 1))
        raw[i] = draw(u8)
    edit = draw(st.sampled_from(["none", "truncate", "extend"]))
    if edit == "truncate":
        del raw[draw(st.integers(0, len(raw))) :]
    elif edit == "extend":
        raw += draw(st.binary(min_size=1, max_size=16))
    return bytes(raw)


def _only_decode_error(decode: Callable[[bytes], object], data: bytes) -> None:
    try:
        decode(data)
    except DecodeError as exc:
        assert exc.reason and exc.reason == exc.reason.lower()


tcp_wire = segments.map(lambda s: encode_tcp(s, SRC, DST))
ip_wire = ip_packets.map(encode_ipv4)
udp_wire = udp_datagrams.map(lambda d: encode_udp(d, SRC, DST))
icmp_wire = icmp_messages.map(encode_icmp)


def _tcp(data: bytes) -> object:
    return decode_tcp(data, SRC, DST)


def _tcp_unverified(data: bytes) -> object:
    return decode_tcp(data, SRC, DST, verify_checksum=False)


def _udp(data: bytes) -> object:
    return decode_udp(data, SRC, DST)


def _ip_unverified(data: bytes) -> object:
    return decode_ipv4(data, verify_checksum=False)


# --- robustness -----------------------------------------------------------------------


@FAST
@given(st.binary(max_size=80))
def test_random_bytes_raise_only_decode_error_from_every_decoder(data: bytes) -> None:
    for decode in (decode_ipv4, _ip_unverified, _tcp, _tcp_unverified, decode_options, _udp):
        _only_decode_error(decode, data)
    _only_decode_error(decode_icmp, data)


@FAST
@given(mutated(tcp_wire))
def test_mutated_tcp_segments_raise_only_decode_error(data: bytes) -> None:
    _only_decode_error(_tcp, data)
    _only_decode_error(_tcp_unverified, data)


@FAST
@given(mutated(ip_wire))
def test_mutated_ip_packets_raise_only_decode_error(data: bytes) -> None:
    _only_decode_error(decode_ipv4, data)
    _only_decode_error(_ip_unverified, data)


@FAST
@given(mutated(option_lists().map(encode_options)))
def test_mutated_option_lists_raise_only_decode_error(data: bytes) -> None:
    _only_decode_error(decode_options, data)


@FAST
@given(mutated(udp_wire), mutated(icmp_wire))
def test_mutated_udp_and_icmp_raise_only_decode_error(udp: bytes, icmp: bytes) -> None:
    _only_decode_error(_udp, udp)
    _only_decode_error(decode_icmp, icmp)


@FAST
@given(mutated(tcp_wire))
def test_tcp_segments_that_decode_re_encode_to_the_same_octets(data: bytes) -> None:
    try:
        seg = decode_tcp(data, SRC, DST)
    except DecodeError:
        return
    # The checksum verified, so only the reserved bits (ignored on receive) can differ.
    if data[12] & 0x0E == 0 and data[20 : (data[12] >> 4) * 4] == encode_options(seg.options):
        assert encode_tcp(seg, SRC, DST) == data


# --- round trips ----------------------------------------------------------------------


@FAST
@given(segments)
def test_generated_segments_round_trip(seg: TCPSegment) -> None:
    wire = encode_tcp(seg, SRC, DST)
    got = decode_tcp(wire, SRC, DST)
    expected = TCPSegment(
        seg.src_port,
        seg.dst_port,
        seg.seq,
        seg.ack,
        seg.flags,
        seg.window,
        seg.urgent,
        as_decoded(seg.options),
        seg.payload,
    )
    assert got == expected
    assert got.data_offset == 5 + len(encode_options(seg.options)) // 4
    assert encode_tcp(got, SRC, DST) == wire


@FAST
@given(option_lists())
def test_option_lists_round_trip(opts: tuple[TCPOption, ...]) -> None:
    raw = encode_options(opts)
    assert len(raw) % 4 == 0
    assert decode_options(raw) == as_decoded(opts)
    assert encode_options(decode_options(raw)) == raw


@FAST
@given(ip_packets)
def test_generated_ip_packets_round_trip(pkt: IPv4Packet) -> None:
    wire = encode_ipv4(pkt)
    got = decode_ipv4(wire)
    assert got.total_length == len(wire)
    got.header_checksum = got.total_length = None
    assert got == pkt
    assert encode_ipv4(got) == wire


@FAST
@given(udp_datagrams, icmp_messages)
def test_generated_udp_and_icmp_round_trip(d: UDPDatagram, m: ICMPMessage) -> None:
    assert decode_udp(encode_udp(d, SRC, DST), SRC, DST) == d
    assert decode_icmp(encode_icmp(m)) == m
