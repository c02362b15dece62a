"""Pacing (synack.tcp.pacing): Linux's pacing rate and departure stamps, and a paced
connection spreading its window over the round trip instead of sending it in one clump."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from sim_oneway import one_way
from synack.errors import UsageError
from synack.link.impairment import ImpairmentConfig
from synack.packetdrill import RunOptions, run_file
from synack.sim import Network
from synack.sim.engine import SimScheduler
from synack.sim.hosts import sim_host
from synack.tcp.config import TCPConfig
from synack.tcp.pacing import UNPACED_SEGMENTS, next_departure, pacing_rate
from synack.trace.events import PacketEvent
from synack.wire.ip import decode_ipv4
from synack.wire.tcp import decode_tcp
from test_packetdrill_runner import SERVER  # the passive open, Linux's defaults

MSS = 1448


def test_the_rate_is_twice_cwnd_per_srtt_in_slow_start_and_1_2_times_after() -> None:
    cwnd = 20 * MSS
    # Slow start: cwnd below half of ssthresh -> 200 %.
    assert pacing_rate(MSS, cwnd, 1 << 30, 0, 0.1) == pytest.approx(2 * 20 * MSS / 0.1)
    # Approaching ssthresh, or in congestion avoidance -> 120 %.
    assert pacing_rate(MSS, cwnd, 30 * MSS, 0, 0.1) == pytest.approx(1.2 * 20 * MSS / 0.1)
    # More segments in flight than cwnd (after a reduction) count instead of cwnd.
    assert pacing_rate(MSS, cwnd, 30 * MSS, 25, 0.1) == pytest.approx(1.2 * 25 * MSS / 0.1)
    # The sysctls' ratios and SO_MAX_PACING_RATE's cap.
    assert pacing_rate(MSS, cwnd, 1 << 30, 0, 0.1, ss_ratio=100) == pytest.approx(20 * MSS / 0.1)
    assert pacing_rate(MSS, cwnd, 1 << 30, 0, 0.1, max_rate=1000.0) == 1000.0
    # No RTT sample yet: no rate (Linux's is unbounded), unless capped.
    assert pacing_rate(MSS, cwnd, 1 << 30, 0, None) == 0.0
    assert pacing_rate(MSS, cwnd, 1 << 30, 0, None, max_rate=5e5) == 5e5


def test_departures_are_spaced_by_size_over_rate_less_half_for_a_late_packet() -> None:
    # On time: the next leaves size/rate after this one.
    assert next_departure(1.0, 1.0, 1000, 1e6) == pytest.approx(1.001)
    # Early (the stamp is ahead of now): the packet leaves at its stamp, the next after.
    assert next_departure(2.0, 1.0, 1000, 1e6) == pytest.approx(2.001)
    # Late by 0.2 ms: credit of 0.2 ms, at most half the 1 ms gap.
    assert next_departure(1.0, 1.0002, 1000, 1e6) == pytest.approx(1.0002 + 0.001 - 0.0002)
    # Late by far: the gap is halved, never skipped.
    assert next_departure(1.0, 5.0, 1000, 1e6) == pytest.approx(5.0005)
    # No rate: nothing to wait for.
    assert next_departure(1.0, 3.0, 1000, 0.0) == 3.0


@pytest.mark.parametrize(
    "change",
    [
        {"max_pacing_rate": 0},
        {"max_pacing_rate": -5.0},
        {"pacing_ss_ratio": 0},
        {"pacing_ca_ratio": 1001},
        {"pacing_ca_ratio": 1.5},
    ],
)
def test_bad_pacing_settings_are_refused(change: dict[str, object]) -> None:
    with pytest.raises(UsageError):
        TCPConfig(**change)  # type: ignore[arg-type]


def test_a_max_pacing_rate_turns_pacing_on() -> None:
    assert not TCPConfig().paces
    assert TCPConfig(pacing=True).paces
    assert TCPConfig(max_pacing_rate=1e6).paces


def _send(config: TCPConfig, nbytes: int) -> tuple[bytes, bytes, list[tuple[float, int]], float]:
    """Send ``nbytes`` from a client with ``config`` over 10 ms each way; the bytes sent
    and read, (time, payload length) of each data segment the client sent, and when the
    reader had everything."""
    net = Network(7)
    sends: list[tuple[float, int]] = []

    def observe(e: object) -> None:
        if isinstance(e, PacketEvent) and e.kind == "send" and e.src == "client":
            ip = decode_ipv4(e.data)
            seg = decode_tcp(ip.payload, ip.src, ip.dst)
            if seg.payload:
                sends.append((e.time, len(seg.payload)))

    net.observe(observe)
    out = one_way(net, nbytes, client_config=config, server_config=TCPConfig(rcvbuf=1 << 21))
    assert out.done_at is not None
    return out.data, bytes(out.got), sends, out.done_at


def test_unpaced_a_window_leaves_in_clumps_paced_it_is_spread_out() -> None:
    config = TCPConfig(sndbuf=1 << 21)
    data, got, plain, _ = _send(config, 300_000)
    data_p, got_p, paced, _ = _send(config.with_(pacing=True), 300_000)
    assert got == data and got_p == data_p
    plain_times = [t for t, _ in plain]
    paced_times = [t for t, _ in paced]
    # Unpaced: whole flights leave at one instant (each ACK releases two or more).
    assert len(set(plain_times)) < len(plain_times) // 2
    # Paced: the first 10 segments leave unpaced; after them, no two leave together.
    later = paced_times[UNPACED_SEGMENTS:]
    assert len(set(later)) == len(later)
    gaps = [b - a for a, b in itertools.pairwise(later)]
    assert min(gaps) > 0


def test_the_gap_follows_the_pacing_rate() -> None:
    # A cap far below what cwnd/srtt allows makes the rate exact: 50 kB/s, so a
    # full-sized segment (1448 octets of payload, 32 of TCP header) every 29.6 ms.
    cap = 50_000.0
    data, got, sends, done = _send(TCPConfig(max_pacing_rate=cap), 100_000)
    assert got == data
    times = [t for t, _ in sends[UNPACED_SEGMENTS:]]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(g == pytest.approx((MSS + 32) / cap, rel=1e-6) for g in gaps[:-1])
    # The transfer takes as long as the rate says (the first 10 segments went at once).
    paced_bytes = sum(n for _, n in sends[UNPACED_SEGMENTS:])
    assert done >= paced_bytes / cap * (MSS / (MSS + 32)) * 0.99


def test_a_paced_connection_sends_the_next_segment_at_its_departure_time() -> None:
    config = TCPConfig(max_pacing_rate=10_000.0, sndbuf=1 << 20)
    net = Network(1)
    client = sim_host(net.sim, "client", "10.0.0.1", config)
    server = sim_host(net.sim, "server", "10.0.0.2")
    link = net.connect(client, server, ImpairmentConfig(delay=0.01))
    for host in (client, server):
        host.attach(link.transmitter(host), SimScheduler(net.sim, host.on_timer))
    server.listen(80, on_accept=lambda h: None)
    handle = client.connect("10.0.0.2", 80)
    net.run(until=0.1)
    handle.send(bytes(100_000))
    conn = handle.conn
    # The first 10 segments leave at once; the 11th waits for its departure time, and
    # neither the ACKs nor the tail loss probe (due at about 0.14 s) send it earlier.
    assert conn.stats["data_segs_out"] == UNPACED_SEGMENTS
    departure = 0.1 + (MSS + 32) / 10_000.0
    net.run(until=departure - 1e-6)
    assert conn.stats["data_segs_out"] == UNPACED_SEGMENTS
    assert conn.get_timer() is not None and conn.get_timer() <= departure + 1e-9
    net.run(until=departure + 1e-6)
    assert conn.stats["data_segs_out"] == UNPACED_SEGMENTS + 1


PACED_SCRIPT = """
// SO_MAX_PACING_RATE turns pacing on and caps the rate; tcp_info reports both.
+0 setsockopt(4, SOL_SOCKET, SO_MAX_PACING_RATE, [10000], 4) = 0
+0 %{ assert tcpi_max_pacing_rate == 10000, tcpi_max_pacing_rate }%
+0 write(4, ..., 12000) = 12000
// The first 10 data segments leave unpaced (cwnd 10).
+0 > P. 1:10001(10000) ack 1
+.1 < . 1:1(0) ack 10001 win 257
+0 %{ assert tcpi_pacing_rate == 10000, tcpi_pacing_rate }%
// The rest leaves at the capped rate, not at once.
+.002 > . 10001:11001(1000) ack 1
+.102 > P. 11001:12001(1000) ack 1
+.1 < . 1:1(0) ack 12001 win 257
// ~0U removes the cap (the rate is then 120-200 % of cwnd * mss / srtt).
+0 setsockopt(4, SOL_SOCKET, SO_MAX_PACING_RATE, [4294967295], 4) = 0
+0 %{ assert tcpi_max_pacing_rate == 2**64 - 1, tcpi_max_pacing_rate }%
+0 %{ assert tcpi_pacing_rate > 100000, tcpi_pacing_rate }%
"""


def test_a_packetdrill_script_paces_with_so_max_pacing_rate(tmp_path: Path) -> None:
    path = tmp_path / "paced.pkt"
    path.write_text(SERVER + PACED_SCRIPT)
    result = run_file(path, RunOptions())
    assert result.failure is None, result.failure.text if result.failure else ""
