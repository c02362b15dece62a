"""pcap output: PcapWriter, PcapObserver, read_pcap, and other readers (scapy, tcpdump, tshark)."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from synack.trace.events import PacketEvent, StateChange
from synack.trace.pcap import LINKTYPE_RAW, PcapObserver, PcapWriter, read_pcap
from synack.trace.tcpdump import RelativeSeq, format_packet
from synack.wire.icmp import echo_reply_for, echo_request, encode_icmp
from synack.wire.ip import IPv4Packet, encode_ipv4
from synack.wire.options import MSS, NOP, SackPermitted, TCPOption, Timestamps, WindowScale
from synack.wire.tcp import Flags, TCPSegment, encode_tcp
from synack.wire.udp import UDPDatagram, encode_udp

A, B = "192.0.2.1", "192.0.2.2"
# Ports without a tcpdump dissector, so that tcpdump prints exactly what we print.
CP, SP = 40000, 50000
SYN_OPTS: tuple[TCPOption, ...] = (
    MSS(1460),
    SackPermitted(),
    Timestamps(1, 0),
    NOP(),
    WindowScale(7),
)


def tcp(forward: bool, seq: int, ack: int, flags: Flags, win: int = 502, **kw: bytes) -> bytes:
    src, dst, sport, dport = (A, B, CP, SP) if forward else (B, A, SP, CP)
    opts = SYN_OPTS if flags & Flags.SYN else (NOP(), NOP(), Timestamps(7, 6))
    seg = TCPSegment(
        sport, dport, seq, ack, flags, win, options=opts, payload=kw.get("payload", b"")
    )
    return encode_ipv4(IPv4Packet(src, dst, 6, encode_tcp(seg, src, dst)))


C, S = 3053101721, 4000000000
REQUEST = echo_request(1, 1, b"x" * 56)
PACKETS = [
    tcp(True, C, 0, Flags.SYN, 64240),
    tcp(False, S, C + 1, Flags.SYN | Flags.ACK, 65160),
    tcp(True, C + 1, S + 1, Flags.ACK),
    tcp(True, C + 1, S + 1, Flags.PSH | Flags.ACK, payload=b"hello"),
    tcp(False, S + 1, C + 6, Flags.PSH | Flags.ACK, payload=b"world" * 100),
    tcp(True, C + 6, S + 501, Flags.FIN | Flags.ACK),
    tcp(False, S + 501, C + 7, Flags.FIN | Flags.ACK),
    tcp(True, C + 7, S + 502, Flags.ACK),
    tcp(True, C + 7, 0, Flags.RST, 0),
    encode_ipv4(IPv4Packet(A, B, 17, encode_udp(UDPDatagram(5000, 9, b"0123456789"), A, B))),
    encode_ipv4(IPv4Packet(A, B, 1, encode_icmp(REQUEST))),
    encode_ipv4(IPv4Packet(B, A, 1, encode_icmp(echo_reply_for(REQUEST)))),
]
TIMES = [0.0, 0.05, 0.1, 0.1, 0.15, 0.3, 0.35, 0.4, 1.25, 2.000001, 3.5, 1234567.123456]


def write(path: Path) -> None:
    with PcapWriter(path) as w:
        for t, p in zip(TIMES, PACKETS, strict=True):
            w.write(t, p)


def test_global_header_is_classic_pcap_v2_4_linktype_raw(tmp_path: Path) -> None:
    path = tmp_path / "a.pcap"
    write(path)
    header = path.read_bytes()[:24]
    assert struct.unpack("<IHHiIII", header) == (0xA1B2C3D4, 2, 4, 0, 0, 262144, LINKTYPE_RAW)
    assert LINKTYPE_RAW == 101


def test_records_read_back_with_times_and_bytes(tmp_path: Path) -> None:
    path = tmp_path / "a.pcap"
    write(path)
    records = read_pcap(path)
    assert [data for _, data in records] == PACKETS
    assert [t for t, _ in records] == pytest.approx(TIMES, abs=1e-6)


def test_timestamps_are_rounded_to_the_microsecond(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with PcapWriter(buf) as w:
        w.write(1.2345678, b"x")
        w.write(0.9999999, b"y")
    raw = buf.getvalue()
    assert struct.unpack_from("<IIII", raw, 24) == (1, 234568, 1, 1)
    assert struct.unpack_from("<IIII", raw, 24 + 17) == (1, 0, 1, 1)


def test_identical_input_gives_identical_bytes(tmp_path: Path) -> None:
    write(tmp_path / "a.pcap")
    write(tmp_path / "b.pcap")
    assert (tmp_path / "a.pcap").read_bytes() == (tmp_path / "b.pcap").read_bytes()


def test_writer_on_a_file_object_leaves_it_open() -> None:
    buf = io.BytesIO()
    w = PcapWriter(buf)
    w.write(0.5, PACKETS[0])
    w.close()
    assert not buf.closed
    assert len(buf.getvalue()) == 24 + 16 + len(PACKETS[0])
    assert w.count == 1


def test_writer_refuses_writes_after_close_and_negative_times() -> None:
    w = PcapWriter(io.BytesIO())
    with pytest.raises(ValueError):
        w.write(-1.0, b"x")
    w.close()
    w.close()  # idempotent
    with pytest.raises(ValueError):
        w.write(0.0, b"x")


def test_observer_writes_only_the_chosen_kinds(tmp_path: Path) -> None:
    path = tmp_path / "obs.pcap"
    with PcapWriter(path) as w:
        obs = PcapObserver(w)
        obs(PacketEvent(0.0, "send", "client", "server", PACKETS[0], 1))
        obs(PacketEvent(0.05, "deliver", "client", "server", PACKETS[0], 1))
        obs(StateChange(0.0, "client", "c", "CLOSED", "SYN_SENT"))
        obs(PacketEvent(0.1, "drop", "client", "server", PACKETS[2], 2, "loss"))
    assert read_pcap(path) == [(0.0, PACKETS[0])]
    with PcapWriter(path) as w:
        obs = PcapObserver(w, kinds=("deliver", "drop"))
        obs(PacketEvent(0.0, "send", "client", "server", PACKETS[0], 1))
        obs(PacketEvent(0.05, "deliver", "client", "server", PACKETS[0], 1))
    assert read_pcap(path) == [(0.05, PACKETS[0])]


def test_read_pcap_accepts_big_endian_and_rejects_other_files(tmp_path: Path) -> None:
    path = tmp_path / "be.pcap"
    path.write_bytes(
        struct.pack(">IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101)
        + struct.pack(">IIII", 3, 500000, 2, 2)
        + b"ab"
    )
    assert read_pcap(path) == [(3.5, b"ab")]
    path.write_bytes(b"not a pcap file at all, no" * 2)
    with pytest.raises(ValueError):
        read_pcap(path)


def test_scapy_reads_the_file_as_ip_packets(tmp_path: Path) -> None:
    pytest.importorskip("scapy")
    from scapy.layers.inet import ICMP, IP, TCP, UDP
    from scapy.utils import rdpcap

    path = tmp_path / "a.pcap"
    write(path)
    pkts = rdpcap(str(path))
    assert len(pkts) == len(PACKETS)
    assert all(p.haslayer(IP) for p in pkts)
    assert [bytes(p[IP]) for p in pkts] == PACKETS
    syn = pkts[0]
    assert (syn[IP].src, syn[IP].dst, syn[TCP].sport, syn[TCP].dport) == (A, B, CP, SP)
    assert syn[TCP].seq == C and str(syn[TCP].flags) == "S"
    assert ("MSS", 1460) in syn[TCP].options
    assert pkts[4][TCP].load == b"world" * 100
    assert pkts[9][UDP].dport == 9 and pkts[10][ICMP].type == 8
    assert float(pkts[9].time) == pytest.approx(2.000001, abs=1e-7)


@pytest.mark.parametrize("relative", [False, True])
def test_tcpdump_prints_exactly_our_lines(tmp_path: Path, relative: bool) -> None:
    if shutil.which("tcpdump") is None:
        pytest.skip("tcpdump is not installed")
    path = tmp_path / "a.pcap"
    write(path)
    args = ["tcpdump", "-n", "-tt", "-r", str(path), *([] if relative else ["-S"])]
    run = subprocess.run(args, capture_output=True, text=True, check=True, timeout=60)
    rel = RelativeSeq() if relative else None
    ours = [format_packet(p, t, relative=rel) for t, p in zip(TIMES, PACKETS, strict=True)]
    assert run.stdout.splitlines() == ours


def test_tshark_reads_the_file(tmp_path: Path) -> None:
    if shutil.which("tshark") is None:
        pytest.skip("tshark is not installed")
    path = tmp_path / "a.pcap"
    write(path)
    args = ["tshark", "-n", "-r", str(path), "-T", "fields", "-e", "ip.src", "-e", "ip.proto"]
    run = subprocess.run(args, capture_output=True, text=True, check=True, timeout=120)
    rows = [line.split("\t") for line in run.stdout.splitlines()]
    assert len(rows) == len(PACKETS)
    assert rows[0] == [A, "6"] and rows[1] == [B, "6"] and rows[9] == [A, "17"]
