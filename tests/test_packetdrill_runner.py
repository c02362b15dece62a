"""Running scripts against synack: what passes, and how each kind of mismatch is reported
(packetdrill's messages, with the script and actual packet and a diff)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from synack.packetdrill import RunOptions, ScriptResult, run_file

#: A passive open against synack with Linux's default sysctls (window scale 7).
SERVER = """\
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>
+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 7>
+.1 < . 1:1(0) ack 1 win 257
+0 accept(3, ..., ...) = 4
"""
SERVER_LINES = SERVER.count("\n")


def run(tmp_path: Path, body: str, header: str = "", **opts: object) -> ScriptResult:
    path = tmp_path / "t.pkt"
    path.write_text(header + SERVER + textwrap.dedent(body))
    return run_file(path, RunOptions(**opts))  # type: ignore[arg-type]


def failure_text(result: ScriptResult) -> str:
    assert result.failure is not None, "the script was expected to fail"
    return result.failure.text


def test_passive_open_write_and_close_pass(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        """\
        +0 write(4, ..., 1000) = 1000
        +0 > P. 1:1001(1000) ack 1
        +.1 < . 1:1(0) ack 1001 win 257
        +0 close(4) = 0
        +0 > F. 1001:1001(0) ack 1
        +.1 < F. 1:1(0) ack 1002 win 257
        +0 > . 1002:1002(0) ack 2
        """,
    )
    assert result.passed, result.report()
    assert result.events == SERVER_LINES + 7
    assert abs(result.end_time - 0.3) < 1e-9


def test_wrong_option_value_is_reported_with_both_packets(tmp_path: Path) -> None:
    path = tmp_path / "t.pkt"
    path.write_text(SERVER.replace("nop,wscale 7>\n+.1", "nop,wscale 8>\n+.1"))
    text = failure_text(run_file(path))
    first, script_line, actual_line = text.splitlines()[:3]
    assert first == (
        f"{path}:6: error handling packet: bad value in outbound TCP option (kind=3): "
        "expected: wscale 8 actual: wscale 7"
    )
    assert (
        script_line
        == "script packet:  0.000000 S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 8>"
    )
    assert actual_line.startswith("actual packet:  0.000000 S. 0:0(0) ack 1 win ")
    assert (
        "diff (expected vs actual): options: expected <mss 1460,nop,nop,sackOK,nop,wscale 8>"
        in text
    )
    assert "script line 6: +0 > S. 0:0(0) ack 1" in text


def test_option_order_is_part_of_the_check(tmp_path: Path) -> None:
    path = tmp_path / "t.pkt"
    path.write_text(
        SERVER.replace(
            "<mss 1460,nop,nop,sackOK,nop,wscale 7>", "<mss 1460,sackOK,nop,nop,nop,wscale 7>"
        )
    )
    assert "error handling packet: bad outbound TCP options" in failure_text(run_file(path))


def test_ellipsis_skips_the_option_check(tmp_path: Path) -> None:
    path = tmp_path / "t.pkt"
    path.write_text(SERVER.replace("<mss 1460,nop,nop,sackOK,nop,wscale 7>", "<...>"))
    assert run_file(path).passed


def test_psh_mismatch_names_the_field_and_diffs_the_flags(tmp_path: Path) -> None:
    text = failure_text(run(tmp_path, "+0 write(4, ..., 1000) = 1000\n+0 > . 1:1001(1000) ack 1\n"))
    assert "live packet field tcp_psh: expected: 0 (0x0) vs actual: 1 (0x1)" in text
    assert "flags: expected ., actual P." in text


def test_segments_are_joined_to_match_a_larger_one_unless_strict(tmp_path: Path) -> None:
    body = "+0 write(4, ..., 3000) = 3000\n+0 > P. 1:3001(3000) ack 1\n"
    assert run(tmp_path, body).passed  # synack sends three 1000-byte segments
    strict = run(tmp_path, body, header="--strict_segments\n")
    assert "live packet payload: expected 3000 bytes vs actual 1000 bytes" in failure_text(strict)


def test_packet_sent_too_early_is_a_timing_error(tmp_path: Path) -> None:
    body = "+0 write(4, ..., 1000) = 1000\n+.1 > P. 1:1001(1000) ack 1\n"
    text = failure_text(run(tmp_path, body))
    assert (
        "timing error: expected outbound packet at 0.200000 sec but happened at "
        "0.100000 sec; tolerance 0.012500 sec"
    ) in text
    assert "time: expected 0.200000, actual 0.100000" in text
    assert run(tmp_path, body, header="--tolerance_usecs=100000\n").passed


def test_relative_range_and_star_times(tmp_path: Path) -> None:
    body = "+0 write(4, ..., 1000) = 1000\n+0~+.01 > P. 1:1001(1000) ack 1\n"
    assert run(tmp_path, body).passed
    assert run(tmp_path, "+1 write(4, ..., 1000) = 1000\n* > P. 1:1001(1000) ack 1\n").passed
    late = "+0 write(4, ..., 1000) = 1000\n+.05~+.06 > P. 1:1001(1000) ack 1\n"
    assert "in relative time range +0.050000~+0.060000 sec but happened at +0.000000 sec" in (
        failure_text(run(tmp_path, late))
    )


def test_packet_that_never_comes_times_out(tmp_path: Path) -> None:
    text = failure_text(run(tmp_path, "+0 > F. 1:1(0) ack 1\n"))
    assert f":{SERVER_LINES + 1}: error handling packet: Timed out waiting for packet" in text


def test_blocking_call_return_time_is_checked(tmp_path: Path) -> None:
    script = """\
    0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
    +0 bind(3, ..., ...) = 0
    +0 listen(3, 1) = 0
    +0...0.050 accept(3, ..., ...) = 4
    +0 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>
    +0 > S. 0:0(0) ack 1 <mss 1460,nop,wscale 7>
    +.1 < . 1:1(0) ack 1 win 257
    """
    path = tmp_path / "t.pkt"
    path.write_text(textwrap.dedent(script))
    text = failure_text(run_file(path))
    assert text.startswith(
        f"{path}:4: timing error: expected system call return at 0.050000 sec but happened "
        "at 0.100000 sec"
    )
    path.write_text(textwrap.dedent(script).replace("0...0.050", "0...0.100"))
    assert run_file(path).passed


def test_blocking_read_waits_for_data_in_virtual_time(tmp_path: Path) -> None:
    body = """\
    +0...0.5 read(4, ..., 1000) = 500
    +.5 < P. 1:501(500) ack 1 win 257
    +0 > . 1:1(0) ack 501
    """
    assert run(tmp_path, body).passed


def test_wrong_result_and_errno(tmp_path: Path) -> None:
    body = """\
    +0 shutdown(4, SHUT_WR) = 0
    +0 > F. 1:1(0) ack 1
    +0 write(4, ..., 1000) = 1000
    """
    text = failure_text(run(tmp_path, body))
    assert (
        "runtime error in write call: Expected result 1000 but got -1 with errno 32 (Broken pipe)"
    ) in text
    errno_body = body.replace("= 1000\n", "= -1 EAGAIN (Resource temporarily unavailable)\n")
    assert "Expected errno 11 (Resource temporarily unavailable) but got 32 (Broken pipe)" in (
        failure_text(run(tmp_path, errno_body))
    )
    assert run(tmp_path, body.replace("= 1000\n", "= -1 EPIPE (Broken pipe)\n")).passed


def test_nonblocking_read_says_eagain(tmp_path: Path) -> None:
    body = """\
    +0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0
    +0 fcntl(4, F_GETFL) = 0x802
    +0 read(4, ..., 1000) = -1 EAGAIN (Resource temporarily unavailable)
    """
    assert run(tmp_path, body).passed


def test_active_open_with_timestamps_maps_ts_values(tmp_path: Path) -> None:
    script = """\
    --tcp_ts_tick_usecs=1000
    0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
    +0...0.1 connect(3, ..., ...) = 0
    +0 > S 0:0(0) <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>
    +.1 < S. 0:0(0) ack 1 win 5000 <mss 1000,sackOK,TS val 700 ecr 100,nop,wscale 0>
    +0 > . 1:1(0) ack 1 <nop,nop,TS val 200 ecr 700>
    +.5 write(3, ..., 10) = 10
    +0 > P. 1:11(10) ack 1 <nop,nop,TS val {val} ecr 700>
    """
    path = tmp_path / "t.pkt"
    path.write_text(textwrap.dedent(script).replace("{val}", "700"))
    assert run_file(path).passed, run_file(path).report()
    # 12.5 % of the 0.6 s since the start: 75 ms, so 50 ticks off passes and 200 do not.
    path.write_text(textwrap.dedent(script).replace("{val}", "750"))
    assert run_file(path).passed
    path.write_text(textwrap.dedent(script).replace("{val}", "900"))
    assert "bad outbound TCP timestamp value, tolerance 75000" in failure_text(run_file(path))


def test_ts_echo_of_an_unknown_value_cannot_be_built(tmp_path: Path) -> None:
    script = """\
    0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
    +0 bind(3, ..., ...) = 0
    +0 listen(3, 1) = 0
    +0 < S 0:0(0) win 32792 <mss 1000,sackOK,TS val 100 ecr 0>
    +0 > S. 0:0(0) ack 1 <mss 1460,sackOK,TS val 100 ecr 100>
    +0 < . 1:1(0) ack 1 win 257 <nop,nop,TS val 200 ecr 555>
    """
    path = tmp_path / "t.pkt"
    path.write_text(textwrap.dedent(script))
    assert (
        "error handling packet: unable to infer live TS ecr for script TS ecr 555"
        in failure_text(run_file(path))
    )


def test_code_blocks_read_tcp_info(tmp_path: Path) -> None:
    ok = "+0 %{ assert tcpi_snd_mss == 1000 and tcpi_state == TCP_ESTABLISHED }%\n"
    assert run(tmp_path, ok).passed
    bad = "+0 %{ assert tcpi_snd_cwnd == 11, tcpi_snd_cwnd }%\n"
    text = failure_text(run(tmp_path, bad))
    assert f":{SERVER_LINES + 1}: error executing code: AssertionError: 10" in text
    missing = run(tmp_path, "+0 %{ assert tcpi_notsent_bytes == 0 }%\n")
    assert missing.failure is not None and missing.failure.kind == "unsupported"
    assert "tcpi_notsent_bytes is not provided by synack" in missing.failure.text


def test_sysctl_lines_configure_synack(tmp_path: Path) -> None:
    path = tmp_path / "t.pkt"
    header = '`sysctl -q net.ipv4.tcp_sack=0 net.ipv4.tcp_rmem="4096 87380 $((15*1024*1024))"`\n'
    path.write_text(
        header + SERVER.replace("<mss 1460,nop,nop,sackOK,nop,wscale 7>", "<mss 1460,nop,wscale 8>")
    )
    result = run_file(path)
    assert result.passed, result.report()
    frto = tmp_path / "u.pkt"
    unmodelled = "tc qdisc add dev tun0 root pfifo limit 0"
    frto.write_text(f"`sysctl -q net.ipv4.tcp_frto=2; {unmodelled}`\n" + SERVER)
    noted = run_file(frto)
    assert noted.passed
    assert any("tcp_frto=2 unsupported" in n for n in noted.notes)
    assert any(f"shell command not run: {unmodelled}" in n for n in noted.notes)


def test_so_rcvbuf_clamps_window_scale_as_linux(tmp_path: Path) -> None:
    path = tmp_path / "t.pkt"
    text = SERVER.replace(
        "+0 bind", "+0 setsockopt(3, SOL_SOCKET, SO_RCVBUF, [20000], 4) = 0\n+0 bind"
    ).replace("nop,wscale 7>\n+.1", "nop,wscale 0>\n+.1")
    path.write_text(text + "+0 getsockopt(4, SOL_SOCKET, SO_RCVBUF, [40000], [4]) = 0\n")
    assert run_file(path).passed


def test_getsockopt_value_mismatch(tmp_path: Path) -> None:
    text = failure_text(run(tmp_path, "+0 getsockopt(4, SOL_TCP, TCP_MAXSEG, [1460], [4]) = 0\n"))
    assert (
        "runtime error in getsockopt call: Bad getsockopt optval: expected: 1460 actual: 1000"
        in text
    )


def test_poll_waits_for_readable_data(tmp_path: Path) -> None:
    body = """\
    +0...0.2 poll([{fd=4, events=POLLIN, revents=POLLIN}], 1, 1000) = 1
    +.2 < P. 1:101(100) ack 1 win 257
    +0 poll([{fd=4, events=POLLIN|POLLOUT, revents=POLLIN|POLLOUT}], 1, 0) = 1
    """
    assert run(tmp_path, body).passed
    timeout = "+0...0.05 poll([{fd=4, events=POLLIN, revents=0}], 1, 50) = 0\n"
    assert run(tmp_path, timeout).passed


def test_non_fatal_packet_turns_a_mismatch_into_a_warning(tmp_path: Path) -> None:
    body = "+0 write(4, ..., 1000) = 1000\n+0 > . 1:1001(1000) ack 1\n"
    result = run(tmp_path, body, header="--non_fatal=packet\n")
    assert result.passed
    assert len(result.warnings) == 1 and "tcp_psh" in result.warnings[0]


def test_first_event_must_be_at_time_zero(tmp_path: Path) -> None:
    path = tmp_path / "t.pkt"
    path.write_text("0.1 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n")
    assert "first event should be at time 0" in failure_text(run_file(path))


def test_unsupported_call_stops_with_the_reason(tmp_path: Path) -> None:
    result = run(tmp_path, "+0 epoll_create(1) = 5\n")
    assert result.failure is not None and result.failure.kind == "unsupported"
    assert "unsupported: system call epoll_create() is not supported" in result.failure.text


def test_listener_answers_a_bare_ack_with_a_reset(tmp_path: Path) -> None:
    script = """\
    0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
    +0 bind(3, ..., ...) = 0
    +0 listen(3, 1) = 0
    +0 < . 100:100(0) ack 555 win 1000
    +0 > R 555:555(0) win 0
    """
    path = tmp_path / "t.pkt"
    path.write_text(textwrap.dedent(script))
    assert run_file(path).passed


def test_verbose_run_records_every_packet(tmp_path: Path) -> None:
    result = run(tmp_path, "", verbose=True)
    assert [line.split(" packet:")[0] for line in result.trace] == [
        "inbound injected",
        "outbound sent",
        "inbound injected",
    ]


def test_tcp_info_of_a_closed_socket_in_time_wait(tmp_path: Path) -> None:
    """After close() the connection waits out 2 MSL as a record; a code block still
    reads its TCP_INFO (state TIME_WAIT), and a retransmitted FIN is acknowledged."""
    result = run(
        tmp_path,
        """\
        +0 close(4) = 0
        +0 > F. 1:1(0) ack 1
        +.1 < F. 1:1(0) ack 2 win 257
        +0 > . 2:2(0) ack 2
        +0 %{ assert tcpi_state == TCP_TIME_WAIT, tcpi_state }%
        +1 < F. 1:1(0) ack 2 win 257
        +0 > . 2:2(0) ack 2
        """,
    )
    assert result.passed, result.report()


def test_names_a_code_block_assigns_are_seen_by_the_later_blocks(tmp_path: Path) -> None:
    """packetdrill runs a script's blocks as one Python program (cubic-bulk-166k sets
    ``cwnd = 58`` in one block and adds to it in the next)."""
    result = run(
        tmp_path,
        """\
        +0 %{ cwnd = tcpi_snd_cwnd }%
        +0 write(4, ..., 1000) = 1000
        +0 > P. 1:1001(1000) ack 1
        +.1 < . 1:1(0) ack 1001 win 257
        +0 %{ assert tcpi_snd_cwnd == cwnd == 10, (tcpi_snd_cwnd, cwnd) }%
        """,
    )
    assert result.failure is None, failure_text(result)
    undefined = run(tmp_path, "+0 %{ assert later == 1 }%\n+0 %{ later = 1 }%\n")
    assert "NameError" in failure_text(undefined)  # in order, as a program runs
