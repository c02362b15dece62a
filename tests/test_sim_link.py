"""Links and networks: trace events, delivery, runtime reconfiguration, determinism."""

import dataclasses
import time

import pytest

from synack.link.impairment import ImpairmentConfig, drop_nth
from synack.sim import Link, Network, Simulator
from synack.trace.events import PacketEvent, TraceEvent


class Sink:
    """A fake endpoint that records (time, bytes) of everything it receives."""

    def __init__(self, name: str, sim: Simulator) -> None:
        self.name = name
        self.sim = sim
        self.got: list[tuple[float, bytes]] = []

    def receive_packet(self, data: bytes) -> None:
        self.got.append((self.sim.now, data))


class Echo(Sink):
    """Sends every packet it receives straight back."""

    tx = None

    def receive_packet(self, data: bytes) -> None:
        super().receive_packet(data)
        assert self.tx is not None
        self.tx(data)


def _net(seed: int = 0, config: ImpairmentConfig | None = None, **kw):
    net = Network(seed)
    a, b = Sink("a", net.sim), Sink("b", net.sim)
    events: list[TraceEvent] = []
    net.observe(events.append)
    link = net.connect(a, b, config, **kw)
    return net, a, b, link, events


def _kinds(events):
    return [(e.kind, e.packet_id, e.src, e.dst, e.reason) for e in events]


def test_a_packet_is_reported_as_sent_then_delivered_with_one_id():
    net, a, b, link, events = _net(config=ImpairmentConfig(delay=0.02))
    net.sim.run(until=1.0)
    link.transmitter(a)(b"hello")
    net.run()
    assert b.got == [(1.02, b"hello")] and a.got == []
    assert events == [
        PacketEvent(1.0, "send", "a", "b", b"hello", 1),
        PacketEvent(1.02, "deliver", "a", "b", b"hello", 1),
    ]


def test_the_other_direction_goes_to_the_other_endpoint():
    net, a, b, link, events = _net()
    link.transmitter(b)(b"back")
    net.run()
    assert a.got == [(0.0, b"back")] and b.got == []
    assert {(e.src, e.dst) for e in events} == {("b", "a")}


def test_drops_are_reported_with_the_reason_and_never_delivered():
    net, a, b, link, events = _net(config=ImpairmentConfig(drop=drop_nth(1)))
    tx = link.transmitter(a)
    for p in (b"0", b"1", b"2"):
        tx(p)
    net.run()
    assert [d for _, d in b.got] == [b"0", b"2"]
    assert _kinds(events) == [
        ("send", 1, "a", "b", ""),
        ("send", 2, "a", "b", ""),
        ("drop", 2, "a", "b", "targeted"),
        ("send", 3, "a", "b", ""),
        ("deliver", 1, "a", "b", ""),
        ("deliver", 3, "a", "b", ""),
    ]


def test_each_direction_counts_its_own_packet_indices():
    net, a, b, link, _ = _net(config=ImpairmentConfig(drop=drop_nth(0)))
    link.transmitter(a)(b"a0")
    link.transmitter(b)(b"b0")
    link.transmitter(a)(b"a1")
    link.transmitter(b)(b"b1")
    net.run()
    assert [d for _, d in b.got] == [b"a1"] and [d for _, d in a.got] == [b"b1"]


def test_separate_configs_per_direction():
    ab = ImpairmentConfig(delay=0.01)
    ba = ImpairmentConfig(delay=0.03)
    net, a, b, link, _ = _net(config=ab, config_ba=ba)
    link.transmitter(a)(b"x")
    link.transmitter(b)(b"y")
    net.run()
    assert b.got == [(0.01, b"x")] and a.got == [(0.03, b"y")]
    assert link.config("a") is ab and link.config("b") is ba


def test_bandwidth_spaces_deliveries_ten_ms_apart():
    net, a, b, link, _ = _net(config=ImpairmentConfig(delay=0.005, rate_bps=1_000_000))
    tx = link.transmitter(a)
    for _ in range(10):
        tx(bytes(1250))
    net.run()
    times = [t for t, _ in b.got]
    assert times == pytest.approx([0.005 + 0.01 * (i + 1) for i in range(10)])


def test_queue_limit_drop_count_shows_in_the_trace():
    net, a, b, link, events = _net(config=ImpairmentConfig(rate_bps=1_000_000, queue_limit=2))
    tx = link.transmitter(a)
    for _ in range(8):
        tx(bytes(500))
    net.run()
    drops = [e for e in events if e.kind == "drop"]
    assert len(b.got) == 3 and [e.reason for e in drops] == ["queue_full"] * 5
    assert link.impairment("a").drops == {"queue_full": 5}


def test_duplicates_are_two_deliveries_with_the_same_packet_id():
    net, a, b, link, events = _net(config=ImpairmentConfig(duplicate=1.0, delay=0.01))
    link.transmitter(a)(b"dup")
    net.run()
    delivers = [e for e in events if e.kind == "deliver"]
    assert [(e.packet_id, e.data) for e in delivers] == [(1, b"dup"), (1, b"dup")]
    assert len(b.got) == 2


def test_reordering_changes_the_arrival_order():
    cfg = ImpairmentConfig(delay=0.001, reorder=0.3, reorder_delay=0.01)
    net, a, b, link, _ = _net(seed=3, config=cfg)
    tx = link.transmitter(a)
    for i in range(50):
        net.sim.call_at(i * 0.001, lambda i=i: tx(bytes([i])))
    net.run()
    order = [d[0] for _, d in b.got]
    assert sorted(order) == list(range(50)) and order != list(range(50))


def test_corruption_shows_on_deliver_but_not_on_send():
    net, a, _, link, events = _net(seed=1, config=ImpairmentConfig(corrupt=1.0))
    link.transmitter(a)(bytes(32))
    net.run()
    send, deliver = events
    assert send.data == bytes(32) and deliver.data != bytes(32)
    assert int.from_bytes(deliver.data, "big").bit_count() == 1


def test_set_config_takes_effect_for_later_packets_only():
    net, a, b, link, _ = _net(config=ImpairmentConfig(delay=0.1))
    tx = link.transmitter(a)
    tx(b"early")
    link.set_config("a", dataclasses.replace(link.config("a"), delay=0.01))
    tx(b"late")
    net.run()
    assert b.got == [(0.01, b"late"), (0.1, b"early")]
    link.set_config("a", ImpairmentConfig(loss=1.0))
    tx(b"gone")
    net.run()
    assert len(b.got) == 2
    with pytest.raises(ValueError):
        link.set_config("nobody", ImpairmentConfig())


def test_endpoints_may_answer_from_inside_receive():
    net = Network()
    a, b = Sink("a", net.sim), Echo("b", net.sim)
    link = net.connect(a, b, ImpairmentConfig(delay=0.25))
    b.tx = link.transmitter(b)
    link.transmitter(a)(b"ping")
    net.run()
    assert a.got == [(0.5, b"ping")]


def test_observers_added_later_see_all_links():
    net = Network()
    a, b, c = (Sink(n, net.sim) for n in "abc")
    ab, bc = net.connect(a, b), net.connect(b, c)
    events: list[TraceEvent] = []
    net.observe(events.append)
    ab.transmitter(a)(b"1")
    bc.transmitter(c)(b"2")
    net.run()
    assert [(e.kind, e.src, e.dst) for e in events] == [
        ("send", "a", "b"),
        ("send", "c", "b"),
        ("deliver", "a", "b"),
        ("deliver", "c", "b"),
    ]
    assert net.links == [ab, bc]


def test_a_link_works_without_observers_and_refuses_strangers():
    sim = Simulator()
    a, b, c = (Sink(n, sim) for n in "abc")
    link = Link(sim, a, b)
    link.transmitter(a)(b"quiet")
    sim.run()
    assert b.got == [(0.0, b"quiet")]
    with pytest.raises(ValueError):
        link.transmitter(c)
    with pytest.raises(ValueError):
        Link(sim, a, Sink("a", sim))


def _scripted_run(seed: int):
    cfg = ImpairmentConfig(
        delay=0.01,
        jitter=0.004,
        rate_bps=2_000_000,
        queue_limit=20,
        loss=0.1,
        duplicate=0.05,
        reorder=0.1,
        corrupt=0.05,
    )
    net, a, b, link, events = _net(seed=seed, config=cfg)
    tx_a, tx_b = link.transmitter(a), link.transmitter(b)
    for i in range(300):
        net.sim.call_at(i * 0.0005, lambda i=i: tx_a(bytes([i % 256]) * 200))
        net.sim.call_at(i * 0.0007, lambda i=i: tx_b(bytes([i % 256]) * 100))
    net.run()
    return [(e.time, e.kind, e.src, e.packet_id, e.reason, e.data) for e in events]


def test_same_seed_gives_identical_event_logs():
    assert _scripted_run(42) == _scripted_run(42)


def test_different_seeds_give_different_event_logs():
    assert _scripted_run(42) != _scripted_run(43)


def test_adding_a_link_does_not_perturb_another_links_randomness():
    def deliveries(extra_link: bool):
        net = Network(5)
        a, b, c = (Sink(n, net.sim) for n in "abc")
        if extra_link:
            net.connect(b, c, ImpairmentConfig(loss=0.5))
        link = net.connect(a, b, ImpairmentConfig(loss=0.5))
        tx = link.transmitter(a)
        for i in range(100):
            tx(bytes([i]))
        net.run()
        return b.got

    assert deliveries(False) == deliveries(True)


def test_a_hundred_thousand_packets_simulate_quickly():
    net = Network()
    a, b = Sink("a", net.sim), Sink("b", net.sim)
    events: list[TraceEvent] = []
    net.observe(events.append)
    link = net.connect(a, b, ImpairmentConfig(delay=0.01))
    tx = link.transmitter(a)
    count = 0

    def send():
        nonlocal count
        count += 1
        tx(b"x")
        if count < 50_000:
            net.sim.call_later(0.0001, send)

    net.sim.call_at(0.0, send)
    t0 = time.perf_counter()
    net.run()  # 100,000 events: 50,000 sends and 50,000 deliveries
    assert len(b.got) == 50_000 and len(events) == 100_000
    assert time.perf_counter() - t0 < 3.0
