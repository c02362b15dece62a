"""The packetdrill parser: every form of the language, and parser.y's semantic errors."""

from __future__ import annotations

import pytest

from synack.packetdrill import script as s
from synack.packetdrill.errors import ParseError
from synack.packetdrill.parser import parse_script
from synack.packetdrill.tcpoptions import format_tcp_options
from synack.wire.options import (
    EOL,
    MSS,
    NOP,
    Sack,
    SackPermitted,
    Timestamps,
    UnknownOption,
    WindowScale,
)
from synack.wire.tcp import Flags


def one(line: str) -> s.Event:
    """Parse a script whose only event is ``line``."""
    script = parse_script(line)
    assert len(script.events) == 1
    return script.events[0]


def packet(line: str) -> s.PacketSpec:
    action = one(line).action
    assert isinstance(action, s.PacketSpec)
    return action


def syscall(line: str) -> s.SyscallSpec:
    action = one(line).action
    assert isinstance(action, s.SyscallSpec)
    return action


def error_of(text: str) -> str:
    with pytest.raises(ParseError) as info:
        parse_script(text, "x.pkt")
    return str(info.value)


# --- header, commands, code ----------------------------------------------------------------


def test_header_options_init_and_cleanup_commands() -> None:
    script = parse_script(
        "--tolerance_usecs=10000\n--strict_segments\n--remote_ip=192.0.2.1\n"
        "`../common/defaults.sh`\n0 close(3) = 0\n`/tmp/sysctl_restore_${PPID}.sh`\n"
    )
    assert script.options == [
        ("tolerance_usecs", "10000"),
        ("strict_segments", None),
        ("remote_ip", "192.0.2.1"),
    ]
    assert script.init_command == s.CommandSpec("../common/defaults.sh")
    assert script.cleanup_command == s.CommandSpec("/tmp/sysctl_restore_${PPID}.sh")
    assert script.init_line == 4 and script.cleanup_line == 6


def test_define_replaces_words_after_the_header() -> None:
    script = parse_script(
        '--define=PORT=8080\n--define=NAME="cubic"\n'
        "0 setsockopt(3, SOL_TCP, TCP_CONGESTION, NAME, PORT) = 0\n"
    )
    action = script.events[0].action
    assert isinstance(action, s.SyscallSpec)
    assert action.args[3] == s.Str("cubic")
    assert action.args[4] == s.Int(8080)


def test_timed_command_and_code_events() -> None:
    script = parse_script("0 `sysctl -q net.ipv4.tcp_sack=0`\n+1 %{ assert tcpi_rto > 0 }%\n")
    assert script.events[0].action == s.CommandSpec("sysctl -q net.ipv4.tcp_sack=0")
    assert script.events[1].action == s.CodeSpec("assert tcpi_rto > 0")
    assert script.events[1].line == 2


# --- times -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "time"),
    [
        ("0.100 > . 1:1(0) ack 1", s.EventTime(s.TimeType.ABSOLUTE, 100_000)),
        ("+.1 > . 1:1(0) ack 1", s.EventTime(s.TimeType.RELATIVE, 100_000)),
        ("2 > . 1:1(0) ack 1", s.EventTime(s.TimeType.ABSOLUTE, 2_000_000)),
        ("* > . 1:1(0) ack 1", s.EventTime(s.TimeType.ANY)),
        ("0.1~0.2 > . 1:1(0) ack 1", s.EventTime(s.TimeType.ABSOLUTE_RANGE, 100_000, 200_000)),
        ("+.1~+.105 > . 1:1(0) ack 1", s.EventTime(s.TimeType.RELATIVE_RANGE, 100_000, 105_000)),
    ],
)
def test_event_times(text: str, time: s.EventTime) -> None:
    assert one(text).time == time


def test_times_are_exact_microseconds() -> None:
    assert one("0.011 close(3) = 0").time.usecs == 11_000
    assert one("+0.000001 close(3) = 0").time.usecs == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("* < . 1:1(0) ack 1 win 1", "event time <star> can only be used with outbound packets"),
        ("0.1~0.2 close(3) = 0", "event time range can only be used with outbound packets"),
        ("0.2~0.1 > . 1:1(0) ack 1", "time range is backwards"),
        ("+.1~.2 > . 1:1(0) ack 1", "syntax error at '.2'"),
    ],
)
def test_time_semantic_errors(text: str, message: str) -> None:
    assert message in error_of(text)


# --- packets ---------------------------------------------------------------------------------


def test_inbound_syn_with_options_in_order() -> None:
    p = packet("+0 < S 0:0(0) win 32792 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>")
    assert p.inbound and p.flags == Flags.SYN and p.window == 32792
    assert p.options == (MSS(1460), SackPermitted(), Timestamps(100, 0), NOP(), WindowScale(7))


def test_outbound_packet_fields() -> None:
    p = packet("+0 > P. 1:2001(2000) ack 1 win 257 urg 3")
    assert p.flags == Flags.PSH | Flags.ACK
    assert (p.seq, p.payload_len, p.end_seq, p.ack, p.window, p.urg) == (1, 2000, 2001, 1, 257, 3)
    assert p.options == ()  # no option list: the packet must carry none


def test_outbound_window_and_options_may_be_left_unchecked() -> None:
    p = packet("+0 > S. 0:0(0) ack 1 <...>")
    assert p.window is None and p.options is None


@pytest.mark.parametrize(
    ("flags", "bits"),
    [
        ("S", Flags.SYN),
        ("S.", Flags.SYN | Flags.ACK),
        ("F.", Flags.FIN | Flags.ACK),
        ("FP.", Flags.FIN | Flags.PSH | Flags.ACK),
        ("R", Flags.RST),
        ("R.", Flags.RST | Flags.ACK),
        (".", Flags.ACK),
        ("-", Flags(0)),
        ("SEW", Flags.SYN | Flags.ECE | Flags.CWR),
        ("U.", Flags.URG | Flags.ACK),
        ("P.A", None),
    ],
)
def test_flags(flags: str, bits: Flags | None) -> None:
    line = f"+0 > {flags} 0:0(0)"
    if bits is None:
        assert "Invalid TCP flag" in error_of(line) or "syntax error" in error_of(line)
        return
    assert packet(line).flags == bits


def test_accecn_ace_digit_sets_ece_cwr_ae() -> None:
    p = packet("+0 > S.5 0:0(0) ack 1")
    assert p.ace == 5
    assert p.flags == Flags.SYN | Flags.ACK | Flags.ECE | Flags.NS


def test_invalid_and_conflicting_flags() -> None:
    assert "Invalid TCP flag: 'X'" in error_of("+0 > SX 0:0(0)")
    assert "Conflicting TCP flag" in error_of("+0 > SE.3 0:0(0)")


def test_ports_and_ip_info() -> None:
    p = packet("+0 < [ect0] 12345>8080 . 1:1(0) ack 1 win 10")
    assert (p.src_port, p.dst_port) == (12345, 8080)
    assert (p.tos_check, p.tos_value) == ("ecn", 2)
    q = packet("+0 > (tos 0x10) . 1:1(0) ack 1")
    assert (q.tos_check, q.tos_value) == ("tos", 0x10)
    r = packet("+0 > (ttl 64) . 1:1(0) ack 1")
    assert r.ttl == 64
    assert "[ect01] can only be used with outbound" in error_of("+0 < [ect01] . 1:1(0) win 1")


def test_sack_blocks_md5_fastopen_and_accecn_options() -> None:
    p = packet("+0 > . 1:1(0) ack 1 <nop,nop,sack 7001:8001 4001:5001 1001:3001>")
    assert p.options == (NOP(), NOP(), Sack(((7001, 8001), (4001, 5001), (1001, 3001))))
    m = packet("+0 > . 1:1(0) ack 1 <nop,nop,md5 00112233445566778899aabbccddeeff>")
    assert m.options == (
        NOP(),
        NOP(),
        UnknownOption(19, bytes.fromhex("00112233445566778899aabbccddeeff")),
    )
    long = "+0 > . 1:1(0) ack 1 <nop,nop,sack 1:2 3:4 5:6 7:8,nop,nop,md5 00>"
    assert "TCP option list too long" in error_of(long)
    q = packet("+0 > S. 0:0(0) ack 1 <mss 1460,FO abcd1234,nop,nop,FOEXP,nop,nop,eol,nop>")
    assert q.options is not None
    assert format_tcp_options(q.options) == "mss 1460,FO abcd1234,nop,nop,FOEXP,nop,nop,eol,nop"
    r = packet("+0 > . 1:1(0) ack 1 <ECN e1b 1 ceb 2 e0b 3,nop>")
    assert r.options == (UnknownOption(174, bytes.fromhex("000001000002000003")), NOP())
    assert EOL() in q.options


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("+0 < . 1:1(0) ack 1", "window must be specified for inbound packets"),
        ("+0 < . 1:1(0) ack 1 win 1 <...>", "<...> for TCP options can only be used"),
        ("+0 > . 1:1001(100) ack 1", "inconsistent TCP sequence numbers and payload size"),
        ("+0 > S 0:0(0) <mss 1460,nop>", "TCP options are not padded correctly"),
        ("+0 > S 0:0(0) <mss 70000,nop,nop,nop,nop>", "mss value out of range"),
        ("+0 > . 1:1(0) ack 4294967296", "TCP ack sequence number out of range"),
        ("+0 > . 1:1(100000) ack 1", "out of range"),
        ("+0 < ipv4 1.2.3.4 > 5.6.7.8: . 1:1(0) win 1", "encapsulated packets are not"),
    ],
)
def test_packet_semantic_errors(text: str, message: str) -> None:
    assert message in error_of(text)


def test_udp_and_icmp_packets() -> None:
    u = packet("+0 < udp (100)")
    assert (u.protocol, u.payload_len) == ("udp", 100)
    i = packet("+0 < icmp unreachable frag_needed mtu 1200 [1:1461(1460)]")
    assert (i.protocol, i.icmp_type, i.icmp_code, i.icmp_mtu) == (
        "icmp",
        "unreachable",
        "frag_needed",
        1200,
    )
    assert i.echoed == ("tcp", 1, 1460)


# --- system calls ----------------------------------------------------------------------------


def test_syscall_result_errno_and_note() -> None:
    call = syscall("+0 write(4, ..., 1000) = -1 EPIPE (Broken pipe)")
    assert call.name == "write"
    assert call.args == (s.Int(4), s.Ellipsis_(), s.Int(1000))
    assert call.result == s.Int(-1)
    assert (call.errno, call.note) == ("EPIPE", "Broken pipe")
    assert not call.blocking


def test_blocking_syscall_has_an_end_time() -> None:
    event = one("+.1...0.200 read(4, ..., 2000) = 2000")
    assert isinstance(event.action, s.SyscallSpec)
    assert event.time == s.EventTime(s.TimeType.RELATIVE, 100_000)
    assert event.action.end_usecs == 200_000 and event.action.blocking


def test_syscall_argument_forms() -> None:
    call = syscall(
        "0 poll([{fd=4, events=POLLIN|POLLOUT, revents=POLLOUT}, {fd=5, events=0}], 2, -1) = 1"
    )
    fds = call.args[0]
    assert isinstance(fds, s.ListExpr) and len(fds.items) == 2
    first = fds.items[0]
    assert isinstance(first, s.Struct)
    assert first.field("events") == s.BinOp("|", s.Word("POLLIN"), s.Word("POLLOUT"))
    assert first.field("revents") == s.Word("POLLOUT")

    call = syscall(
        "0 connect(3, {sa_family=AF_INET, sin_port=htons(8080), "
        'sin_addr=inet_addr("192.0.2.1")}, 16) = 0'
    )
    addr = call.args[1]
    assert isinstance(addr, s.Struct)
    assert addr.field("sin_port") == s.Call("htons", (s.Int(8080),))
    assert addr.field("sin_addr") == s.Call("inet_addr", (s.Str("192.0.2.1"),))

    call = syscall("0 setsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0")
    assert call.args[3] == s.Struct((s.Field("onoff", s.Int(1)), s.Field("linger", s.Int(0))))

    call = syscall("0 writev(4, [{..., 100}, {..., 200}], 2) = 300")
    assert call.args[1] == s.ListExpr(
        (s.Struct((s.Ellipsis_(), s.Int(100))), s.Struct((s.Ellipsis_(), s.Int(200))))
    )

    call = syscall("0 sendmsg(4, {msg_name(...)=..., msg_iov(1)=[{..., 50}], msg_flags=0}, 0) = 50")
    msg = call.args[1]
    assert isinstance(msg, s.Struct)
    assert msg.field("msg_iov") == s.ListExpr((s.Struct((s.Ellipsis_(), s.Int(50))),))

    call = syscall('0 write(4, "ab" "cd"..., 0x10) = 16')
    assert call.args[1] == s.Str("abcd", ellipsis=True)
    assert call.args[2] == s.Int(16, hex=True)

    call = syscall("0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0")
    assert call.args[2] == s.BinOp("|", s.Word("O_RDWR"), s.Word("O_NONBLOCK"))

    call = syscall("0 getsockopt(3, SOL_TCP, TCP_MAXSEG, [1100], [4]) = 0")
    assert call.args[3] == s.ListExpr((s.Int(1100),)) and call.args[4] == s.ListExpr((s.Int(4),))

    assert syscall("0 foo() = 0").args == ()


def test_syntax_errors_name_the_line_and_token() -> None:
    msg = error_of("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) 0\n")
    assert msg.startswith("x.pkt:2: syntax error at '0'")


def test_a_script_needs_an_event() -> None:
    assert "syntax error at end of file" in error_of("--mss=1000\n")
