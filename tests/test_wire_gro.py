"""Receive offload in software (synack.wire.gro): which segments are joined, what the
joined packet holds, and that nothing is lost, reordered or taken unchecked."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from synack.stack.host import Host
from synack.wire.gro import coalesce
from synack.wire.ip import PROTO_TCP, IPv4Packet, decode_ipv4, encode_ipv4
from synack.wire.options import NOP, Timestamps
from synack.wire.tcp import Flags, TCPSegment, decode_tcp, encode_tcp

A, B, C = "192.0.2.1", "192.0.2.2", "192.0.2.3"
MSS = 1448
A_FLAGS = Flags.ACK


def packet(
    seq: int,
    payload: bytes,
    *,
    src: str = A,
    dst: str = B,
    sport: int = 40000,
    flags: Flags = A_FLAGS,
    ack: int = 7,
    window: int = 500,
    tsval: int = 100,
    tos: int = 0,
) -> bytes:
    options = (NOP(), NOP(), Timestamps(tsval, 9))
    seg = TCPSegment(sport, 80, seq, ack, flags, window, options=options, payload=payload)
    return encode_ipv4(IPv4Packet(src, dst, PROTO_TCP, encode_tcp(seg, src, dst), tos=tos))


def stream(start: int, sizes: list[int], **kw: object) -> list[bytes]:
    out, seq = [], start
    for i, n in enumerate(sizes):
        out.append(packet(seq, bytes([i % 251]) * n, **kw))  # type: ignore[arg-type]
        seq += n
    return out


def segment(data: bytes, verify: bool = True) -> TCPSegment:
    ip = decode_ipv4(data)  # the IP header checksum is always right
    return decode_tcp(ip.payload, ip.src, ip.dst, verify_checksum=verify)


def test_back_to_back_segments_become_one_packet_with_the_segment_size() -> None:
    pkts = stream(1000, [MSS] * 5 + [300])
    pkts[-1] = packet(1000 + 5 * MSS, bytes([5]) * 300, flags=Flags.ACK | Flags.PSH)
    stats: Counter[str] = Counter()
    out, verified, sizes = coalesce(pkts, stats)
    assert len(out) == 1 and verified == [True] and sizes == [MSS]
    seg = segment(out[0], verify=False)  # the checksum field is the first segment's
    assert seg.seq == 1000 and seg.ack == 7 and seg.window == 500
    assert seg.flags == Flags.ACK | Flags.PSH  # PSH of the last one kept
    assert seg.timestamps == (100, 9)
    assert bytes(seg.payload) == b"".join(bytes([i]) * MSS for i in range(5)) + bytes([5]) * 300
    assert stats == {"gro_packets": 1, "gro_segments": 6}


def test_a_bad_checksum_is_passed_on_unverified_and_splits_the_run() -> None:
    pkts = stream(1, [MSS] * 4)
    bad = bytearray(pkts[2])
    bad[-1] ^= 0xFF  # payload damaged, checksum not updated
    pkts[2] = bytes(bad)
    out, verified, sizes = coalesce(pkts)
    assert verified == [True, False, True]
    assert out[1] == pkts[2] and sizes == [MSS, 0, 0]
    assert segment(out[0], verify=False).payload == bytes([0]) * MSS + bytes([1]) * MSS
    assert out[2] == pkts[3]  # alone: the packet as it came, checked


def test_what_is_never_joined() -> None:
    base = stream(1, [MSS])[0]
    cases = {
        "gap": packet(1 + MSS + 1, b"x" * MSS),
        "other ack": packet(1 + MSS, b"x" * MSS, ack=8),
        "other window": packet(1 + MSS, b"x" * MSS, window=501),
        "other timestamp": packet(1 + MSS, b"x" * MSS, tsval=101),
        "other flow": packet(1 + MSS, b"x" * MSS, sport=40001),
        "other ECN field": packet(1 + MSS, b"x" * MSS, tos=3),
        "CWR": packet(1 + MSS, b"x" * MSS, flags=Flags.ACK | Flags.CWR),
        "URG": packet(1 + MSS, b"x" * MSS, flags=Flags.ACK | Flags.URG),
        "RST": packet(1 + MSS, b"", flags=Flags.ACK | Flags.RST),
        "larger than the first": packet(1 + MSS, b"x" * (MSS + 1)),
        "pure ACK": packet(1 + MSS, b""),
    }
    for name, second in cases.items():
        out, verified, sizes = coalesce([base, second])
        assert out == [base, second], name
        assert verified == [True, True] and sizes == [0, 0], name


def test_a_short_segment_or_fin_ends_the_packet() -> None:
    short = stream(1, [MSS, 100, MSS])
    out, _, sizes = coalesce(short)
    assert sizes == [MSS, 0] and segment(out[0], verify=False).payload == b"\0" * MSS + b"\1" * 100
    fin = stream(1, [MSS])
    fin.append(packet(1 + MSS, b"y" * 10, flags=Flags.ACK | Flags.FIN))
    fin.append(packet(1 + MSS + 10, b"z" * MSS))
    out, _, sizes = coalesce(fin)
    assert len(out) == 2 and sizes == [MSS, 0]
    assert segment(out[0], verify=False).flags == Flags.ACK | Flags.FIN


def test_a_joined_packet_stays_within_65535_octets() -> None:
    pkts = stream(1, [MSS] * 60)
    out, _, _ = coalesce(pkts)
    assert all(len(p) <= 0xFFFF for p in out)
    assert len(out) == 2
    total = b"".join(bytes(segment(p, verify=False).payload) for p in out)
    assert total == b"".join(bytes([i % 251]) * MSS for i in range(60))


def test_not_tcp_or_not_ipv4_passes_through_unverified() -> None:
    udp = encode_ipv4(IPv4Packet(A, B, 17, b"\0" * 30))
    junk = b"\x60" + b"\0" * 59
    tcp = stream(1, [MSS, MSS])
    out, verified, _ = coalesce([tcp[0], udp, junk, tcp[1]])
    assert out[1:3] == [udp, junk] and verified == [True, False, False, True]


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_every_flows_bytes_arrive_in_order_whatever_the_mix(data: st.DataObject) -> None:
    """Two flows' segments interleaved, with gaps, flags, damage: per flow the payloads of
    the output, in order, are exactly those of the input; nothing unverified is joined."""
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    seqs = {A: 5000, C: 2**32 - 3000}  # one flow wraps around
    pkts: list[bytes] = []
    damaged: set[bytes] = set()
    for _ in range(data.draw(st.integers(1, 40))):
        src = rng.choice((A, C))
        n = rng.choice((MSS, MSS, MSS, 0, 10, 700, MSS + 1))
        flags = rng.choice([A_FLAGS] * 6 + [Flags.ACK | Flags.PSH, Flags.ACK | Flags.CWR])
        seq = seqs[src] + (MSS if rng.random() < 0.05 else 0)  # now and then a gap
        p = packet(seq & 0xFFFFFFFF, rng.randbytes(n), src=src, flags=flags)
        if rng.random() < 0.05:
            b = bytearray(p)
            b[-1 if n else 30] ^= 1
            p = bytes(b)
            damaged.add(p)
        pkts.append(p)
        seqs[src] = (seq + n) & 0xFFFFFFFF
    out, verified, sizes = coalesce(pkts)
    assert len(out) == len(verified) == len(sizes)

    def per_flow(items: list[bytes]) -> dict[str, list[bytes]]:
        flows: dict[str, list[bytes]] = {A: [], C: []}
        for p in items:
            ip = decode_ipv4(p)
            seg = decode_tcp(ip.payload, ip.src, ip.dst, verify_checksum=False)
            flows[ip.src].append(bytes(seg.payload))
        return flows

    before, after = per_flow(pkts), per_flow(out)
    for flow in (A, C):
        assert b"".join(before[flow]) == b"".join(after[flow])
    for p, ok, size in zip(out, verified, sizes, strict=True):
        assert ok == (p not in damaged)
        if size:  # a joined packet: no damaged segment in it, and sizes as announced
            assert ok and len(segment(p, verify=False).payload) > size


def test_a_host_takes_joined_packets_as_the_segments_they_hold() -> None:
    """The joined packet, handed over as verified with its segment size, delivers the
    same bytes to a listening host's application as the wire packets one by one."""

    def run(joined: bool) -> bytes:
        got: list[bytes] = []
        host = Host("h", B, clock=lambda: 0.0, secret=b"k" * 16, rng=random.Random(1))
        sent: list[bytes] = []
        host.attach(sent.append, None)

        def on_accept(h: object) -> None:
            h.on_event = lambda h, e: got.append(h.recv())  # type: ignore[attr-defined]

        host.listen(80, on_accept=on_accept)
        syn = TCPSegment(40000, 80, 0, 0, Flags.SYN, 65535)
        host.receive_packet(encode_ipv4(IPv4Packet(A, B, PROTO_TCP, encode_tcp(syn, A, B))))
        synack = segment(sent[0])
        ack = TCPSegment(40000, 80, 1, synack.seq + 1, Flags.ACK, 65535)
        host.receive_packet(encode_ipv4(IPv4Packet(A, B, PROTO_TCP, encode_tcp(ack, A, B))))
        pkts = [
            encode_ipv4(
                IPv4Packet(
                    A,
                    B,
                    PROTO_TCP,
                    encode_tcp(
                        TCPSegment(
                            40000,
                            80,
                            1 + i * 1000,
                            synack.seq + 1,
                            Flags.ACK,
                            65535,
                            payload=bytes([i]) * 1000,
                        ),
                        A,
                        B,
                    ),
                )
            )
            for i in range(8)
        ]
        if joined:
            out, verified, sizes = coalesce(pkts)
            assert len(out) == 1
            host.receive_packet(out[0], checksum_verified=verified[0], gso_size=sizes[0])
        else:
            for p in pkts:
                host.receive_packet(p)
        return b"".join(got)

    assert run(True) == run(False) == b"".join(bytes([i]) * 1000 for i in range(8))


def test_ip_ids_must_go_up_one_by_one_without_df() -> None:
    def raw(seq: int, ident: int, df: bool) -> bytes:
        seg = TCPSegment(40000, 80, seq, 7, Flags.ACK, 500, payload=b"p" * 100)
        ip = IPv4Packet(A, B, PROTO_TCP, encode_tcp(seg, A, B), ident=ident, dont_fragment=df)
        return encode_ipv4(ip)

    rising = [raw(1 + 100 * i, 50 + i, False) for i in range(3)]
    assert len(coalesce(rising)[0]) == 1
    fixed = [raw(1 + 100 * i, 50, False) for i in range(3)]
    assert len(coalesce(fixed)[0]) == 3  # without DF a fixed ID is not one datagram stream
    fixed_df = [raw(1 + 100 * i, 50, True) for i in range(3)]
    assert len(coalesce(fixed_df)[0]) == 1
    jump = [raw(1, 50, True), raw(101, 60, True)]
    assert len(coalesce(jump)[0]) == 2
