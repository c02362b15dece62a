"""A tiny IPv4 router for the simulator, and a dumbbell of hosts around a bottleneck.

The router is an :class:`~synack.sim.link.Endpoint` with one transmitter per route.  It
forwards each packet by destination address, as RFC 1812 asks of a router: it checks
the header (§5.2.2: a bad checksum or version is dropped silently), decrements the TTL
and drops the packet when it reaches zero (§5.3.1; no ICMP here), and updates the header
checksum incrementally (RFC 1624 eqn. 3).  Queueing, loss and ECN marking are the links'
business (:mod:`synack.link.impairment`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from synack.errors import DecodeError
from synack.link.impairment import ImpairmentConfig
from synack.sim.engine import SimScheduler
from synack.sim.hosts import sim_host
from synack.sim.link import Link
from synack.sim.network import Network
from synack.stack.host import Host
from synack.tcp.config import TCPConfig
from synack.trace.recorder import Recorder
from synack.wire.ip import decode_ipv4

Transmit = Callable[[bytes], None]


def _ones_add(a: int, b: int) -> int:
    s = a + b
    return (s & 0xFFFF) + (s >> 16)


def decrement_ttl(data: bytes) -> bytes:
    """``data`` with its TTL one lower and the header checksum updated in place of a
    recomputation: ``HC' = ~(~HC + ~m + m')`` (RFC 1624 eqn. 3), ``m`` the TTL/protocol
    word."""
    old = (data[8] << 8) | data[9]
    new = old - 0x100
    hc = (data[10] << 8) | data[11]
    s = _ones_add(_ones_add(~hc & 0xFFFF, ~old & 0xFFFF), new)
    hc2 = ~s & 0xFFFF
    return data[:8] + bytes((data[8] - 1, data[9], hc2 >> 8, hc2 & 0xFF)) + data[12:]


class Router:
    """Forwards IPv4 packets between links by exact destination address."""

    def __init__(self, name: str = "router") -> None:
        self._name = name
        self.routes: dict[str, Transmit] = {}
        self.drops: Counter[str] = Counter()
        self.forwarded = 0

    @property
    def name(self) -> str:
        return self._name

    def add_route(self, dst_ip: str, transmit: Transmit) -> None:
        self.routes[dst_ip] = transmit

    def receive_packet(self, data: bytes) -> None:
        try:
            pkt = decode_ipv4(data)  # RFC 1812 §5.2.2: validate the header first
        except DecodeError as e:
            self.drops[e.reason] += 1
            return
        out = self.routes.get(pkt.dst)
        if out is None:
            self.drops["no_route"] += 1
            return
        if pkt.ttl <= 1:
            self.drops["ttl_exceeded"] += 1  # RFC 1812 §5.3.1
            return
        self.forwarded += 1
        out(decrement_ttl(data))


@dataclass
class Dumbbell:
    """``senders`` -- each on its own access link -- and one ``receiver`` behind a router;
    the router -> receiver direction is the bottleneck.  Every link reports to
    ``recorder``; ``hosts`` maps host names to addresses (for :func:`flow_audit.audit`).
    """

    net: Network
    recorder: Recorder
    router: Router
    senders: list[Host]
    receiver: Host
    bottleneck: Link
    access: list[Link]

    @property
    def hosts(self) -> dict[str, str]:
        return {h.name: h.ip for h in [*self.senders, self.receiver]}


def build_dumbbell(
    n_senders: int,
    *,
    bottleneck: ImpairmentConfig,
    reverse: ImpairmentConfig | None = None,
    access: ImpairmentConfig | None = None,
    config: TCPConfig | None = None,
    seed: int = 0,
    record: bool = True,
) -> Dumbbell:
    """Senders 10.0.0.1..n, the receiver 10.0.1.1, all through one router.

    ``bottleneck`` applies to router -> receiver, ``reverse`` to receiver -> router (the
    ACK path; default: the same delay, no rate limit), ``access`` to both directions of
    each sender's link (default: perfect).
    """
    cfg = config or TCPConfig()
    net = Network(seed)
    recorder = Recorder()
    if record:
        net.observe(recorder)
    router = Router()
    receiver = sim_host(net.sim, "receiver", "10.0.1.1", cfg, [recorder])
    rev = reverse if reverse is not None else ImpairmentConfig(delay=bottleneck.delay)
    neck = net.connect(router, receiver, bottleneck, config_ba=rev)
    receiver.attach(neck.transmitter(receiver), SimScheduler(net.sim, receiver.on_timer))
    router.add_route(receiver.ip, neck.transmitter(router))
    senders: list[Host] = []
    links: list[Link] = []
    for i in range(n_senders):
        host = sim_host(net.sim, f"sender{i + 1}", f"10.0.0.{i + 1}", cfg, [recorder])
        link = net.connect(host, router, access or ImpairmentConfig())
        host.attach(link.transmitter(host), SimScheduler(net.sim, host.on_timer))
        router.add_route(host.ip, link.transmitter(router))
        senders.append(host)
        links.append(link)
    return Dumbbell(net, recorder, router, senders, receiver, neck, links)
