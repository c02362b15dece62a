"""Software segmentation of an offloaded TCP/IPv4 packet (Linux tcp_gso_segment)."""

from __future__ import annotations

import os

import pytest

from synack.errors import DecodeError
from synack.wire.gso import segment_tcp_packet
from synack.wire.ip import PROTO_TCP, decode_ipv4, ipv4_header
from synack.wire.options import NOP, Timestamps
from synack.wire.tcp import Flags, TCPSegment, decode_tcp, encode_tcp_parts

SRC, DST = "192.0.2.2", "192.0.2.1"


def packet(payload: bytes, flags: Flags, seq: int = 1000, ident: int = 7) -> bytes:
    seg = TCPSegment(
        40000,
        80,
        seq,
        555,
        flags,
        1234,
        options=(NOP(), NOP(), Timestamps(5, 6)),
        payload=payload,
    )
    head, body = encode_tcp_parts(seg, SRC, DST)
    ip = ipv4_header(SRC, DST, PROTO_TCP, len(head) + len(body), ident=ident, tos=2)
    return ip + head + body


@pytest.mark.parametrize(
    "size,mss",
    [
        (10_000, 1448),
        (1448 * 5, 1448),
        (65_000, 8948),
        (3, 1),
        # Tails of 1-3 octets past the last whole 32-bit word (the pieces' sums are taken
        # together over 32-bit words when the size allows), a last piece that lies wholly
        # in such a tail, and sizes that are not a multiple of four (summed one by one).
        (1448 * 3 + 1, 1448),
        (1448 * 2 + 3, 1448),
        (9, 4),
        (10_001, 1001),
        (65_483, 1460),
    ],
)
def test_pieces_carry_the_payload_in_order_with_valid_checksums(size: int, mss: int) -> None:
    data = os.urandom(size)
    flags = Flags.ACK | Flags.PSH | Flags.FIN | Flags.CWR
    pieces = segment_tcp_packet(packet(data, flags, seq=2**32 - 100), mss)
    assert len(pieces) == -(-size // mss)
    got = b""
    for i, raw in enumerate(pieces):
        ip = decode_ipv4(raw)  # verifies the header checksum
        seg = decode_tcp(ip.payload, ip.src, ip.dst)  # verifies the TCP checksum
        assert ip.ident == 7 + i and ip.tos == 2 and ip.dont_fragment
        assert seg.seq == (2**32 - 100 + i * mss) % 2**32
        assert (seg.ack, seg.window, seg.timestamps) == (555, 1234, (5, 6))
        last = i == len(pieces) - 1
        assert bool(seg.flags & Flags.FIN) == last and bool(seg.flags & Flags.PSH) == last
        assert bool(seg.flags & Flags.CWR) == (i == 0)
        assert seg.flags & Flags.ACK
        assert len(seg.payload) == (mss if not last else size - i * mss)
        got += seg.payload
    assert got == data


def test_a_packet_that_fits_is_returned_unchanged() -> None:
    raw = packet(b"x" * 100, Flags.ACK)
    assert segment_tcp_packet(raw, 1448) == [raw]


def test_pieces_agree_with_scapy() -> None:
    scapy = pytest.importorskip("scapy.all")
    raw = packet(os.urandom(4000), Flags.ACK | Flags.PSH)
    for piece in segment_tcp_packet(raw, 1448):
        pkt = scapy.IP(piece)
        tcp_sum, ip_sum = pkt[scapy.TCP].chksum, pkt[scapy.IP].chksum
        del pkt[scapy.TCP].chksum, pkt[scapy.IP].chksum
        again = scapy.IP(bytes(pkt))
        assert (again[scapy.TCP].chksum, again[scapy.IP].chksum) == (tcp_sum, ip_sum)


@pytest.mark.parametrize(
    "raw,reason",
    [(b"\x45" + bytes(10), "gso_truncated"), (bytes.fromhex("45") + bytes(39), "gso_not_tcp")],
)
def test_malformed_packets_raise_decode_errors(raw: bytes, reason: str) -> None:
    with pytest.raises(DecodeError) as info:
        segment_tcp_packet(raw, 1448)
    assert info.value.reason == reason


def test_a_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        segment_tcp_packet(packet(b"x" * 10, Flags.ACK), 0)
