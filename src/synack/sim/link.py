"""A point-to-point link between two endpoints of the simulated network.

Each direction has its own :class:`~synack.link.impairment.Impairment` (delay,
bandwidth, loss, ...).  An endpoint sends by calling the transmitter the link gave it;
the link reports every packet to its observers as a ``send`` event, then either a
``drop`` event (same ``packet_id``, with the reason) right away, or -- at each copy's
arrival time -- a ``deliver`` event followed by the peer's ``receive_packet``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Protocol

from synack.link.impairment import Impairment, ImpairmentConfig
from synack.sim.engine import Simulator
from synack.trace.events import Observer, PacketEvent
from synack.wire.gso import segment_tcp_packet

__all__ = ["Endpoint", "Link"]


class Endpoint(Protocol):
    """Anything that can sit at one end of a link (a host, a router, a test sink)."""

    @property
    def name(self) -> str: ...

    def receive_packet(self, data: bytes) -> None: ...


class Link:
    """Two endpoints joined by two independently impaired directions.

    ``config`` applies to a -> b and, unless ``config_ba`` is given, also to b -> a (the
    two directions still keep separate queues and random streams; a stateful drop
    predicate in a shared config is shared, though).  ``observers`` is used as is, not
    copied, so a :class:`~synack.sim.network.Network` can add observers later.
    """

    def __init__(
        self,
        sim: Simulator,
        a: Endpoint,
        b: Endpoint,
        config: ImpairmentConfig | None = None,
        *,
        config_ba: ImpairmentConfig | None = None,
        observers: list[Observer] | None = None,
    ) -> None:
        if a.name == b.name:
            raise ValueError(f"a link joins two differently named endpoints, not {a.name!r} twice")
        self.sim = sim
        self.a = a
        self.b = b
        self.observers: list[Observer] = observers if observers is not None else []
        cfg_ab = config if config is not None else ImpairmentConfig()
        cfg_ba = config_ba if config_ba is not None else cfg_ab
        self._dir = {
            a.name: Impairment(cfg_ab, sim.child_rng(f"link-{a.name}-{b.name}")),
            b.name: Impairment(cfg_ba, sim.child_rng(f"link-{b.name}-{a.name}")),
        }

    def impairment(self, direction_from: str) -> Impairment:
        """The impairment state of the direction leaving the endpoint so named."""
        try:
            return self._dir[direction_from]
        except KeyError:
            raise ValueError(f"{direction_from!r} is not an endpoint of this link") from None

    def config(self, direction_from: str) -> ImpairmentConfig:
        """The current config of the direction leaving ``direction_from``."""
        return self.impairment(direction_from).config

    def set_config(self, direction_from: str, config: ImpairmentConfig) -> None:
        """Change the impairments of the direction leaving ``direction_from`` from now on.

        Packets already in flight keep their delivery times; the queue carries over.
        """
        self.impairment(direction_from).config = config

    def peer(self, endpoint: Endpoint) -> Endpoint:
        """The endpoint at the other end from ``endpoint``."""
        if endpoint is self.a:
            return self.b
        if endpoint is self.b:
            return self.a
        raise ValueError(f"{endpoint.name!r} is not on this link")

    def transmitter(self, endpoint: Endpoint) -> Callable[[bytes], None]:
        """The callable ``endpoint`` sends a whole IPv4 packet with."""
        dst = self.peer(endpoint)
        src_name, dst_name = endpoint.name, dst.name
        imp = self._dir[src_name]
        sim = self.sim
        observers = self.observers

        def transmit(data: bytes) -> None:
            pid = sim.next_packet_id()
            now = sim.now
            if observers:
                _emit(observers, PacketEvent(now, "send", src_name, dst_name, data, pid))
            result = imp.offer(data, now, src_name, dst_name)
            if isinstance(result, str):
                if observers:
                    event = PacketEvent(now, "drop", src_name, dst_name, data, pid, result)
                    _emit(observers, event)
                return
            for when, copy in result:
                sim.call_at(when, partial(self._deliver, src_name, dst, copy, pid))

        return transmit

    def gso_transmitter(self, endpoint: Endpoint) -> Callable[[bytes, int], None]:
        """The callable ``endpoint`` sends a TSO packet with (``Host.attach``'s
        ``transmit_gso``).

        While the direction only delays packets, the TSO packet crosses whole, as a GSO
        packet crosses a Linux veth pair, and observers see it whole, as tcpdump does on
        such a device.  Any impairment that acts per packet (a rate, a queue, loss,
        duplication, corruption, reordering, jitter, a targeted drop) needs the wire
        packets, so the packet is first cut into them (:mod:`synack.wire.gso`)."""
        transmit = self.transmitter(endpoint)
        imp = self._dir[endpoint.name]

        def transmit_gso(data: bytes, gso_size: int) -> None:
            if imp.config.only_delays:
                transmit(data)
                return
            for piece in segment_tcp_packet(data, gso_size):
                transmit(piece)

        return transmit_gso

    def _deliver(self, src_name: str, dst: Endpoint, data: bytes, pid: int) -> None:
        if self.observers:
            event = PacketEvent(self.sim.now, "deliver", src_name, dst.name, data, pid)
            _emit(self.observers, event)
        dst.receive_packet(data)


def _emit(observers: list[Observer], event: PacketEvent) -> None:
    for observer in observers:
        observer(event)
