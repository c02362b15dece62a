"""Recorder and Trace: one observer, every rendering."""

from __future__ import annotations

import io
from pathlib import Path

from synack.trace import (
    Note,
    PacketEvent,
    Recorder,
    StateChange,
    Trace,
    TraceEvent,
    format_packet,
    read_pcap,
    render_diagram,
)
from synack.wire.ip import IPv4Packet, encode_ipv4
from synack.wire.tcp import Flags, TCPSegment, encode_tcp

A, B = "192.0.2.1", "192.0.2.2"


def tcp(forward: bool, seq: int, ack: int, flags: Flags) -> bytes:
    src, dst, sport, dport = (A, B, 40000, 80) if forward else (B, A, 80, 40000)
    seg = TCPSegment(sport, dport, seq, ack, flags, 502)
    return encode_ipv4(IPv4Packet(src, dst, 6, encode_tcp(seg, src, dst)))


SYN = tcp(True, 100, 0, Flags.SYN)
SYN_ACK = tcp(False, 500, 101, Flags.SYN | Flags.ACK)
ACK = tcp(True, 101, 501, Flags.ACK)
EVENTS: list[TraceEvent] = [
    StateChange(0.0, "client", "c", "CLOSED", "SYN_SENT"),
    PacketEvent(0.0, "send", "client", "server", SYN, 1),
    PacketEvent(0.0, "drop", "client", "server", SYN, 1, "loss"),
    Note(0.5, "client", "retransmit SYN"),
    PacketEvent(1.0, "send", "client", "server", SYN, 2),
    PacketEvent(1.05, "deliver", "client", "server", SYN, 2),
    StateChange(1.05, "server", "s", "LISTEN", "SYN_RECEIVED"),
    PacketEvent(1.05, "send", "server", "client", SYN_ACK, 3),
    PacketEvent(1.1, "deliver", "server", "client", SYN_ACK, 3),
    StateChange(1.1, "client", "c", "SYN_SENT", "ESTABLISHED"),
    PacketEvent(1.1, "send", "client", "server", ACK, 4),
    PacketEvent(1.15, "deliver", "client", "server", ACK, 4),
    StateChange(1.15, "server", "s", "SYN_RECEIVED", "ESTABLISHED"),
]


def recorded() -> Recorder:
    rec = Recorder()
    for e in EVENTS:
        rec(e)
    return rec


def test_recorder_keeps_every_event_in_order() -> None:
    rec = recorded()
    assert rec.events == EVENTS
    rec.clear()
    assert rec.events == []


def test_recorder_filters_packets_state_changes_and_notes() -> None:
    rec = recorded()
    assert [e.packet_id for e in rec.packets()] == [1, 2, 3, 4]
    assert [e.packet_id for e in rec.packets("drop")] == [1]
    assert len(rec.packets("deliver")) == 3 and len(rec.packets(None)) == 8
    assert [e.new for e in rec.state_changes()] == [
        "SYN_SENT",
        "SYN_RECEIVED",
        "ESTABLISHED",
        "ESTABLISHED",
    ]
    assert [e.new for e in rec.state_changes("server")] == ["SYN_RECEIVED", "ESTABLISHED"]
    assert [n.text for n in rec.notes()] == ["retransmit SYN"]


def test_tcpdump_text_has_a_line_per_send_with_the_drop_marked() -> None:
    text = recorded().tcpdump_text()
    assert text.splitlines() == [
        format_packet(SYN, 0.0) + "  [dropped: loss]",
        format_packet(SYN, 1.0),
        format_packet(SYN_ACK, 1.05),
        format_packet(ACK, 1.1),
    ]
    assert text.endswith("\n")


def test_tcpdump_text_relative() -> None:
    last = recorded().tcpdump_text(relative=True).splitlines()[-1]
    assert last.endswith("Flags [.], ack 1, win 502, length 0")


def test_state_log_text() -> None:
    assert recorded().state_log_text().splitlines() == [
        "0.000000 client c CLOSED -> SYN_SENT",
        "1.050000 server s LISTEN -> SYN_RECEIVED",
        "1.100000 client c SYN_SENT -> ESTABLISHED",
        "1.150000 server s SYN_RECEIVED -> ESTABLISHED",
    ]
    assert "note: retransmit SYN" in recorded().state_log_text(notes=True)


def test_diagram_is_render_diagram_of_the_events() -> None:
    text = recorded().diagram("client", "server")
    assert text == render_diagram(EVENTS, "client", "server")
    assert text.count("X (loss)") == 1


def test_write_pcap_writes_the_sent_packets(tmp_path: Path) -> None:
    path = tmp_path / "run.pcap"
    assert recorded().write_pcap(path) == 4
    assert read_pcap(path) == [(0.0, SYN), (1.0, SYN), (1.05, SYN_ACK), (1.1, ACK)]
    buf = io.BytesIO()
    assert recorded().write_pcap(buf, kind="deliver") == 3


def test_trace_bundles_the_three_texts() -> None:
    rec = recorded()
    trace = rec.trace("client", "server")
    assert trace == Trace(
        tcpdump=rec.tcpdump_text(),
        state_log=rec.state_log_text(notes=True),
        diagram=rec.diagram("client", "server"),
    )
    text = str(trace)
    assert text.index("== tcpdump ==") < text.index("== state log ==") < text.index("== diagram ==")
