"""The socket-like API on the simulator: blocking calls run virtual time."""

from __future__ import annotations

import errno
import socket as pysocket
import struct
import time

import pytest

from synack.api.runtime import SimRuntime, SimulationStalled
from synack.api.socket import SOCK_DGRAM, Socket, socket
from synack.link.impairment import ImpairmentConfig
from synack.scenarios.testbed import Testbed
from synack.wire.ip import decode_ipv4
from synack.wire.options import MSS
from synack.wire.tcp import decode_tcp


def pair(tb: Testbed) -> tuple[Socket, Socket]:
    """A listening server socket on port 80 and a fresh client socket."""
    srv = socket(SimRuntime(tb.sim, tb.server))
    cli = socket(SimRuntime(tb.sim, tb.client))
    assert isinstance(srv, Socket) and isinstance(cli, Socket)
    srv.bind(("", 80))
    srv.listen()
    return srv, cli


def connected(tb: Testbed) -> tuple[Socket, Socket]:
    srv, cli = pair(tb)
    cli.connect((tb.server.ip, 80))
    conn, _ = srv.accept()
    return cli, conn


def test_connect_accept_send_recv_and_close_in_virtual_time() -> None:
    tb = Testbed(1, delay=0.1)
    srv, cli = pair(tb)
    wall = time.monotonic()
    cli.connect((tb.server.ip, 80))
    assert tb.sim.now == pytest.approx(0.2)  # one RTT for the handshake
    conn, addr = srv.accept()
    assert addr == cli.getsockname() and conn.getpeername() == addr
    assert cli.getpeername() == (tb.server.ip, 80)
    data = bytes(range(256)) * 2000
    cli.sendall(data)
    cli.shutdown(pysocket.SHUT_WR)
    got = bytearray()
    while chunk := conn.recv(10_000):
        got += chunk
    assert got == data
    conn.sendall(b"thanks")
    conn.close()
    assert cli.recv(100) == b"thanks" and cli.recv(100) == b""
    cli.close()
    tb.run(until=tb.sim.now + 61)  # TIME_WAIT passes at once
    assert tb.client.connections == {} and tb.server.connections == {}
    assert time.monotonic() - wall < 10


def test_recv_into_fills_the_buffer() -> None:
    tb = Testbed(2)
    cli, conn = connected(tb)
    cli.sendall(b"hello world")
    buf = bytearray(5)
    assert conn.recv_into(buf) == 5 and buf == b"hello"
    assert conn.recv_into(buf, 3) == 3 and buf[:3] == b" wo"


def test_connect_to_a_closed_port_is_refused_and_connect_ex_returns_the_errno() -> None:
    tb = Testbed(3)
    cli = socket(SimRuntime(tb.sim, tb.client))
    with pytest.raises(ConnectionRefusedError):
        cli.connect((tb.server.ip, 81))
    other = socket(SimRuntime(tb.sim, tb.client))
    assert other.connect_ex((tb.server.ip, 81)) == errno.ECONNREFUSED


def test_connect_to_a_silent_host_times_out_with_etimedout_after_linux_retries() -> None:
    tb = Testbed(4, c2s=ImpairmentConfig(loss=1.0))
    cli = socket(SimRuntime(tb.sim, tb.client))
    with pytest.raises(TimeoutError) as e:
        cli.connect((tb.server.ip, 80))
    assert e.value.errno == errno.ETIMEDOUT
    assert tb.sim.now == pytest.approx(127.0)  # 1+2+4+8+16+32+64 s of SYN retries


def test_socket_timeout_and_non_blocking_calls() -> None:
    tb = Testbed(5)
    srv, cli = pair(tb)
    srv.settimeout(2.0)
    t0 = tb.sim.now
    with pytest.raises(TimeoutError, match="timed out"):
        srv.accept()
    assert tb.sim.now == pytest.approx(t0 + 2.0)
    cli.setblocking(False)
    with pytest.raises(BlockingIOError) as e:
        cli.connect((tb.server.ip, 80))
    assert e.value.errno == errno.EINPROGRESS
    assert cli.connect_ex((tb.server.ip, 80)) == errno.EALREADY
    tb.run(until=tb.sim.now + 1)
    assert cli.connect_ex((tb.server.ip, 80)) == errno.EISCONN
    with pytest.raises(BlockingIOError) as e:
        cli.recv(10)
    assert e.value.errno == errno.EAGAIN


def test_errors_on_unconnected_sockets_match_linux() -> None:
    tb = Testbed(6)
    s = socket(SimRuntime(tb.sim, tb.client))
    with pytest.raises(BrokenPipeError):
        s.send(b"x")
    for call in (lambda: s.recv(1), s.getpeername, lambda: s.shutdown(pysocket.SHUT_WR)):
        with pytest.raises(OSError) as e:
            call()
        assert e.value.errno == errno.ENOTCONN
    with pytest.raises(OSError) as e:
        s.accept()
    assert e.value.errno == errno.EINVAL
    assert s.getsockname() == ("0.0.0.0", 0)
    with pytest.raises(pysocket.gaierror):
        s.connect(("example.org", 80))


def test_bind_to_a_taken_port_is_eaddrinuse_and_reuseaddr_passes_time_wait() -> None:
    tb = Testbed(7)
    srv, cli = pair(tb)
    again = socket(SimRuntime(tb.sim, tb.server))
    with pytest.raises(OSError) as e:
        again.bind(("", 80))
    assert e.value.errno == errno.EADDRINUSE
    cli.connect((tb.server.ip, 80))
    conn, _ = srv.accept()
    srv.close()
    conn.close()  # the server closes first: its side of the 4-tuple enters TIME_WAIT
    assert cli.recv(1) == b""
    cli.close()
    del conn, srv, again  # nobody holds the server's side: it waits as a record
    tb.run(until=tb.sim.now + 2)
    assert tb.server.timewait and not tb.server.connections
    fresh = socket(SimRuntime(tb.sim, tb.server))
    with pytest.raises(OSError) as e:
        fresh.bind(("", 80))
    assert e.value.errno == errno.EADDRINUSE
    fresh.setsockopt(pysocket.SOL_SOCKET, pysocket.SO_REUSEADDR, 1)
    fresh.bind(("", 80))
    assert fresh.getsockname()[1] == 80


def test_peer_reset_is_reported_once_then_reads_see_eof_and_writes_epipe() -> None:
    tb = Testbed(8)
    cli, conn = connected(tb)
    conn.setsockopt(pysocket.SOL_SOCKET, pysocket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()  # SO_LINGER {1, 0}: RST
    with pytest.raises(ConnectionResetError):
        cli.recv(10)
    assert cli.recv(10) == b""
    with pytest.raises(BrokenPipeError):
        cli.send(b"x")


def test_send_after_shutdown_wr_is_epipe_and_the_peer_sees_eof() -> None:
    tb = Testbed(9)
    cli, conn = connected(tb)
    cli.shutdown(pysocket.SHUT_WR)
    with pytest.raises(BrokenPipeError):
        cli.send(b"x")
    assert conn.recv(10) == b""
    conn.sendall(b"still open this way")
    assert cli.recv(100) == b"still open this way"


def test_options_shape_the_connection() -> None:
    tb = Testbed(10)
    srv, cli = pair(tb)
    cli.setsockopt(pysocket.IPPROTO_TCP, pysocket.TCP_MAXSEG, 1000)
    cli.setsockopt(pysocket.SOL_SOCKET, pysocket.SO_RCVBUF, 32768)
    cli.setsockopt(pysocket.IPPROTO_TCP, pysocket.TCP_NODELAY, 1)
    assert cli.getsockopt(pysocket.SOL_SOCKET, pysocket.SO_RCVBUF) == 65536  # doubled
    assert cli.getsockopt(pysocket.IPPROTO_TCP, pysocket.TCP_NODELAY) == 1
    with pytest.raises(OSError) as e:
        cli.setsockopt(pysocket.IPPROTO_TCP, 9999, 1)
    assert e.value.errno == errno.ENOPROTOOPT
    cli.connect((tb.server.ip, 80))
    syn = next(e for e in tb.recorder.packets("send") if e.src == "client")
    seg = decode_tcp(decode_ipv4(syn.data).payload, tb.client.ip, tb.server.ip)
    assert any(isinstance(o, MSS) and o.value == 1000 for o in seg.options)
    assert cli.handle is not None and cli.handle.conn.config.rcvbuf == 32768
    conn, _ = srv.accept()
    assert conn.getsockopt(pysocket.IPPROTO_TCP, pysocket.TCP_MAXSEG) == 1000 - 12
    info = cli.info()
    assert info["state"] == "ESTABLISHED" and "srtt" in info and "cwnd" in info
    assert cli.getsockopt(pysocket.SOL_SOCKET, pysocket.SO_LINGER, 8) == struct.pack("ii", 0, 0)


def test_a_blocking_call_that_nothing_can_satisfy_raises_instead_of_hanging() -> None:
    tb = Testbed(11)
    srv, _ = pair(tb)
    with pytest.raises(SimulationStalled):
        srv.accept()


def test_udp_sockets_bind_sendto_recvfrom() -> None:
    tb = Testbed(12)
    s = socket(SimRuntime(tb.sim, tb.server), type=SOCK_DGRAM)
    c = socket(SimRuntime(tb.sim, tb.client), type=SOCK_DGRAM)
    s.bind(("", 7))
    c.sendto(b"ping", (tb.server.ip, 7))
    data, addr = s.recvfrom(100)
    assert data == b"ping" and addr[0] == tb.client.ip
    s.sendto(b"pong", addr)
    assert c.recvfrom(100) == (b"pong", (tb.server.ip, 7))
    c.settimeout(1.0)
    with pytest.raises(TimeoutError):
        c.recvfrom(100)


def test_options_set_on_a_live_connection_reach_it() -> None:
    tb = Testbed(13)
    cli, _server_side = connected(tb)
    assert cli.handle is not None
    assert cli.getsockopt(pysocket.IPPROTO_TCP, pysocket.TCP_NODELAY) == 0
    cli.setsockopt(pysocket.IPPROTO_TCP, pysocket.TCP_NODELAY, 1)
    assert cli.handle.conn.config.nodelay is True
    assert cli.getsockopt(pysocket.IPPROTO_TCP, pysocket.TCP_NODELAY) == 1
    cli.setsockopt(pysocket.SOL_SOCKET, pysocket.SO_KEEPALIVE, 1)
    idle_from = tb.sim.now
    tb.run(until=idle_from + 7300)  # Linux tcp_keepalive_time: 2 h, in virtual time
    probes = [e for e in tb.recorder.packets("send") if e.src == "client" and e.time > idle_from]
    assert probes and probes[0].time >= idle_from + 7200
    assert cli.handle.state.value == "ESTABLISHED"  # the server answered the probe


def test_sendall_blocks_in_virtual_time_while_the_buffers_are_full() -> None:
    """A blocking writer waits while SO_SNDBUF (and the peer's window) are full: with
    nobody reading, sendall times out after the socket's timeout of virtual time, and
    the stack holds no more than the send buffer."""
    tb = Testbed(3, delay=0.01)
    srv, cli = pair(tb)
    cli.setsockopt(pysocket.SOL_SOCKET, pysocket.SO_SNDBUF, 65536)
    cli.connect((tb.server.ip, 80))
    conn, _ = srv.accept()
    started = tb.sim.now
    cli.settimeout(1.0)
    with pytest.raises(TimeoutError):
        cli.sendall(b"y" * 2_000_000)
    assert tb.sim.now >= started + 1.0
    assert 0 < cli.info()["send_queue"] <= 2 * 65536  # SO_SNDBUF (Linux doubles it)
    got = conn.recv(1 << 20)  # the reader makes room: the data that waited arrives
    assert got and set(got) == {ord("y")}


def test_sendall_does_not_copy_what_it_has_not_sent_yet() -> None:
    """sendall hands the send buffer views of what is left: a bytes payload is never
    copied whole (a copy per call would make a large sendall quadratic), and a
    bytearray is copied once."""
    import tracemalloc

    tb = Testbed(3, delay=0.01)
    srv, cli = pair(tb)
    cli.setsockopt(pysocket.SOL_SOCKET, pysocket.SO_SNDBUF, 65536)
    cli.connect((tb.server.ip, 80))
    srv.accept()
    cli.settimeout(0.5)
    data = b"z" * 20_000_000
    tracemalloc.start()
    try:
        with pytest.raises(TimeoutError):
            cli.sendall(data)  # nobody reads: it waits, then times out
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000, peak  # not a copy of the 20 MB


def test_send_counts_octets_of_any_buffer_format() -> None:
    """A view of another item size is sent as its octets, as socket.send does."""
    import array

    tb = Testbed(3, delay=0.01)
    cli, conn = connected(tb)
    words = array.array("I", range(1000))
    cli.sendall(memoryview(words))
    reused = bytearray(b"abc" * 1000)
    assert cli.send(reused) == 3000
    reused[:] = bytes(3000)  # the caller reuses its buffer at once
    cli.shutdown(pysocket.SHUT_WR)
    got = bytearray()
    while chunk := conn.recv(65536):
        got += chunk
    assert bytes(got) == words.tobytes() + b"abc" * 1000
