"""The virtio-net header of an offloading TUN device (synack.link.vnet)."""

from __future__ import annotations

import os

import pytest

from synack.errors import DecodeError
from synack.link import vnet
from synack.wire.gso import segment_tcp_packet
from synack.wire.ip import PROTO_TCP, PROTO_UDP, decode_ipv4, ipv4_header
from synack.wire.tcp import Flags, TCPSegment, decode_tcp, encode_tcp_parts
from synack.wire.udp import UDPDatagram, decode_udp, encode_udp

SRC, DST = "192.0.2.1", "192.0.2.2"


def tcp_packet(payload: bytes, flags: Flags = Flags.ACK | Flags.PSH) -> bytes:
    seg = TCPSegment(80, 40000, 7, 9, flags, 500, payload=payload)
    head, body = encode_tcp_parts(seg, SRC, DST)
    return ipv4_header(SRC, DST, PROTO_TCP, len(head) + len(body), ident=1) + head + body


def partial(packet: bytes) -> bytes:
    """What the kernel hands over with NEEDS_CSUM: the field holds the pseudo-header sum."""
    ihl = (packet[0] & 0x0F) << 2
    tcp_len = len(packet) - ihl
    s = sum(int.from_bytes(packet[i : i + 2], "big") for i in range(12, 20, 2))
    s += PROTO_TCP + tcp_len
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return packet[: ihl + 16] + s.to_bytes(2, "big") + packet[ihl + 18 :]


def test_a_partial_checksum_is_completed_to_the_real_one() -> None:
    full = tcp_packet(os.urandom(3001))
    frame = vnet.HEADER.pack(vnet.F_NEEDS_CSUM, vnet.GSO_NONE, 0, 0, 20, 16) + partial(full)
    assert vnet.unwrap(frame) == (full, 0, True)


def test_a_tso_frame_gives_the_packet_whole_and_its_segment_size() -> None:
    full = tcp_packet(os.urandom(20_000))
    frame = vnet.HEADER.pack(vnet.F_NEEDS_CSUM, vnet.GSO_TCPV4, 52, 1448, 20, 16) + partial(full)
    packet, gso, ok = vnet.unwrap(frame)
    assert gso == 1448 and packet == full and ok
    ip = decode_ipv4(packet)
    assert len(decode_tcp(ip.payload, ip.src, ip.dst).payload) == 20_000


def test_without_completion_a_tcp_packet_is_a_view_still_holding_the_partial_sum() -> None:
    full = tcp_packet(os.urandom(20_000))
    frame = vnet.HEADER.pack(vnet.F_NEEDS_CSUM, vnet.GSO_TCPV4, 52, 1448, 20, 16) + partial(full)
    packet, gso, ok = vnet.unwrap(frame, complete=False)
    assert isinstance(packet, memoryview) and packet.obj is frame  # no copy
    assert bytes(packet) == partial(full) != full and gso == 1448 and ok
    # The host takes it as verified (Linux: CHECKSUM_PARTIAL needs no check).
    ip = decode_ipv4(packet, payload_view=True)
    seg = decode_tcp(ip.payload, ip.src, ip.dst, verify_checksum=False)
    assert seg.payload == full[40:]
    # The pseudo-header check still applies.
    bad = bytearray(frame)
    bad[vnet.HEADER_LEN + 36] ^= 0x01
    with pytest.raises(DecodeError, match="partial sum"):
        vnet.unwrap(bytes(bad), complete=False)


def test_without_completion_udp_is_still_completed_for_its_own_check() -> None:
    raw = encode_udp(UDPDatagram(53, 53, b"query"), SRC, DST)
    packet = ipv4_header(SRC, DST, PROTO_UDP, len(raw), ident=1) + raw
    s = sum(int.from_bytes(packet[i : i + 2], "big") for i in range(12, 20, 2)) + 17 + len(raw)
    s = (s & 0xFFFF) + (s >> 16)
    frame = vnet.HEADER.pack(vnet.F_NEEDS_CSUM, 0, 0, 0, 20, 6) + packet[:26]
    frame += s.to_bytes(2, "big") + packet[28:]
    assert vnet.unwrap(frame, complete=False) == (packet, 0, True)


def test_a_frame_without_offload_is_left_alone() -> None:
    full = tcp_packet(b"hello")
    frame = b"".join(vnet.wrap(full))
    assert vnet.unwrap(frame) == (full, 0, False)  # the host verifies its own checksum


def test_a_partial_sum_that_does_not_match_the_ip_header_is_refused() -> None:
    full = tcp_packet(os.urandom(100))
    half = bytearray(partial(full))
    half[36] ^= 0x10  # the pseudo-header sum the "kernel" left is wrong
    frame = vnet.HEADER.pack(vnet.F_NEEDS_CSUM, vnet.GSO_NONE, 0, 0, 20, 16) + bytes(half)
    with pytest.raises(DecodeError) as info:
        vnet.unwrap(frame)
    assert info.value.reason == "vnet_bad_pseudo_header"


def test_a_udp_checksum_computed_as_zero_is_sent_as_all_ones() -> None:
    # Find a payload whose UDP checksum is 0xFFFF, i.e. whose completed sum is zero.
    for i in range(200_000):
        body = i.to_bytes(4, "big")
        raw = encode_udp(UDPDatagram(53, 53, body), SRC, DST)
        if raw[6:8] == b"\xff\xff":
            break
    else:
        pytest.skip("no such payload found")
    packet = ipv4_header(SRC, DST, PROTO_UDP, len(raw), ident=1) + raw
    s = sum(int.from_bytes(packet[i : i + 2], "big") for i in range(12, 20, 2)) + 17 + len(raw)
    s = (s & 0xFFFF) + (s >> 16)
    half = packet[:26] + s.to_bytes(2, "big") + packet[28:]
    frame = vnet.HEADER.pack(vnet.F_NEEDS_CSUM, 0, 0, 0, 20, 6) + half
    done, _, ok = vnet.unwrap(frame)
    assert ok
    assert done[26:28] == b"\xff\xff"
    assert decode_udp(done[20:], SRC, DST).payload == body


def test_wrapping_a_tso_packet_leaves_the_pseudo_header_sum_for_the_kernel() -> None:
    full = tcp_packet(os.urandom(10_000), Flags.ACK | Flags.CWR)
    frame = b"".join(vnet.wrap(full, 1448))
    flags, gso_type, hdr_len, gso_size, start, offset = vnet.HEADER.unpack_from(frame)
    assert flags == vnet.F_NEEDS_CSUM and gso_size == 1448 and (start, offset) == (20, 16)
    assert gso_type == vnet.GSO_TCPV4 | vnet.GSO_ECN and hdr_len == 40
    inner = frame[vnet.HEADER_LEN :]
    assert inner == partial(full)
    # Completing it as the kernel would gives back the real packet, and its pieces.
    assert vnet.complete_checksum(inner, start, offset) == full
    assert b"".join(p[40:] for p in segment_tcp_packet(full, 1448)) == full[40:]


@pytest.mark.parametrize(
    "frame,reason",
    [
        (b"\x00" * 25, "vnet_truncated"),
        (vnet.HEADER.pack(0, 3, 0, 1400, 0, 0) + b"\x45" + bytes(40), "vnet_gso_unsupported"),
        (vnet.HEADER.pack(1, 0, 0, 0, 20, 400) + b"\x45" + bytes(40), "vnet_bad_csum_offsets"),
    ],
)
def test_bad_frames_raise_decode_errors(frame: bytes, reason: str) -> None:
    with pytest.raises(DecodeError) as info:
        vnet.unwrap(frame)
    assert info.value.reason == reason


def test_a_frame_that_is_not_ipv4_is_passed_on_for_the_link_to_count() -> None:
    ipv6 = bytes([0x60]) + bytes(39)
    frame = vnet.HEADER.pack(vnet.F_NEEDS_CSUM, vnet.GSO_NONE, 0, 0, 40, 16) + ipv6
    assert vnet.unwrap(frame) == (ipv6, 0, False)
