"""The sequence diagram: render_diagram and DiagramRecorder."""

from __future__ import annotations

from synack.trace.diagram import DiagramRecorder, packet_label, render_diagram
from synack.trace.events import Note, PacketEvent, StateChange, TraceEvent
from synack.wire.icmp import echo_reply_for, echo_request, encode_icmp, port_unreachable
from synack.wire.ip import IPv4Packet, encode_ipv4
from synack.wire.options import MSS, NOP, Sack, SackPermitted, TCPOption, Timestamps, WindowScale
from synack.wire.tcp import Flags, TCPSegment, encode_tcp
from synack.wire.udp import UDPDatagram, encode_udp

IPS = {"client": "192.0.2.1", "server": "192.0.2.2", "other": "192.0.2.3"}
PORTS = {"client": 40000, "server": 80, "other": 5555}
C, S = 3053101721, 1000
SA, PA, FA = Flags.SYN | Flags.ACK, Flags.PSH | Flags.ACK, Flags.FIN | Flags.ACK
SYN_OPTS: tuple[TCPOption, ...] = (
    MSS(1460),
    SackPermitted(),
    Timestamps(1, 0),
    NOP(),
    WindowScale(7),
)


def tcp(
    src: str,
    dst: str,
    seq: int,
    ack: int,
    flags: Flags,
    payload: bytes = b"",
    options: tuple[TCPOption, ...] = (),
) -> bytes:
    a, b = IPS[src], IPS[dst]
    seg = TCPSegment(PORTS[src], PORTS[dst], seq, ack, flags, 502, options=options, payload=payload)
    return encode_ipv4(IPv4Packet(a, b, 6, encode_tcp(seg, a, b)))


class Script:
    """Builds the event list a simulation with a 50 ms link would emit."""

    def __init__(self) -> None:
        self.events: list[TraceEvent] = []
        self._pid = 0

    def send(self, t: float, src: str, dst: str, data: bytes, drop: str = "") -> None:
        self._pid += 1
        self.events.append(PacketEvent(t, "send", src, dst, data, self._pid))
        if drop:
            self.events.append(PacketEvent(t, "drop", src, dst, data, self._pid, drop))
        else:
            self.events.append(PacketEvent(t + 0.05, "deliver", src, dst, data, self._pid))

    def state(self, t: float, host: str, old: str, new: str) -> None:
        self.events.append(StateChange(t, host, f"{host} conn", old, new))


def handshake_data_and_lost_fin() -> list[TraceEvent]:
    s = Script()
    s.state(0.0, "client", "CLOSED", "SYN_SENT")
    s.send(0.0, "client", "server", tcp("client", "server", C, 0, Flags.SYN, options=SYN_OPTS))
    s.state(0.05, "server", "LISTEN", "SYN_RECEIVED")
    s.send(0.05, "server", "client", tcp("server", "client", S, C + 1, SA, options=SYN_OPTS))
    s.state(0.1, "client", "SYN_SENT", "ESTABLISHED")
    s.send(0.1, "client", "server", tcp("client", "server", C + 1, S + 1, Flags.ACK))
    s.send(0.1, "client", "server", tcp("client", "server", C + 1, S + 1, PA, b"hello"))
    s.state(0.15, "server", "SYN_RECEIVED", "ESTABLISHED")
    s.send(0.15, "server", "client", tcp("server", "client", S + 1, C + 6, PA, b"world"))
    s.state(0.3, "client", "ESTABLISHED", "FIN_WAIT_1")
    s.send(0.3, "client", "server", tcp("client", "server", C + 6, S + 6, FA), drop="loss")
    s.send(0.5, "client", "server", tcp("client", "server", C + 6, S + 6, FA))
    s.state(0.55, "server", "ESTABLISHED", "CLOSE_WAIT")
    s.send(0.55, "server", "client", tcp("server", "client", S + 6, C + 7, Flags.ACK))
    return s.events


EVENTS = handshake_data_and_lost_fin()
EXPECTED = """\
 time  client                                               server
       CLOSED      |                                      | LISTEN
0.000  SYN_SENT    |---- SYN seq=0 ---------------------->|
0.050              |<--- SYN,ACK seq=0 ack=1 -------------| SYN_RECEIVED
0.100  ESTABLISHED |---- ACK seq=1 ack=1 ---------------->|
0.100              |---- PSH,ACK seq=1:6 ack=1 len=5 ---->|
0.150              |<--- PSH,ACK seq=1:6 ack=6 len=5 -----| ESTABLISHED
0.300  FIN_WAIT_1  |---- FIN,ACK seq=6 ack=6 ---X (loss)  |
0.500              |---- FIN,ACK seq=6 ack=6 ------------>|
0.550              |<--- ACK seq=6 ack=7 -----------------| CLOSE_WAIT
"""


def arrow_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if "---" in line]


def test_renders_the_expected_diagram() -> None:
    assert render_diagram(EVENTS, "client", "server") == EXPECTED


def test_one_arrow_per_sent_packet_in_the_right_direction() -> None:
    arrows = arrow_lines(render_diagram(EVENTS, "client", "server"))
    assert len(arrows) == 8
    rightward = [a for a in arrows if "|----" in a]
    leftward = [a for a in arrows if "|<---" in a]
    assert len(rightward) == 5 and len(leftward) == 3
    assert sum(a.endswith("->|") for a in rightward) == 4  # the lost one has no head


def test_a_dropped_packet_ends_in_an_x_midway_with_the_reason() -> None:
    (lost,) = [a for a in arrow_lines(render_diagram(EVENTS, "client", "server")) if "X" in a]
    assert "FIN,ACK seq=6 ack=6 ---X (loss)" in lost
    first_bar, last_bar = lost.index("|"), lost.rindex("|")
    assert first_bar < lost.index("X") < last_bar
    assert lost[lost.index("X") + 1 : last_bar].strip() == "(loss)"


def test_states_are_written_beside_their_column() -> None:
    lines = render_diagram(EVENTS, "client", "server").splitlines()
    right = [line[line.rindex("|") + 1 :].strip() for line in lines[1:]]
    left = [line[len("0.000  ") : line.index("|")].strip() for line in lines[1:]]
    assert [r for r in right if r] == ["LISTEN", "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT"]
    assert [x for x in left if x] == ["CLOSED", "SYN_SENT", "ESTABLISHED", "FIN_WAIT_1"]


def test_columns_line_up_and_fit_the_width() -> None:
    text = render_diagram(EVENTS, "client", "server", width=72)
    body = text.splitlines()[1:]
    assert len({line.index("|") for line in body}) == 1
    assert len({line.rindex("|") for line in body}) == 1
    assert max(len(line) for line in text.splitlines()) <= 72


def test_wider_diagram_stretches_the_arrows() -> None:
    narrow = render_diagram(EVENTS, "client", "server", width=72).splitlines()
    wide = render_diagram(EVENTS, "client", "server", width=100).splitlines()
    assert len(wide[2]) == len(narrow[2]) + 28
    assert wide[2].endswith("->|")


def test_long_labels_widen_the_diagram_instead_of_being_cut() -> None:
    text = render_diagram(EVENTS, "client", "server", width=20)
    assert "PSH,ACK seq=1:6 ack=1 len=5" in text
    assert "(loss)" in text


def test_absolute_numbers_on_request() -> None:
    text = render_diagram(EVENTS, "client", "server", relative=False)
    assert f"SYN seq={C} " in text
    assert f"SYN,ACK seq={S} ack={C + 1} " in text
    assert f"PSH,ACK seq={C + 1}:{C + 6} ack={S + 1} len=5" in text


def test_window_option_adds_win() -> None:
    assert "SYN seq=0 win=502 -" in render_diagram(EVENTS, "client", "server", window=True)


def test_unicode_uses_box_drawing() -> None:
    text = render_diagram(EVENTS, "client", "server", unicode=True)
    assert "│──── SYN seq=0 " in text and "─▶│" in text and "│◀─── SYN,ACK" in text
    assert "\u2573 (loss)" in text
    assert text.count("\n") == EXPECTED.count("\n")
    assert all("|" not in line and "->" not in line for line in text.splitlines())


def test_swapping_sides_mirrors_the_arrows() -> None:
    text = render_diagram(EVENTS, "server", "client")
    assert "|<--- SYN seq=0 " in text
    assert "(loss) X--- FIN,ACK seq=6 ack=6 ----|" in text
    assert text.splitlines()[1].split() == ["LISTEN", "|", "|", "CLOSED"]


def test_lost_packet_from_the_right_ends_on_the_left_half() -> None:
    s = Script()
    s.send(1.0, "server", "client", tcp("server", "client", S, C + 1, SA), drop="queue_full")
    (line,) = arrow_lines(render_diagram(s.events, "client", "server"))
    assert "(queue_full) X--- SYN,ACK seq=0 ack=1 ----|" in line
    assert line.index("X") - line.index("|") <= (line.rindex("|") - line.index("|")) // 2 + 1


def test_packets_of_other_hosts_and_notes_are_left_out() -> None:
    s = Script()
    s.send(0.0, "other", "server", tcp("other", "server", 1, 0, Flags.SYN))
    s.events.append(Note(0.0, "server", "hello"))
    s.state(0.0, "other", "CLOSED", "SYN_SENT")
    s.send(0.1, "client", "server", tcp("client", "server", 5, 0, Flags.SYN))
    text = render_diagram(s.events, "client", "server")
    assert len(arrow_lines(text)) == 1
    assert "hello" not in text and "SYN_SENT" not in text


def test_without_state_changes_there_is_no_initial_state_row() -> None:
    s = Script()
    s.send(0.0, "client", "server", tcp("client", "server", 5, 0, Flags.SYN))
    lines = render_diagram(s.events, "client", "server").splitlines()
    assert len(lines) == 2 and lines[1].startswith("0.000")


def test_non_tcp_packets_get_short_labels() -> None:
    a, b = IPS["client"], IPS["server"]
    udp = encode_ipv4(IPv4Packet(a, b, 17, encode_udp(UDPDatagram(5000, 53, b"q" * 12), a, b)))
    request = echo_request(7, 3, b"x" * 56)
    ping = encode_ipv4(IPv4Packet(a, b, 1, encode_icmp(request)))
    pong = encode_ipv4(IPv4Packet(b, a, 1, encode_icmp(echo_reply_for(request))))
    unreach = encode_ipv4(IPv4Packet(b, a, 1, encode_icmp(port_unreachable(udp))))
    assert packet_label(udp) == "UDP 5000>53 len=12"
    assert packet_label(ping) == "ICMP echo request id=7 seq=3"
    assert packet_label(pong) == "ICMP echo reply id=7 seq=3"
    assert packet_label(unreach) == "ICMP port unreachable"
    assert packet_label(encode_ipv4(IPv4Packet(a, b, 99, b"zz"))) == "IP proto=99 len=2"
    assert packet_label(b"\x45\x00") == "malformed (ip_truncated)"
    s = Script()
    s.send(0.0, "client", "server", udp)
    s.send(0.1, "server", "client", unreach)
    text = render_diagram(s.events, "client", "server")
    assert "|---- UDP 5000>53 len=12 -" in text and "|<--- ICMP port unreachable -" in text


def test_tcp_label_details_sack_urgent_and_no_flags() -> None:
    sack = Sack(((C + 10, C + 20),))
    assert packet_label(tcp("server", "client", S, C, Flags.ACK, options=(sack,))) == (
        f"ACK seq={S} ack={C} sack={C + 10}:{C + 20}"
    )
    urgent = TCPSegment(1, 2, 3, 4, Flags.URG | Flags.ACK, 5, urgent=9, payload=b"!")
    raw = encode_ipv4(
        IPv4Packet("192.0.2.1", "192.0.2.2", 6, encode_tcp(urgent, "192.0.2.1", "192.0.2.2"))
    )
    assert packet_label(raw) == "ACK,URG seq=3:4 ack=4 urg=9 len=1"
    assert packet_label(tcp("client", "server", 3, 0, Flags(0))) == "none seq=3"


def test_relative_sack_blocks_use_the_peer_isn() -> None:
    sack = Sack(((C + 6, C + 11),))
    data = tcp("server", "client", S + 1, C + 1, Flags.ACK, options=(sack,))
    events = [*EVENTS[:6], PacketEvent(0.2, "send", "server", "client", data, 99)]
    assert "ACK seq=1 ack=1 sack=6:11" in render_diagram(events, "client", "server")


def test_corrupted_and_duplicated_deliveries_are_marked() -> None:
    data = tcp("client", "server", C, 0, Flags.SYN)
    bad = data[:-1] + bytes([data[-1] ^ 1])
    events: list[TraceEvent] = [
        PacketEvent(0.0, "send", "client", "server", data, 1),
        PacketEvent(0.05, "deliver", "client", "server", bad, 1),
        PacketEvent(1.0, "send", "client", "server", data, 2),
        PacketEvent(1.05, "deliver", "client", "server", data, 2),
        PacketEvent(1.06, "deliver", "client", "server", data, 2),
    ]
    arrows = arrow_lines(render_diagram(events, "client", "server"))
    assert "SYN seq=0 (corrupted) -" in arrows[0]
    assert "SYN seq=0 (x2) -" in arrows[1]


def test_a_state_change_at_a_later_time_gets_its_own_row() -> None:
    lines = render_diagram(EVENTS, "client", "server").splitlines()
    assert lines[6].startswith("0.150") and lines[6].endswith("| ESTABLISHED")


def test_recorder_collects_events_and_renders_the_same_diagram() -> None:
    rec = DiagramRecorder("client", "server", unicode=True)
    for e in EVENTS:
        rec(e)
    assert rec.events == EVENTS
    assert rec.render() == render_diagram(EVENTS, "client", "server", unicode=True)
    assert str(rec) == rec.render()


def test_a_state_change_after_a_send_at_the_same_time_gets_its_own_row() -> None:
    s = Script()
    s.state(0.3, "client", "ESTABLISHED", "FIN_WAIT_1")
    s.send(0.3, "client", "server", tcp("client", "server", 6, 6, FA))
    s.state(0.3, "server", "ESTABLISHED", "CLOSE_WAIT")
    lines = render_diagram(s.events, "client", "server", relative=False).splitlines()
    assert lines[2].startswith("0.300  FIN_WAIT_1") and lines[2].endswith("->|")
    assert lines[3].startswith("0.300 ") and lines[3].endswith("| CLOSE_WAIT")
