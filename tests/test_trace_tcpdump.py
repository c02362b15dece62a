"""tcpdump-style text: format_packet, RelativeSeq, TcpdumpPrinter, tcpdump_lines."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st

from synack.trace.events import Note, PacketEvent, StateChange
from synack.trace.tcpdump import RelativeSeq, TcpdumpPrinter, format_packet, tcpdump_lines
from synack.wire.icmp import (
    ICMPMessage,
    dest_unreachable,
    echo_reply_for,
    echo_request,
    encode_icmp,
    port_unreachable,
)
from synack.wire.ip import IPv4Packet, encode_ipv4
from synack.wire.options import MSS, NOP, Sack, SackPermitted, TCPOption, Timestamps, WindowScale
from synack.wire.tcp import Flags, TCPSegment, encode_tcp
from synack.wire.udp import UDPDatagram, encode_udp

A, B = "192.0.2.1", "192.0.2.2"
ISN_C, ISN_S = 3053101721, 1000
SYN_OPTS: tuple[TCPOption, ...] = (
    MSS(1460),
    SackPermitted(),
    Timestamps(1, 0),
    NOP(),
    WindowScale(7),
)
SA, PA, FA = Flags.SYN | Flags.ACK, Flags.PSH | Flags.ACK, Flags.FIN | Flags.ACK


def tcp(
    src: str,
    dst: str,
    sport: int,
    dport: int,
    seq: int,
    ack: int,
    flags: Flags,
    window: int = 64240,
    *,
    options: tuple[TCPOption, ...] = (),
    payload: bytes = b"",
    urgent: int = 0,
) -> bytes:
    seg = TCPSegment(sport, dport, seq, ack, flags, window, urgent, options, payload)
    return encode_ipv4(IPv4Packet(src, dst, 6, encode_tcp(seg, src, dst)))


def c2s(
    seq: int,
    ack: int,
    flags: Flags,
    window: int = 502,
    *,
    options: tuple[TCPOption, ...] = (),
    payload: bytes = b"",
    urgent: int = 0,
) -> bytes:
    """Client 192.0.2.1:40000 to server 192.0.2.2:80."""
    return tcp(
        A, B, 40000, 80, seq, ack, flags, window, options=options, payload=payload, urgent=urgent
    )


def s2c(
    seq: int,
    ack: int,
    flags: Flags,
    window: int = 502,
    *,
    options: tuple[TCPOption, ...] = (),
    payload: bytes = b"",
) -> bytes:
    """Server to client."""
    return tcp(B, A, 80, 40000, seq, ack, flags, window, options=options, payload=payload)


def body(line: str) -> str:
    """The line without its timestamp."""
    return line.split(" ", 1)[1]


HANDSHAKE_AND_DATA = [
    c2s(ISN_C, 0, Flags.SYN, 64240, options=SYN_OPTS),
    s2c(ISN_S, ISN_C + 1, SA, 65160, options=SYN_OPTS),
    c2s(ISN_C + 1, ISN_S + 1, Flags.ACK),
    c2s(ISN_C + 1, ISN_S + 1, PA, payload=b"hello"),
    s2c(ISN_S + 1, ISN_C + 6, PA, options=(NOP(), NOP(), Timestamps(5, 4)), payload=b"world"),
    c2s(ISN_C + 6, ISN_S + 6, FA),
    s2c(ISN_S + 6, ISN_C + 7, Flags.ACK),
]


# --- TCP lines, absolute (-S) ---------------------------------------------------------


def test_syn_with_options_prints_absolute_seq_win_options_and_length() -> None:
    line = format_packet(HANDSHAKE_AND_DATA[0], 0.0)
    assert line == (
        "0.000000 IP 192.0.2.1.40000 > 192.0.2.2.80: Flags [S], seq 3053101721, win 64240, "
        "options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0"
    )


def test_syn_ack_prints_seq_and_ack() -> None:
    line = format_packet(HANDSHAKE_AND_DATA[1], 0.05)
    assert line == (
        "0.050000 IP 192.0.2.2.80 > 192.0.2.1.40000: Flags [S.], seq 1000, ack 3053101722, "
        "win 65160, options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0"
    )


def test_bare_ack_omits_seq_as_tcpdump_does() -> None:
    line = format_packet(HANDSHAKE_AND_DATA[2], 0.1)
    assert body(line) == "IP 192.0.2.1.40000 > 192.0.2.2.80: Flags [.], ack 1001, win 502, length 0"


def test_data_segment_prints_seq_range_and_payload_length() -> None:
    line = format_packet(HANDSHAKE_AND_DATA[4], 0.1)
    assert line == (
        "0.100000 IP 192.0.2.2.80 > 192.0.2.1.40000: Flags [P.], seq 1001:1006, "
        "ack 3053101727, win 502, options [nop,nop,TS val 5 ecr 4], length 5"
    )


def test_fin_prints_single_seq() -> None:
    line = format_packet(HANDSHAKE_AND_DATA[5], 0.3)
    assert body(line).endswith("Flags [F.], seq 3053101727, ack 1006, win 502, length 0")


def test_rst_without_ack_prints_seq_but_no_ack() -> None:
    line = format_packet(c2s(ISN_C + 6, 0, Flags.RST, 0), 1.0)
    assert body(line).endswith("Flags [R], seq 3053101727, win 0, length 0")


def test_rst_ack_prints_seq_and_ack() -> None:
    line = format_packet(s2c(0, ISN_C + 1, Flags.RST | Flags.ACK, 0), 1.0)
    assert body(line).endswith("Flags [R.], seq 0, ack 3053101722, win 0, length 0")


def test_all_nine_flags_in_tcpdump_order_with_urgent_pointer() -> None:
    line = format_packet(c2s(10, 20, Flags(0x1FF), urgent=3, payload=b"x"), 0)
    assert body(line).endswith("Flags [FSRP.UEWe], seq 10:11, ack 20, win 502, urg 3, length 1")


def test_each_flag_letter() -> None:
    letters = {
        Flags.FIN: "F",
        Flags.SYN: "S",
        Flags.RST: "R",
        Flags.PSH: "P",
        Flags.ACK: ".",
        Flags.URG: "U",
        Flags.ECE: "E",
        Flags.CWR: "W",
        Flags.NS: "e",
    }
    for flag, letter in letters.items():
        assert f"Flags [{letter}]" in format_packet(c2s(1, 2, flag), 0)


def test_no_flags_prints_none_and_no_seq() -> None:
    assert body(format_packet(c2s(1, 2, Flags(0)), 0)).endswith("Flags [none], win 502, length 0")


def test_syn_with_data_prints_seq_range() -> None:
    line = format_packet(c2s(5, 0, Flags.SYN, payload=b"abc"), 0)
    assert "Flags [S], seq 5:8, win 502, length 3" in line


def test_seq_range_wraps_modulo_2_32() -> None:
    line = format_packet(c2s(0xFFFFFFFE, 7, Flags.ACK, payload=b"abcdef"), 0)
    assert "seq 4294967294:4, ack 7" in line


def test_time_has_six_decimals() -> None:
    assert format_packet(HANDSHAKE_AND_DATA[0], 12.3456789).startswith("12.345679 IP ")


def test_sack_blocks_are_printed_absolute_without_relative() -> None:
    pkt = s2c(ISN_S + 1, ISN_C + 6, Flags.ACK, options=(NOP(), NOP(), Sack(((10, 20),))))
    assert "options [nop,nop,sack 1 {10:20}]" in format_packet(pkt, 0)


# --- relative numbers (tcpdump without -S) ----------------------------------------------


def test_relative_mode_follows_tcpdump_without_S() -> None:
    rel = RelativeSeq()
    lines = [body(format_packet(p, 0, relative=rel)) for p in HANDSHAKE_AND_DATA]
    tails = [line.split(": ", 1)[1] for line in lines]
    assert tails == [
        "Flags [S], seq 3053101721, win 64240, "
        "options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0",
        "Flags [S.], seq 1000, ack 3053101722, win 65160, "
        "options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0",
        "Flags [.], ack 1, win 502, length 0",
        "Flags [P.], seq 1:6, ack 1, win 502, length 5",
        "Flags [P.], seq 1:6, ack 6, win 502, options [nop,nop,TS val 5 ecr 4], length 5",
        "Flags [F.], seq 6, ack 6, win 502, length 0",
        "Flags [.], ack 7, win 502, length 0",
    ]


def test_relative_mode_makes_sack_blocks_relative_to_the_peer_isn() -> None:
    rel = RelativeSeq()
    for p in HANDSHAKE_AND_DATA[:3]:
        format_packet(p, 0, relative=rel)
    sack = Sack(((ISN_C + 10, ISN_C + 20), (ISN_C + 30, ISN_C + 40)))
    pkt = s2c(ISN_S + 1, ISN_C + 6, Flags.ACK, options=(NOP(), NOP(), sack))
    line = format_packet(pkt, 0, relative=rel)
    assert "ack 6, win 502, options [nop,nop,sack 2 {10:20}{30:40}], length 0" in line


def test_relative_mode_keeps_segments_without_ack_absolute() -> None:
    rel = RelativeSeq()
    for p in HANDSHAKE_AND_DATA[:3]:
        format_packet(p, 0, relative=rel)
    line = format_packet(c2s(ISN_C + 6, 0, Flags.RST, 0), 0, relative=rel)
    assert "Flags [R], seq 3053101727, win 0" in line


def test_relative_mode_tracks_each_connection_separately() -> None:
    rel = RelativeSeq()
    other = [
        tcp(A, B, 40001, 80, 7000, 0, Flags.SYN),
        tcp(B, A, 80, 40001, 9000, 7001, SA),
        tcp(A, B, 40001, 80, 7001, 9001, PA, payload=b"xy"),
    ]
    for p in (*HANDSHAKE_AND_DATA[:2], *other[:2]):
        format_packet(p, 0, relative=rel)
    assert "seq 1:3, ack 1," in format_packet(other[2], 0, relative=rel)
    assert "seq 1:6, ack 1," in format_packet(HANDSHAKE_AND_DATA[3], 0, relative=rel)


def test_relative_mode_restarts_on_a_new_syn_ack() -> None:
    rel = RelativeSeq()
    for p in HANDSHAKE_AND_DATA[:3]:
        format_packet(p, 0, relative=rel)
    format_packet(s2c(5000, ISN_C + 100 + 1, SA), 0, relative=rel)
    assert "seq 1:6, ack 1," in format_packet(
        c2s(ISN_C + 101, 5001, PA, payload=b"hello"), 0, relative=rel
    )


# --- checksums and verbose ----------------------------------------------------------------


def corrupt(packet: bytes, offset: int) -> bytes:
    raw = bytearray(packet)
    raw[offset] ^= 0xFF
    return bytes(raw)


def test_bad_tcp_checksum_is_noted_at_the_end() -> None:
    pkt = corrupt(HANDSHAKE_AND_DATA[2], 20 + 16)  # the TCP checksum field
    line = format_packet(pkt, 0)
    assert line.startswith("0.000000 IP 192.0.2.1.40000 > 192.0.2.2.80: Flags [.], ack 1001,")
    assert "length 0 (bad tcp cksum 0x" in line
    good = int.from_bytes(HANDSHAKE_AND_DATA[2][36:38], "big")
    assert line.endswith(f" -> 0x{good:04x})")


def test_corrupted_payload_is_a_bad_tcp_checksum() -> None:
    assert "(bad tcp cksum" in format_packet(corrupt(HANDSHAKE_AND_DATA[3], -1), 0)


def test_bad_ip_checksum_is_noted() -> None:
    line = format_packet(corrupt(HANDSHAKE_AND_DATA[2], 11), 0)
    assert "Flags [.], ack 1001" in line
    assert "(bad ip cksum 0x" in line


def test_verbose_prints_ip_header_line_and_correct_checksum() -> None:
    text = format_packet(HANDSHAKE_AND_DATA[0], 0, verbose=True)
    first, second = text.split("\n")
    assert first == (
        "0.000000 IP (tos 0x0, ttl 64, id 0, offset 0, flags [DF], proto TCP (6), length 60)"
    )
    cksum = int.from_bytes(HANDSHAKE_AND_DATA[0][36:38], "big")
    assert second.startswith("    192.0.2.1.40000 > 192.0.2.2.80: Flags [S], ")
    assert f"Flags [S], cksum 0x{cksum:04x} (correct), seq 3053101721," in second


def test_verbose_reports_incorrect_checksums_like_tcpdump_v() -> None:
    pkt = corrupt(corrupt(HANDSHAKE_AND_DATA[2], 20 + 16), 11)
    first, second = format_packet(pkt, 0, verbose=True).split("\n")
    assert ", bad cksum " in first and first.endswith("!)")
    assert "Flags [.], cksum 0x" in second and "(incorrect -> 0x" in second
    assert "bad tcp cksum" not in second


def test_verbose_shows_ecn_codepoint() -> None:
    seg = encode_tcp(TCPSegment(1, 2, 3, 4, Flags.ACK, 5), A, B)
    pkt = encode_ipv4(IPv4Packet(A, B, 6, seg, tos=3))
    assert format_packet(pkt, 0, verbose=True).startswith("0.000000 IP (tos 0x3,CE, ttl 64,")


# --- malformed packets -----------------------------------------------------------------------


def test_truncated_packet_prints_malformed_instead_of_raising() -> None:
    assert (
        format_packet(b"\x45\x00", 1.5) == "1.500000 IP truncated/malformed: ip_truncated: 2 octets"
    )


def test_non_ipv4_bytes_print_malformed() -> None:
    assert "IP truncated/malformed: ip_bad_version" in format_packet(b"\x60" + bytes(39), 0)


def test_total_length_past_the_buffer_prints_malformed() -> None:
    assert "malformed: ip_bad_total_length" in format_packet(HANDSHAKE_AND_DATA[0][:-4], 0)


@given(st.binary(max_size=120))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    line = format_packet(data, 1.0, relative=RelativeSeq(), verbose=True)
    assert line.startswith("1.000000 IP ")


@given(
    st.sampled_from(HANDSHAKE_AND_DATA),
    st.lists(st.tuples(st.integers(0, 99), st.integers(1, 255)), max_size=4),
    st.integers(0, 100),
)
def test_damaged_packets_never_raise(packet: bytes, flips: list[tuple[int, int]], cut: int) -> None:
    raw = bytearray(packet)
    for at, mask in flips:
        raw[at % len(raw)] ^= mask
    for verbose in (False, True):
        assert format_packet(bytes(raw[: len(raw) - cut]), 0, verbose=verbose).startswith(
            "0.000000"
        )


def test_broken_tcp_header_prints_transport_malformed() -> None:
    pkt = encode_ipv4(IPv4Packet(A, B, 6, b"\x00" * 10))
    assert format_packet(pkt, 0) == (
        "0.000000 IP 192.0.2.1 > 192.0.2.2: TCP truncated/malformed: tcp_truncated: 10 octets"
    )


# --- UDP, ICMP and others ---------------------------------------------------------------------

UDP_PKT = encode_ipv4(IPv4Packet(A, B, 17, encode_udp(UDPDatagram(5000, 9, b"0123456789"), A, B)))


def test_udp_line() -> None:
    assert body(format_packet(UDP_PKT, 0)) == "IP 192.0.2.1.5000 > 192.0.2.2.9: UDP, length 10"


def test_udp_bad_checksum_is_noted() -> None:
    assert "UDP, length 10 (bad udp cksum 0x" in format_packet(corrupt(UDP_PKT, -1), 0)


def icmp(src: str, dst: str, msg: ICMPMessage) -> bytes:
    return encode_ipv4(IPv4Packet(src, dst, 1, encode_icmp(msg)))


def test_icmp_echo_request_and_reply() -> None:
    request = echo_request(1, 1, b"x" * 56)
    assert body(format_packet(icmp(A, B, request), 0)) == (
        "IP 192.0.2.1 > 192.0.2.2: ICMP echo request, id 1, seq 1, length 64"
    )
    assert body(format_packet(icmp(B, A, echo_reply_for(request)), 0)) == (
        "IP 192.0.2.2 > 192.0.2.1: ICMP echo reply, id 1, seq 1, length 64"
    )


def test_icmp_port_unreachable_names_the_quoted_udp_or_tcp_port() -> None:
    assert body(format_packet(icmp(B, A, port_unreachable(UDP_PKT)), 0)) == (
        "IP 192.0.2.2 > 192.0.2.1: ICMP 192.0.2.2 udp port 9 unreachable, length 36"
    )
    tcp_unreach = icmp(B, A, port_unreachable(HANDSHAKE_AND_DATA[0]))
    assert "ICMP 192.0.2.2 tcp port 80 unreachable" in format_packet(tcp_unreach, 0)


def test_icmp_other_unreachables_and_time_exceeded() -> None:
    frag = dest_unreachable(4, UDP_PKT)
    frag.rest_of_header = 1400
    assert "ICMP 192.0.2.2 unreachable - need to frag (mtu 1400), length 36" in format_packet(
        icmp(B, A, frag), 0
    )
    assert "ICMP host 192.0.2.2 unreachable" in format_packet(
        icmp(B, A, dest_unreachable(1, UDP_PKT)), 0
    )
    exceeded = ICMPMessage(11, 0, 0, UDP_PKT[:28])
    assert "ICMP time exceeded in-transit, length 36" in format_packet(icmp(B, A, exceeded), 0)


def test_unknown_protocol_like_tcpdump() -> None:
    pkt = encode_ipv4(IPv4Packet(A, B, 99, b"abcd"))
    assert body(format_packet(pkt, 0)) == "IP 192.0.2.1 > 192.0.2.2:  ip-proto-99 4"


def test_fragments_print_first_transport_header_or_protocol() -> None:
    seg = encode_tcp(TCPSegment(1, 2, 3, 4, Flags.ACK, 5), A, B)
    first = encode_ipv4(IPv4Packet(A, B, 6, seg, ident=7, more_fragments=True))
    later = encode_ipv4(IPv4Packet(A, B, 17, b"12345678", ident=7, fragment_offset=10))
    assert (
        body(format_packet(first, 0))
        == "IP 192.0.2.1.1 > 192.0.2.2.2: Flags [.], ack 4, win 5, length 0"
    )
    assert body(format_packet(later, 0)) == "IP 192.0.2.1 > 192.0.2.2: ip-proto-17"
    assert "offset 80, flags [DF]" in format_packet(later, 0, verbose=True)
    assert "flags [+, DF]" in format_packet(first, 0, verbose=True)


# --- the observer -----------------------------------------------------------------------------


def send(t: float, pid: int, data: bytes) -> PacketEvent:
    return PacketEvent(t, "send", "client", "server", data, pid)


def drop(t: float, pid: int, data: bytes, reason: str = "loss") -> PacketEvent:
    return PacketEvent(t, "drop", "client", "server", data, pid, reason)


def deliver(t: float, pid: int, data: bytes) -> PacketEvent:
    return PacketEvent(t, "deliver", "client", "server", data, pid)


def test_printer_prints_one_line_per_send_to_a_callable() -> None:
    out: list[str] = []
    with TcpdumpPrinter(out.append) as printer:
        for i, p in enumerate(HANDSHAKE_AND_DATA[:3]):
            printer(send(i * 0.1, i, p))
            printer(deliver(i * 0.1 + 0.05, i, p))
    assert out == [format_packet(p, i * 0.1) for i, p in enumerate(HANDSHAKE_AND_DATA[:3])]


def test_printer_writes_lines_to_a_text_stream() -> None:
    stream = io.StringIO()
    printer = TcpdumpPrinter(stream, annotate_drops=False)
    printer(send(0, 1, HANDSHAKE_AND_DATA[0]))
    assert stream.getvalue() == format_packet(HANDSHAKE_AND_DATA[0], 0) + "\n"


def test_printer_annotates_a_drop_that_follows_its_send() -> None:
    out: list[str] = []
    printer = TcpdumpPrinter(out.append)
    printer(send(0.3, 7, HANDSHAKE_AND_DATA[5]))
    assert out == []  # held back until the next event
    printer(drop(0.3, 7, HANDSHAKE_AND_DATA[5]))
    printer(send(0.5, 8, HANDSHAKE_AND_DATA[5]))
    printer.flush()
    assert out == [
        format_packet(HANDSHAKE_AND_DATA[5], 0.3) + "  [dropped: loss]",
        format_packet(HANDSHAKE_AND_DATA[5], 0.5),
    ]


def test_printer_gives_a_late_drop_its_own_line() -> None:
    out: list[str] = []
    printer = TcpdumpPrinter(out.append)
    printer(send(0.0, 1, HANDSHAKE_AND_DATA[0]))
    printer(StateChange(0.0, "client", "c", "CLOSED", "SYN_SENT"))
    printer(drop(0.2, 1, HANDSHAKE_AND_DATA[0], "queue_full"))
    assert out == [
        format_packet(HANDSHAKE_AND_DATA[0], 0.0),
        format_packet(HANDSHAKE_AND_DATA[0], 0.2) + "  [dropped: queue_full]",
    ]


def test_printer_kinds_selects_events_and_ignores_the_rest() -> None:
    out: list[str] = []
    printer = TcpdumpPrinter(out.append, kinds=("deliver",), annotate_drops=False)
    printer(send(0, 1, HANDSHAKE_AND_DATA[0]))
    printer(drop(0, 1, HANDSHAKE_AND_DATA[0]))
    printer(Note(0, "client", "hello"))
    printer(deliver(0.05, 2, HANDSHAKE_AND_DATA[1]))
    assert out == [format_packet(HANDSHAKE_AND_DATA[1], 0.05)]


def test_printer_relative_mode() -> None:
    out: list[str] = []
    with TcpdumpPrinter(out.append, relative=True) as printer:
        for i, p in enumerate(HANDSHAKE_AND_DATA):
            printer(send(i, i, p))
    assert "Flags [P.], seq 1:6, ack 1," in out[3]


def test_tcpdump_lines_annotates_drops_wherever_they_come() -> None:
    events = [
        send(0, 1, HANDSHAKE_AND_DATA[0]),
        send(0.1, 2, HANDSHAKE_AND_DATA[2]),
        drop(0.2, 1, HANDSHAKE_AND_DATA[0], "targeted"),
    ]
    assert tcpdump_lines(events) == [
        format_packet(HANDSHAKE_AND_DATA[0], 0) + "  [dropped: targeted]",
        format_packet(HANDSHAKE_AND_DATA[2], 0.1),
    ]
    assert len(tcpdump_lines(events, kinds=("send", "drop"))) == 3
    assert "dropped" not in "".join(tcpdump_lines(events, annotate_drops=False))
