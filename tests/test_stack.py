"""The stack around the connections: demultiplexing, listeners, ports, drops, counters."""

import random
import subprocess
import sys
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synack.link.impairment import ImpairmentConfig
from synack.scenarios.apps import Client, Server
from synack.scenarios.testbed import Testbed
from synack.stack.counters import TCP_MIB, render_counters
from synack.stack.ports import EPHEMERAL_HIGH, EPHEMERAL_LOW, PortAllocator
from synack.wire.ip import PROTO_TCP, IPv4Packet, encode_ipv4
from synack.wire.tcp import Flags, TCPSegment, encode_tcp


def test_ephemeral_ports_stay_in_linux_range_and_skip_ports_in_use():
    alloc = PortAllocator(random.Random(1))
    taken = set(range(EPHEMERAL_LOW, EPHEMERAL_HIGH))  # all but the last
    assert alloc.allocate(lambda p: p in taken) == EPHEMERAL_HIGH
    taken.add(EPHEMERAL_HIGH)
    assert alloc.allocate(lambda p: p in taken) is None
    ports = {alloc.allocate(lambda p: False) for _ in range(50)}
    assert all(EPHEMERAL_LOW <= p <= EPHEMERAL_HIGH for p in ports)


def test_many_connections_are_demultiplexed_by_four_tuple():
    tb = Testbed(2)
    srv = Server(tb, reply=None, close_after=0.0).start()
    clients = [Client(tb, request=f"client {i}".encode(), expect_reply=False) for i in range(20)]
    for i, c in enumerate(clients):
        c.start(at=i * 0.001)
    tb.run()
    assert sorted(bytes(h.conn.rcvbuf.peek_all()) for h in srv.handles) == [b""] * 20
    assert bytes(srv.received).count(b"client") == 20
    ports = {c.handle.local[1] for c in clients if c.handle}
    assert len(ports) == 20
    assert tb.client.connections == {} and tb.server.connections == {}


def test_syns_beyond_the_backlog_are_dropped_and_counted():
    tb = Testbed(0)
    lst = tb.server.listen(80, backlog=2)  # nobody accepts: the accept queue fills
    for i in range(6):
        tb.at(i * 0.001, lambda: tb.client.connect(tb.server.ip, 80))
    tb.run(until=0.5)
    assert len(lst.accept_queue) == 3  # three SYNs were admitted, three dropped
    tb.run(until=5.0)  # the dropped SYNs are retransmitted after 1 s
    assert len(lst.accept_queue) == 3  # Linux admits backlog + 1
    assert tb.server.counters["ListenOverflows"] >= 1
    assert tb.server.drops["tcp_listen_queue_full"] >= 1
    assert lst.accept().state.value == "ESTABLISHED"


def _raw(tb, payload: bytes) -> bytes:
    return encode_ipv4(IPv4Packet(tb.client.ip, tb.server.ip, PROTO_TCP, payload))


def test_bad_packets_are_counted_drops_not_crashes():
    tb = Testbed(0)
    Server(tb, reply=b"ok", close_after=0.0).start()
    good = Client(tb, request=b"hello", close_after=0.0).start()
    seg = TCPSegment(40000, 80, 1, 0, Flags.SYN, 1000)
    wire = bytearray(encode_tcp(seg, tb.client.ip, tb.server.ip))
    wire[16] ^= 0xFF  # break the checksum
    junk = [
        b"",
        b"\x45",
        b"\x60" + bytes(39),
        _raw(tb, bytes(wire)),
        _raw(tb, b"\x00" * 7),
        encode_ipv4(IPv4Packet(tb.client.ip, "198.51.100.9", PROTO_TCP, b"")),
        encode_ipv4(IPv4Packet(tb.client.ip, tb.server.ip, 99, b"x")),
    ]
    for i, j in enumerate(junk):
        tb.at(0.01 + i * 0.001, lambda j=j: tb.server.receive_packet(j))
    tb.run()
    d = tb.server.drops
    assert d["ip_truncated"] == 2 and d["ip_bad_version"] == 1
    assert d["tcp_bad_checksum"] == 1 and d["tcp_truncated"] == 1
    assert d["ip_not_for_us"] == 1 and d["ip_unknown_protocol"] == 1
    assert tb.server.counters["InErrs"] == 2
    assert bytes(good.received) == b"ok"  # the real connection was not disturbed


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=80))
def test_random_bytes_never_crash_the_host(data):
    tb = Testbed(0)
    tb.server.receive_packet(data)
    tb.server.receive_packet(_raw(tb, data))
    tb.run(until=1.0)


def test_segments_to_a_closed_port_get_a_reset_per_rfc9293():
    tb = Testbed(0)
    ack = TCPSegment(40000, 9, 1000, 5555, Flags.ACK, 100)
    tb.at(0.0, lambda: tb.inject(tb.client, tb.server, ack))
    rst = TCPSegment(40000, 9, 1000, 0, Flags.RST, 100)
    tb.at(0.1, lambda: tb.inject(tb.client, tb.server, rst))
    tb.run()
    replies = [e for e in tb.recorder.packets("send") if e.src == "server"]
    assert len(replies) == 1  # never an RST in answer to an RST
    from synack.wire.ip import decode_ipv4
    from synack.wire.tcp import decode_tcp

    ip = decode_ipv4(replies[0].data)
    reply = decode_tcp(ip.payload, ip.src, ip.dst)
    assert reply.flags == Flags.RST and reply.seq == 5555  # <SEQ=SEG.ACK><CTL=RST>


def test_ss_table_and_counters_render():
    tb = Testbed(0)
    Server(tb, close_after=None).start()
    Client(tb, close_after=None, expect_reply=False, local_port=40000).start()
    tb.run(until=1.0)
    table = tb.server.ss()
    assert "LISTEN" in table and "ESTAB" in table and "192.0.2.1:40000" in table
    text = render_counters(tb.client)
    for name in TCP_MIB:
        assert f"Tcp{name}" in text


def test_ss_details_show_tcp_info_under_each_connection():
    """``ss -tin``: a tab-indented TCP_INFO line after each connection's row."""
    tb = Testbed(0)
    Server(tb, close_after=None).start()
    Client(tb, close_after=None, expect_reply=False, local_port=40000).start()
    tb.run(until=1.0)
    lines = tb.server.ss(details=True).splitlines()
    estab = next(i for i, line in enumerate(lines) if line.startswith("ESTAB"))
    detail = lines[estab + 1]
    assert detail.startswith("\tcubic wscale:7,7 rto:")
    fields = dict(f.split(":", 1) for f in detail.split()[1:] if ":" in f)
    assert fields["cwnd"] == "10" and "ssthresh" not in fields  # still "infinite"
    assert int(fields["segs_in"]) > 0 and "lastack" in fields
    assert len(lines) == 2 * len(tb.server.connections) + 1 + len(tb.server.listeners)


def test_lossy_demo_still_delivers_everything():
    for seed in range(10):
        cfg = ImpairmentConfig(delay=0.02, loss=0.2)
        tb = Testbed(seed, c2s=cfg, s2c=cfg)
        srv = Server(tb, reply=b"R" * 3000, close_after=0.0, request_size=3000).start()
        cli = Client(tb, request=b"Q" * 3000, close_after=0.0, expect_bytes=3000).start()
        tb.run()
        if cli.error:  # a run may give up (ETIMEDOUT) but never corrupts data
            continue
        assert bytes(srv.received) == b"Q" * 3000
        assert bytes(cli.received) == b"R" * 3000


def test_demo_command_runs_fast_and_exits_zero(tmp_path):
    pcap = tmp_path / "demo.pcap"
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "synack.cli", "demo", "--pcap", str(pcap)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert time.perf_counter() - t0 < 10  # generous; the demo itself takes milliseconds
    assert "Flags [S]" in out and "TIME_WAIT -> CLOSED" in out and "|<---" in out
    assert pcap.stat().st_size > 24


def test_cli_rejects_bad_arguments():
    bad = subprocess.run(
        [sys.executable, "-m", "synack.cli", "demo", "--loss", "abc"], capture_output=True
    )
    assert bad.returncode == 2 and b"not a number" in bad.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "synack.cli", "scenario", "nope"], capture_output=True
    )
    assert missing.returncode == 2 and b"no scenario" in missing.stderr


@pytest.mark.parametrize("name", ["handshake", "half-open"])
def test_cli_scenario_prints_trace_state_log_and_diagram(name):
    out = subprocess.run(
        [sys.executable, "-m", "synack.cli", "scenario", name],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "== tcpdump" in out and "== state log ==" in out and "== sequence diagram" in out


def test_a_long_lived_connection_keeps_no_memory_per_segment():
    """Memory of a connection does not grow with the segments it has carried: after the
    first megabytes, moving several times more leaves the heap where it was.  (A handle
    that kept every event it delivered grew by 1.3 MB over these 6 MB.)"""
    import tracemalloc

    from synack.sim.engine import SimScheduler
    from synack.sim.hosts import sim_host
    from synack.sim.network import Network
    from synack.tcp import events as ev
    from synack.tcp.config import TCPConfig

    net = Network(3)
    cfg = TCPConfig(mss=536, sndbuf=65536, rcvbuf=65536)  # a bounded flight
    a = sim_host(net.sim, "a", "192.0.2.1", cfg)
    b = sim_host(net.sim, "b", "192.0.2.2", cfg)
    link = net.connect(a, b, ImpairmentConfig(delay=1e-4), config_ba=ImpairmentConfig(delay=1e-4))
    for h in (a, b):
        h.attach(link.transmitter(h), SimScheduler(net.sim, h.on_timer))
    got = [0]

    def reader(h, event):
        if isinstance(event, ev.DataReceived):
            got[0] += len(h.recv())

    b.listen(80, on_accept=lambda h: setattr(h, "on_event", reader))
    writer = a.connect("192.0.2.2", 80)
    block = bytes(200_000)

    def write(h, event):
        if isinstance(event, ev.Connected | ev.SendBufferSpace):
            while h.send(block):
                pass

    writer.on_event = write

    def run_until(total):
        while got[0] < total:
            net.sim.run(until=net.sim.now + 0.0005)

    run_until(2_000_000)
    tracemalloc.start()
    try:
        run_until(4_000_000)
        before = tracemalloc.get_traced_memory()[0]
        run_until(10_000_000)  # about 11,000 more segments each way
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert after - before < 150_000, (before, after)
