"""TCP_USER_TIMEOUT (RFC 5482) with Linux's semantics (net/ipv4/tcp_timer.c):
retransmissions, SYN retries, zero-window probes and keepalive give up after the user
timeout instead of their counts, and the retransmission timer is clamped to it."""

from __future__ import annotations

import errno
import socket as pysocket
from pathlib import Path

import pytest

from synack.api.runtime import SimRuntime
from synack.api.socket import Socket, socket
from synack.errors import UsageError
from synack.link.impairment import ImpairmentConfig
from synack.packetdrill import run_file
from synack.scenarios.testbed import Testbed
from synack.tcp.config import TCPConfig
from synack.tcp.states import State
from synack.wire.tcp import Flags
from tcp_harness import A_ADDR, B_ADDR, Peer, handshake, seg
from test_packetdrill_runner import SERVER

A, R = Flags.ACK, Flags.RST


def _expire_until_closed(p: Peer) -> tuple[list[float], float]:
    """Run p's timers while it is established: the times at which it sent data, and
    the time at which it gave up."""
    sent: list[float] = []
    end = 0.0
    while p.state is State.ESTABLISHED:
        t = p.conn.get_timer()
        assert t is not None
        end = t
        if any(s.payload for s in p.timer(t)):
            sent.append(t)
    return sent, end


def test_off_by_default() -> None:
    assert TCPConfig().user_timeout == 0.0  # Linux: icsk_user_timeout 0


def test_unacknowledged_data_times_out_at_the_user_timeout_not_at_retries2() -> None:
    """RTOs on a 100 ms path: 300 ms, then doubling.  The clock starts at the first
    retransmission (Linux retrans_stamp); the user timeout, not retries2, ends it."""
    a, _b = handshake(rtt=0.1, sack=False, retries2=2, user_timeout=5.0)
    a.conn.send(b"x" * 100, 1.0)
    a.flush(1.0)
    sent, end = _expire_until_closed(a)
    assert sent == pytest.approx([1.3, 1.9, 3.1, 5.5])  # four, though retries2 = 2
    assert end == pytest.approx(1.3 + 5.0)
    assert a.errors() == [errno.ETIMEDOUT]
    assert a.state is State.CLOSED


def test_the_rto_is_clamped_so_that_the_last_expiry_is_at_the_user_timeout() -> None:
    """Linux tcp_clamp_rto_to_user_timeout: after the retransmission at 5.5 s the
    backed-off RTO (4.8 s) would fire at 10.3 s; it fires at 1.3 + 5 = 6.3 s."""
    a, _b = handshake(rtt=0.1, sack=False, user_timeout=5.0)
    a.conn.send(b"x" * 100, 1.0)
    a.flush(1.0)
    for expected in (1.3, 1.9, 3.1, 5.5):
        t = a.conn.get_timer()
        assert t is not None and t == pytest.approx(expected)
        assert a.timer(t)  # a retransmission
    t = a.conn.get_timer()
    assert t is not None and t == pytest.approx(6.3)
    assert a.conn.info()["rto"] == pytest.approx(4.8)  # the RTO itself is not changed
    assert a.timer(t) == []  # no retransmission: the connection is aborted
    assert a.errors() == [errno.ETIMEDOUT] and a.state is State.CLOSED


def test_a_user_timeout_shorter_than_the_rto_ends_right_after_the_first_retransmission() -> None:
    a, _b = handshake(rtt=0.1, sack=False, user_timeout=0.1)
    a.conn.send(b"x" * 100, 1.0)
    a.flush(1.0)
    sent, end = _expire_until_closed(a)
    assert sent == pytest.approx([1.3])  # the first expiry never gives up (Linux)
    assert end == pytest.approx(1.4)  # clamped: 100 ms after the retransmission
    assert a.errors() == [errno.ETIMEDOUT]


def test_a_tail_loss_probe_does_not_start_the_clock() -> None:
    """With SACK a loss probe goes first (Linux tcp_send_loss_probe, which leaves
    retrans_stamp alone): the clock starts at the RTO's retransmission."""
    a, _b = handshake(rtt=0.1, user_timeout=5.0)
    a.conn.send(b"x" * 100, 1.0)
    a.flush(1.0)
    sent, end = _expire_until_closed(a)
    assert sent == pytest.approx([1.3, 1.6, 2.2, 3.4, 5.8])  # TLP, then RTOs
    assert a.conn.counters["TCPLossProbes"] == 1
    assert end == pytest.approx(1.6 + 5.0)
    assert a.errors() == [errno.ETIMEDOUT]


def test_without_a_user_timeout_retries2_still_decides() -> None:
    a, _b = handshake(rtt=0.1, sack=False, retries2=2)
    a.conn.send(b"x" * 100, 1.0)
    a.flush(1.0)
    sent, end = _expire_until_closed(a)
    assert sent == pytest.approx([1.3, 1.9])
    assert end == pytest.approx(3.1)  # the third expiry: retries2 reached
    assert a.errors() == [errno.ETIMEDOUT]


def test_progress_restarts_the_clock() -> None:
    """An ACK of the retransmission ends the loss episode: the next loss gets the
    whole user timeout again."""
    a, b = handshake(rtt=0.1, sack=False, user_timeout=2.0)
    a.conn.send(b"x" * 100, 1.0)
    a.flush(1.0)
    (again,) = a.timer(1.3)
    for ack in b.recv_ack(again, 1.35):
        a.recv_segment(ack, 1.4)
    assert a.conn.snd_una == a.conn.snd_nxt
    a.conn.send(b"y" * 100, 10.0)
    a.flush(10.0)
    sent, end = _expire_until_closed(a)
    assert sent[0] > 10.0  # the new loss episode's first retransmission
    assert end == pytest.approx(sent[0] + 2.0)
    assert a.errors() == [errno.ETIMEDOUT]


def test_syn_retries_end_at_the_user_timeout_counted_from_the_syn() -> None:
    """Linux tcp_connect sets retrans_stamp when the SYN leaves; tcp_write_timeout
    checks the user timeout as well as tcp_syn_retries."""
    a = Peer.make(A_ADDR, user_timeout=2.5)
    a.conn.connect(B_ADDR, 0.0)
    a.flush(0.0)
    (retry,) = a.timer(1.0)
    assert retry.flags == Flags.SYN
    assert a.conn.get_timer() == pytest.approx(2.5)  # clamped from 1 + 2 s
    assert a.timer(2.5) == []
    assert a.errors() == [errno.ETIMEDOUT] and a.state is State.CLOSED


def _zero_window(user_timeout: float = 0.0) -> tuple[Peer, Peer]:
    a, b = handshake(rtt=0.1, user_timeout=user_timeout)
    a.recv_segment(seg(A, b.conn.snd_nxt, a.conn.snd_nxt, window=0), 1.0)
    a.conn.send(b"z" * 3000, 1.0)
    assert a.flush(1.0) == []  # nothing fits a closed window: the persist timer runs
    return a, b


@pytest.mark.parametrize("answered", [False, True])
def test_zero_window_probing_gives_up_after_the_user_timeout(answered: bool) -> None:
    """Linux tcp_probe_timer: once the window has stayed closed for the user timeout
    since the first probe (icsk_probes_tstamp), the connection is aborted, whether the
    peer answers the probes or not; tcp_send_probe0 clamps the timer to it."""
    a, b = _zero_window(user_timeout=10.0)
    probes = []
    while a.state is State.ESTABLISHED:
        t = a.conn.get_timer()
        assert t is not None
        out = a.timer(t)
        if out:
            probes.append(t)
            if answered:  # the peer is alive but its window stays closed
                a.recv_segment(seg(A, b.conn.snd_nxt, a.conn.snd_una, window=0), t + 0.1)
        else:
            end = t
    assert probes == pytest.approx([1.3, 1.9, 3.1, 5.5, 10.3])
    assert end == pytest.approx(1.3 + 10.0)  # not 10.3 + 9.6
    assert a.errors() == [errno.ETIMEDOUT] and a.state is State.CLOSED


def test_zero_window_probing_goes_on_without_a_user_timeout() -> None:
    a, b = _zero_window()
    t = 1.0
    while t < 1000.0:
        t = a.conn.get_timer() or 0.0
        a.timer(t)
        a.recv_segment(seg(A, b.conn.snd_nxt, a.conn.snd_una, window=0), t + 0.1)
    assert a.state is State.ESTABLISHED and a.errors() == []


def test_an_opening_window_stops_the_zero_window_clock() -> None:
    a, b = _zero_window(user_timeout=10.0)
    a.timer(1.3)  # the first probe starts the clock
    # The window opens by 12 << 7 bytes: one segment goes, the rest of the 3000 waits.
    out = a.recv_segment(seg(A, b.conn.snd_nxt, a.conn.snd_una, window=12), 1.5)
    assert [len(s.payload) for s in out] == [a.conn.eff_mss]
    acked = a.conn.snd_nxt
    # The peer takes what was sent, then closes its window again for a long time.
    a.recv_segment(seg(A, b.conn.snd_nxt, acked, window=0), 9.0)
    probes = []
    while a.state is State.ESTABLISHED:
        t = a.conn.get_timer()
        assert t is not None
        if a.timer(t):
            probes.append(t)
        else:
            end = t
    assert probes[0] > 9.0  # a new episode: its own first probe, its own clock
    assert end == pytest.approx(probes[0] + 10.0)


def _keepalive_end(user_timeout: float = 0.0) -> tuple[list[float], float, Peer]:
    a, _b = handshake(
        rtt=0.1, keepalive=True, keepidle=10.0, keepintvl=5.0, user_timeout=user_timeout
    )
    probes = []
    while a.state is State.ESTABLISHED:
        t = a.conn.get_timer()
        assert t is not None
        out = a.timer(t)
        if out and not out[-1].flags & R:
            probes.append(t)
        else:
            end = t
    return probes, end, a


def test_keepalive_uses_keepcnt_without_a_user_timeout() -> None:
    probes, end, a = _keepalive_end()
    assert len(probes) == 9 and end == pytest.approx(0.1 + 10 + 9 * 5)
    assert a.errors() == [errno.ETIMEDOUT]


def test_keepalive_gives_up_once_the_peer_is_silent_for_the_user_timeout() -> None:
    """Linux tcp_keepalive_timer: with a user timeout, an unanswered probe and that long
    since anything was received end the connection (keepcnt no longer counts), checked
    at each keepalive expiry: silent since 0.1 s, 22 s have passed at 25.1 s."""
    probes, end, a = _keepalive_end(user_timeout=22.0)
    assert probes == pytest.approx([10.1, 15.1, 20.1])
    assert end == pytest.approx(25.1)
    assert a.sent[-1].flags & R  # reset, as after keepcnt probes
    assert a.errors() == [errno.ETIMEDOUT]
    longer, end, _ = _keepalive_end(user_timeout=100.0)
    assert len(longer) > 9 and end == pytest.approx(100.1)  # more probes than keepcnt


def test_config_refuses_a_negative_user_timeout() -> None:
    with pytest.raises(UsageError):
        TCPConfig(user_timeout=-1.0)


# --- the socket API: setsockopt/getsockopt(IPPROTO_TCP, TCP_USER_TIMEOUT, ms) -----------


def _client(tb: Testbed) -> Socket:
    cli = socket(SimRuntime(tb.sim, tb.client))
    assert isinstance(cli, Socket)
    return cli


def test_socket_option_round_trip_in_milliseconds_and_einval() -> None:
    tb = Testbed(21)
    cli = _client(tb)
    assert cli.getsockopt(pysocket.IPPROTO_TCP, pysocket.TCP_USER_TIMEOUT) == 0
    cli.setsockopt(pysocket.IPPROTO_TCP, pysocket.TCP_USER_TIMEOUT, 3000)
    assert cli.getsockopt(pysocket.IPPROTO_TCP, pysocket.TCP_USER_TIMEOUT) == 3000
    as_bytes = cli.getsockopt(pysocket.IPPROTO_TCP, pysocket.TCP_USER_TIMEOUT, 4)
    assert as_bytes == (3000).to_bytes(4, "little")
    with pytest.raises(OSError) as e:
        cli.setsockopt(pysocket.IPPROTO_TCP, pysocket.TCP_USER_TIMEOUT, -1)
    assert e.value.errno == errno.EINVAL
    assert cli.getsockopt(pysocket.IPPROTO_TCP, pysocket.TCP_USER_TIMEOUT) == 3000
    cli.setsockopt(pysocket.IPPROTO_TCP, pysocket.TCP_USER_TIMEOUT, 0)  # off again
    assert cli.getsockopt(pysocket.IPPROTO_TCP, pysocket.TCP_USER_TIMEOUT) == 0


def test_connect_to_a_silent_host_gives_up_at_the_user_timeout() -> None:
    tb = Testbed(22, c2s=ImpairmentConfig(loss=1.0))
    cli = _client(tb)
    cli.setsockopt(pysocket.IPPROTO_TCP, pysocket.TCP_USER_TIMEOUT, 2500)
    with pytest.raises(TimeoutError) as e:
        cli.connect((tb.server.ip, 80))
    assert e.value.errno == errno.ETIMEDOUT
    assert tb.sim.now == pytest.approx(2.5)  # not 127 s of SYN retries


def test_set_on_a_live_connection_it_aborts_a_stalled_transfer() -> None:
    tb = Testbed(23, delay=0.05)
    srv = socket(SimRuntime(tb.sim, tb.server))
    assert isinstance(srv, Socket)
    srv.bind(("", 80))
    srv.listen()
    cli = _client(tb)
    cli.connect((tb.server.ip, 80))
    srv.accept()
    cli.setsockopt(pysocket.IPPROTO_TCP, pysocket.TCP_USER_TIMEOUT, 3000)
    assert cli.handle is not None and cli.handle.conn.config.user_timeout == 3.0
    tb.link.set_config("client", ImpairmentConfig(delay=0.05, loss=1.0))  # the path dies
    cli.sendall(b"x" * 100)
    t0 = tb.sim.now
    with pytest.raises(TimeoutError) as e:
        cli.recv(100)
    assert e.value.errno == errno.ETIMEDOUT
    # The clock starts at the first retransmission (a loss probe, then the RTO's, within
    # a second); 3 s after it the connection is given up (Linux's 15 retries would
    # take over 15 minutes).
    assert 3.0 < tb.sim.now - t0 < 4.0


# --- the packetdrill runner's setsockopt/getsockopt ---------------------------------------

USER_TIMEOUT_SCRIPT = (
    SERVER
    + """\
+0 getsockopt(4, SOL_TCP, TCP_USER_TIMEOUT, [0], [4]) = 0
+0 setsockopt(4, SOL_TCP, TCP_USER_TIMEOUT, [-1], 4) = -1 EINVAL (Invalid argument)
+0 setsockopt(4, SOL_TCP, TCP_USER_TIMEOUT, [3000], 4) = 0
+0 getsockopt(4, SOL_TCP, TCP_USER_TIMEOUT, [3000], [4]) = 0
+0 write(4, ..., 1000) = 1000
+0 > P. 1:1001(1000) ack 1
// A loss probe at 0.4 s, then RTOs from 0.7 s (the clock's start): 1.3 s, 2.5 s;
// the next (4.9 s) is clamped to 0.7 + 3 s, where the connection is given up.
+.3 > P. 1:1001(1000) ack 1
+.3 > P. 1:1001(1000) ack 1
+.6 > P. 1:1001(1000) ack 1
+1.2 > P. 1:1001(1000) ack 1
+1.1 write(4, ..., 10) = 10
+.2 write(4, ..., 10) = -1 ETIMEDOUT (Connection timed out)
"""
)


def test_packetdrill_sets_and_reads_the_option_in_milliseconds(tmp_path: Path) -> None:
    path = tmp_path / "user_timeout.pkt"
    path.write_text(USER_TIMEOUT_SCRIPT)
    result = run_file(path)
    assert result.passed, result.report()
    assert abs(result.end_time - 3.8) < 1e-9
