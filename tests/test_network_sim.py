"""The simulated network: virtual time, links, impairments, determinism."""

import random
import time

import pytest

from synack.link.impairment import Impairment, ImpairmentConfig, drop_nth, mark_ce
from synack.sim.engine import SimScheduler, Simulator
from synack.sim.network import Network
from synack.trace.events import PacketEvent
from synack.wire.checksum import internet_checksum
from synack.wire.ip import PROTO_UDP, IPv4Packet, decode_ipv4, encode_ipv4


class Sink:
    def __init__(self, name, sim):
        self.name = name
        self.sim = sim
        self.got: list[tuple[float, bytes]] = []

    def receive_packet(self, data):
        self.got.append((self.sim.now, data))


def _pair(seed=0, **cfg):
    net = Network(seed)
    a, b = Sink("a", net.sim), Sink("b", net.sim)
    events: list[PacketEvent] = []
    net.observe(events.append)
    link = net.connect(a, b, ImpairmentConfig(**cfg))
    return net, a, b, link, events


def _pkt(i: int, size: int = 100, tos: int = 0) -> bytes:
    return encode_ipv4(
        IPv4Packet("192.0.2.1", "192.0.2.2", PROTO_UDP, bytes([i % 256]) * size, tos=tos)
    )


def test_events_run_in_time_order_and_ties_in_insertion_order():
    sim = Simulator()
    seen = []
    sim.call_at(2.0, lambda: seen.append("late"))
    sim.call_at(1.0, lambda: seen.append("first"))
    sim.call_at(1.0, lambda: seen.append("second"))
    t = sim.call_at(1.5, lambda: seen.append("cancelled"))
    t.cancel()
    sim.run()
    assert seen == ["first", "second", "late"] and sim.now == 2.0


def test_run_until_stops_the_clock_there():
    sim = Simulator()
    seen = []
    sim.call_at(5.0, lambda: seen.append(1))
    sim.run(until=3.0)
    assert seen == [] and sim.now == 3.0
    sim.run()
    assert seen == [1]


def test_scheduler_keeps_only_the_latest_deadline():
    sim = Simulator()
    fired = []
    s = SimScheduler(sim, lambda: fired.append(sim.now))
    s.schedule(5.0)
    s.schedule(2.0)
    s.schedule(None)
    s.schedule(3.0)
    sim.run()
    assert fired == [3.0]


def test_a_minute_of_virtual_time_costs_no_wall_time():
    sim = Simulator()
    sim.call_at(60.0, lambda: None)
    t0 = time.perf_counter()
    sim.run()
    assert sim.now == 60.0 and time.perf_counter() - t0 < 1.0


def test_delay_and_bandwidth_serialize_packets():
    net, a, b, link, _ = _pair(delay=0.01, rate_bps=1_000_000)
    tx = link.transmitter(a)
    for i in range(10):
        tx(_pkt(i, size=1250 - 20))  # 1250-byte IP packets: 10 ms each at 1 Mbit/s
    net.sim.run()
    times = [t for t, _ in b.got]
    assert times == pytest.approx([0.01 + 0.01 * (i + 1) for i in range(10)])


def test_queue_limit_tail_drops():
    net, a, b, link, events = _pair(rate_bps=1_000_000, queue_limit=3)
    tx = link.transmitter(a)
    for i in range(10):
        tx(_pkt(i, size=1000))
    net.sim.run()
    drops = [e for e in events if e.kind == "drop"]
    assert len(b.got) == 4 and len(drops) == 6
    assert {e.reason for e in drops} == {"queue_full"}


def test_random_loss_is_near_its_probability():
    net, a, b, link, _ = _pair(seed=5, loss=0.2)
    tx = link.transmitter(a)
    for i in range(5000):
        tx(_pkt(i, size=20))
    net.sim.run()
    assert 0.18 < 1 - len(b.got) / 5000 < 0.22


def test_duplication_delivers_two_copies_with_one_packet_id():
    net, a, b, link, events = _pair(duplicate=1.0)
    link.transmitter(a)(_pkt(1))
    net.sim.run()
    delivers = [e for e in events if e.kind == "deliver"]
    assert len(b.got) == 2 and delivers[0].packet_id == delivers[1].packet_id


def test_reordering_changes_the_order():
    net, a, b, link, _ = _pair(seed=1, delay=0.001, reorder=0.5, reorder_delay=0.01)
    tx = link.transmitter(a)
    for i in range(50):
        net.sim.call_at(i * 0.0001, lambda i=i: tx(_pkt(i, size=10)))
    net.sim.run()
    order = [d[20] for _, d in b.got]
    assert sorted(order) == list(range(50)) and order != list(range(50))


def test_corruption_flips_exactly_one_bit_and_checksum_catches_it():
    from synack.errors import DecodeError

    imp = Impairment(ImpairmentConfig(corrupt=1.0), random.Random(3))
    caught = 0
    for i in range(200):
        data = _pkt(i, size=20)
        ((_, out),) = imp.offer(data, 0.0)
        diff = int.from_bytes(data, "big") ^ int.from_bytes(out, "big")
        assert bin(diff).count("1") == 1
        try:
            decode_ipv4(out)
        except DecodeError:
            caught += 1
    assert caught > 0


def test_ecn_marking_above_threshold_keeps_header_checksum_valid():
    pkt = _pkt(1, tos=0b10)  # ECT(0)
    marked = mark_ce(pkt)
    assert marked[1] & 0b11 == 0b11
    assert internet_checksum(marked[:20]) == 0
    assert mark_ce(_pkt(1, tos=0)) == _pkt(1, tos=0)  # Not-ECT untouched
    net, a, b, link, _ = _pair(rate_bps=1_000_000, ecn_mark_threshold=2)
    tx = link.transmitter(a)
    for i in range(5):
        tx(_pkt(i, size=1000, tos=0b10))
    net.sim.run()
    assert [d[1] & 0b11 for _, d in b.got] == [2, 2, 3, 3, 3]


def test_targeted_drop_by_index():
    net, a, b, link, events = _pair(drop=drop_nth(0, 2))
    tx = link.transmitter(a)
    for i in range(4):
        tx(_pkt(i, size=10))
    net.sim.run()
    assert [d[20] for _, d in b.got] == [1, 3]
    assert [e.reason for e in events if e.kind == "drop"] == ["targeted", "targeted"]


def test_same_seed_same_events_different_seed_different():
    def run(seed):
        net, a, _, link, events = _pair(seed=seed, loss=0.3, jitter=0.005, delay=0.01)
        tx = link.transmitter(a)
        for i in range(100):
            tx(_pkt(i, size=10))
        net.sim.run()
        return [(e.time, e.kind, e.packet_id, e.data) for e in events]

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_bad_impairment_values_are_refused():
    with pytest.raises(ValueError):
        ImpairmentConfig(loss=1.5)
    with pytest.raises(ValueError):
        ImpairmentConfig(delay=-1)
