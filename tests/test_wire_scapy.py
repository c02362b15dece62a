"""Cross-check against scapy (an independent implementation; test-only dependency)."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("scapy")

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.packet import Raw

from synack.wire.icmp import ECHO_REPLY, decode_icmp, echo_reply_for, echo_request, encode_icmp
from synack.wire.ip import PROTO_ICMP, PROTO_TCP, PROTO_UDP, IPv4Packet, decode_ipv4, encode_ipv4
from synack.wire.options import (
    EOL,
    MSS,
    NOP,
    Sack,
    SackPermitted,
    TCPOption,
    Timestamps,
    WindowScale,
    encode_options,
)
from synack.wire.tcp import Flags, TCPSegment, decode_tcp, encode_tcp
from synack.wire.udp import UDPDatagram, decode_udp, encode_udp

SRC, DST = "192.0.2.10", "198.51.100.20"


def _scapy_options(opts: tuple[TCPOption, ...]) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for o in opts:
        if isinstance(o, MSS):
            out.append(("MSS", o.value))
        elif isinstance(o, WindowScale):
            out.append(("WScale", o.shift))
        elif isinstance(o, SackPermitted):
            out.append(("SAckOK", b""))
        elif isinstance(o, Timestamps):
            out.append(("Timestamp", (o.val, o.ecr)))
        elif isinstance(o, Sack):
            out.append(("SAck", tuple(edge for block in o.blocks for edge in block)))
        elif isinstance(o, NOP):
            out.append(("NOP", None))
        elif isinstance(o, EOL):
            out.append(("EOL", None))
    return out


def _synack_ip_tcp(seg: TCPSegment, **ip: Any) -> bytes:
    return encode_ipv4(IPv4Packet(SRC, DST, PROTO_TCP, encode_tcp(seg, SRC, DST), **ip))


def _rebuilt_by_scapy(wire: bytes) -> bytes:
    """scapy's own bytes for the packet, with both checksums recomputed by scapy."""
    pkt = IP(wire)
    del pkt.chksum
    for layer in (TCP, UDP, ICMP):
        if pkt.haslayer(layer):
            del pkt[layer].chksum
    return bytes(pkt)


OPTION_SETS: list[tuple[TCPOption, ...]] = [
    (),
    (MSS(1460), SackPermitted(), Timestamps(1, 0), NOP(), WindowScale(7)),
    (NOP(), NOP(), Timestamps(0xFFFFFFFF, 0x80000000)),
    (NOP(), NOP(), Sack(((100, 200),))),
    (NOP(), NOP(), Sack(((1, 2), (3, 4), (5, 6), (7, 8)))),
    (MSS(536), WindowScale(14), EOL()),
]


@pytest.mark.parametrize("opts", OPTION_SETS)
@pytest.mark.parametrize("flags", [Flags(0), Flags.SYN, Flags(0x1FF), Flags.ACK | Flags.PSH])
def test_synack_segments_read_the_same_in_scapy(opts: tuple[TCPOption, ...], flags: Flags) -> None:
    seg = TCPSegment(40001, 443, 0xDEADBEEF, 0x01020304, flags, 29200, 7, opts, b"hello, world")
    wire = _synack_ip_tcp(seg, ttl=17, ident=4242)
    pkt = IP(wire)
    assert (pkt.src, pkt.dst, pkt.ttl, pkt.id, pkt.len) == (SRC, DST, 17, 4242, len(wire))
    t = pkt[TCP]
    assert (t.sport, t.dport, t.seq, t.ack) == (40001, 443, 0xDEADBEEF, 0x01020304)
    assert (int(t.flags), t.window, t.urgptr, t.reserved) == (int(flags), 29200, 7, 0)
    assert t.options == _scapy_options(opts)
    assert bytes(t.payload) == b"hello, world"
    assert _rebuilt_by_scapy(wire) == wire


@pytest.mark.parametrize("opts", OPTION_SETS)
def test_scapy_segments_read_the_same_in_synack(opts: tuple[TCPOption, ...]) -> None:
    spkt = (
        IP(src=SRC, dst=DST, ttl=9, id=77, flags="DF")
        / TCP(
            sport=1234,
            dport=80,
            seq=5,
            ack=6,
            flags="SAUECN",
            window=1000,
            urgptr=3,
            options=_scapy_options(opts),
        )
        / Raw(b"payload")
    )
    wire = bytes(spkt)
    pkt = decode_ipv4(wire)
    assert (pkt.src, pkt.dst, pkt.ttl, pkt.ident, pkt.protocol) == (SRC, DST, 9, 77, PROTO_TCP)
    assert pkt.dont_fragment
    seg = decode_tcp(pkt.payload, SRC, DST)
    want = Flags.SYN | Flags.ACK | Flags.URG | Flags.ECE | Flags.CWR | Flags.NS
    assert (seg.src_port, seg.dst_port, seg.seq, seg.ack) == (1234, 80, 5, 6)
    assert (seg.flags, seg.window, seg.urgent, seg.payload) == (want, 1000, 3, b"payload")
    assert seg.options == opts  # every OPTION_SETS entry fills whole 32-bit words
    assert seg.checksum == IP(wire)[TCP].chksum
    assert encode_ipv4(pkt)[:20] == wire[:20]


def test_udp_agrees_with_scapy_both_ways() -> None:
    ours = encode_ipv4(
        IPv4Packet(SRC, DST, PROTO_UDP, encode_udp(UDPDatagram(5000, 53, b"abc"), SRC, DST))
    )
    u = IP(ours)[UDP]
    assert (u.sport, u.dport, u.len, bytes(u.payload)) == (5000, 53, 11, b"abc")
    assert _rebuilt_by_scapy(ours) == ours

    theirs = bytes(IP(src=SRC, dst=DST) / UDP(sport=7, dport=9) / Raw(b"odd length"))
    d = decode_udp(decode_ipv4(theirs).payload, SRC, DST)
    assert (d.src_port, d.dst_port, d.payload) == (7, 9, b"odd length")
    assert d.checksum == IP(theirs)[UDP].chksum


def test_icmp_echo_agrees_with_scapy_both_ways() -> None:
    req = echo_request(0x4242, 3, b"ping data")
    ours = encode_ipv4(IPv4Packet(SRC, DST, PROTO_ICMP, encode_icmp(req)))
    i = IP(ours)[ICMP]
    assert (i.type, i.code, i.id, i.seq, bytes(i.payload)) == (8, 0, 0x4242, 3, b"ping data")
    assert _rebuilt_by_scapy(ours) == ours

    reply_wire = encode_ipv4(IPv4Packet(DST, SRC, PROTO_ICMP, encode_icmp(echo_reply_for(req))))
    assert IP(reply_wire)[ICMP].type == ECHO_REPLY
    assert _rebuilt_by_scapy(reply_wire) == reply_wire

    theirs = bytes(IP(src=SRC, dst=DST) / ICMP(type=8, id=11, seq=12) / Raw(b"xyz"))
    m = decode_icmp(decode_ipv4(theirs).payload)
    assert (m.type, m.code, m.ident, m.seq, m.payload) == (8, 0, 11, 12, b"xyz")


_opts = st.lists(
    st.one_of(
        st.builds(MSS, st.integers(0, 0xFFFF)),
        st.builds(WindowScale, st.integers(0, 14)),
        st.just(SackPermitted()),
        st.just(NOP()),
        st.builds(Timestamps, st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)),
        st.builds(
            Sack,
            st.lists(
                st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)),
                min_size=1,
                max_size=3,
            ).map(tuple),
        ),
    ),
    max_size=4,
).map(tuple)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 0xFFFF),
    st.integers(0, 2**32 - 1),
    st.integers(0, 0x1FF),
    _opts,
    st.binary(max_size=40),
)
def test_random_segments_checksum_identically_in_scapy(
    port: int, seq: int, flags: int, opts: tuple[TCPOption, ...], payload: bytes
) -> None:
    assume(len(encode_options(opts)) <= 40)
    seg = TCPSegment(port, 80, seq, seq ^ 0x5555, Flags(flags), 1024, 0, opts, payload)
    wire = _synack_ip_tcp(seg)
    assert _rebuilt_by_scapy(wire) == wire
    assert int(IP(wire)[TCP].flags) == flags
