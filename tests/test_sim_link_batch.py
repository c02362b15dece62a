"""Batched arrivals on a simulated link (Link(batch=n), as NAPI polls a device): packets of
one direction that arrive at the same instant reach a receiver with ``receiving_batch``
inside one such block, at most ``n`` at a time; everything else is delivered one by one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from sim_oneway import OneWay, one_way
from synack.link.impairment import ImpairmentConfig
from synack.sim import Network, Simulator
from synack.sim.link import NAPI_WEIGHT
from synack.tcp.config import TCPConfig
from synack.trace.events import PacketEvent


class BatchSink:
    """An endpoint that records which packets arrived inside which receiving_batch."""

    def __init__(self, name: str, sim: Simulator) -> None:
        self.name = name
        self.sim = sim
        self.batches: list[list[bytes]] = []
        self._open: list[bytes] | None = None
        self.loose: list[bytes] = []  # delivered outside any batch

    @contextmanager
    def receiving_batch(self) -> Iterator[None]:
        assert self._open is None, "batches do not nest"
        self._open = []
        try:
            yield
        finally:
            self.batches.append(self._open)
            self._open = None

    def receive_packet(self, data: bytes) -> None:
        (self._open if self._open is not None else self.loose).append(data)


class PlainSink:
    name = "plain"

    def __init__(self) -> None:
        self.got: list[bytes] = []

    def receive_packet(self, data: bytes) -> None:
        self.got.append(data)


def _pair(batch: int, config: ImpairmentConfig | None = None):
    net = Network(0)
    a, b = BatchSink("a", net.sim), BatchSink("b", net.sim)
    link = net.connect(a, b, config or ImpairmentConfig(delay=0.01), batch=batch)
    return net, a, b, link


def test_packets_arriving_together_come_in_one_batch_in_send_order() -> None:
    net, a, b, link = _pair(batch=NAPI_WEIGHT)
    events: list[PacketEvent] = []
    net.observe(lambda e: events.append(e) if isinstance(e, PacketEvent) else None)
    tx = link.transmitter(a)
    for i in range(5):
        tx(bytes([i]))
    net.run()
    assert b.batches == [[bytes([i]) for i in range(5)]] and b.loose == []
    # Observers still see each packet delivered, in order, at its arrival time.
    delivered = [(e.time, e.data) for e in events if e.kind == "deliver"]
    assert delivered == [(0.01, bytes([i])) for i in range(5)]


def test_a_batch_holds_at_most_the_budget() -> None:
    net, a, b, link = _pair(batch=4)
    tx = link.transmitter(a)
    for i in range(10):
        tx(bytes([i]))
    net.run()
    assert [len(x) for x in b.batches] == [4, 4, 2] and b.loose == []
    assert [p for x in b.batches for p in x] == [bytes([i]) for i in range(10)]


def test_a_packet_arriving_alone_needs_no_batch() -> None:
    net, a, b, link = _pair(batch=NAPI_WEIGHT)
    link.transmitter(a)(b"alone")
    net.run()
    assert b.batches == [] and b.loose == [b"alone"]


def test_packets_sent_at_different_instants_are_not_batched() -> None:
    net, a, b, link = _pair(batch=NAPI_WEIGHT)
    tx = link.transmitter(a)
    tx(b"x")
    net.sim.call_at(0.001, lambda: tx(b"y"))
    net.run()
    assert b.batches == [] and b.loose == [b"x", b"y"]


def test_a_rate_limit_spaces_packets_so_none_are_batched() -> None:
    config = ImpairmentConfig(delay=0.01, rate_bps=1e6, queue_limit=100)
    net, a, b, link = _pair(batch=NAPI_WEIGHT, config=config)
    tx = link.transmitter(a)
    for _ in range(5):
        tx(bytes(100))
    net.run()
    assert b.batches == [] and len(b.loose) == 5


def test_without_batch_every_packet_is_delivered_alone() -> None:
    net, a, b, link = _pair(batch=0)
    tx = link.transmitter(a)
    for i in range(5):
        tx(bytes([i]))
    net.run()
    assert b.batches == [] and b.loose == [bytes([i]) for i in range(5)]


def test_an_endpoint_without_receiving_batch_gets_packets_one_by_one() -> None:
    net = Network(0)
    a, plain = BatchSink("a", net.sim), PlainSink()
    link = net.connect(a, plain, ImpairmentConfig(delay=0.01), batch=NAPI_WEIGHT)
    tx = link.transmitter(a)
    for i in range(3):
        tx(bytes([i]))
    net.run()
    assert plain.got == [bytes([i]) for i in range(3)]


@pytest.mark.parametrize("bad", [-1, 1.5, "64", None])
def test_a_bad_batch_size_is_refused(bad: object) -> None:
    net = Network(0)
    with pytest.raises(ValueError, match="batch"):
        net.connect(BatchSink("a", net.sim), BatchSink("b", net.sim), batch=bad)  # type: ignore[arg-type]


def _transfer(batch: int, nbytes: int = 300_000) -> OneWay:
    config = TCPConfig(rcvbuf=1 << 20, sndbuf=1 << 20)
    link = ImpairmentConfig(delay=0.005)
    return one_way(
        Network(3), nbytes, client_config=config, server_config=config, link=link, batch=batch
    )


def test_a_bulk_transfer_with_batched_arrivals_is_intact_with_one_ack_per_burst() -> None:
    batched, plain = _transfer(batch=NAPI_WEIGHT), _transfer(batch=0)
    assert batched.got == batched.data and plain.got == plain.data
    server, server1 = batched.server, plain.server
    # One by one: an ACK for about every second full-sized segment (RFC 9293 §3.8.6.3).
    assert server1.counters["OutSegs"] >= server1.counters["InSegs"] // 2 - 2
    # Batched: one ACK for each burst (a round trip's flight), far fewer.
    assert server.counters["OutSegs"] < server.counters["InSegs"] // 4
    # The reader is told once per burst, for all the burst's bytes.
    assert sum(batched.notices) == len(batched.data)
    assert len(batched.notices) < len(plain.notices) // 4
