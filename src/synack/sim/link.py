"""A point-to-point link between two endpoints of the simulated network.

Each direction has its own :class:`~synack.link.impairment.Impairment` (delay,
bandwidth, loss, ...).  An endpoint sends by calling the transmitter the link gave it;
the link reports every packet to its observers as a ``send`` event, then either a
``drop`` event (same ``packet_id``, with the reason) right away, or -- at each copy's
arrival time -- a ``deliver`` event followed by the peer's ``receive_packet``.

Batched arrivals (``batch``, off by default): a NIC does not interrupt its host once
per packet.  Linux's NAPI polls the device for up to a budget of packets (the
driver's weight, 64) and the stack handles them as one batch; synack's TUN link reads
up to 64 packets per wake-up the same way.  With ``batch=n`` the link hands the
packets of one direction that arrive at the same virtual instant, up to ``n`` of them,
to a receiver that has ``receiving_batch`` (a :class:`~synack.stack.host.Host`) inside
one such block: each is still processed on arrival, in order, but the receiver sends
one ACK per flow for the batch and raises its events once
(:meth:`~synack.stack.host.Host.receiving_batch`).  Packets only arrive together when
nothing spaces them out (no rate limit, no jitter): a burst sent at one instant over a
delay-only link.  One-by-one delivery stays the default, so a trace shows the ACK for
every second segment that RFC 9293 §3.8.6.3 describes.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import partial
from typing import Protocol

from synack.link.impairment import Impairment, ImpairmentConfig
from synack.sim.engine import Simulator
from synack.trace.events import Observer, PacketEvent
from synack.wire.gso import segment_tcp_packet

__all__ = ["NAPI_WEIGHT", "Endpoint", "Link"]


class Endpoint(Protocol):
    """Anything that can sit at one end of a link (a host, a router, a test sink)."""

    @property
    def name(self) -> str: ...

    def receive_packet(self, data: bytes) -> None: ...


#: Linux's NAPI budget per poll (the default driver weight, net.core.dev_weight) and
#: the batch synack's TUN link reads: the size to pass as ``Link(batch=...)``.
NAPI_WEIGHT = 64


class Link:
    """Two endpoints joined by two independently impaired directions.

    ``config`` applies to a -> b and, unless ``config_ba`` is given, also to b -> a (the
    two directions still keep separate queues and random streams; a stateful drop
    predicate in a shared config is shared, though).  ``observers`` is used as is, not
    copied, so a :class:`~synack.sim.network.Network` can add observers later.
    ``batch`` (0: one by one) is the most packets arriving at one instant that are handed
    to the receiver as one batch (the module docstring; :data:`NAPI_WEIGHT` is Linux's).
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
        batch: int = 0,
    ) -> None:
        if a.name == b.name:
            raise ValueError(f"a link joins two differently named endpoints, not {a.name!r} twice")
        if type(batch) is not int or batch < 0:
            raise ValueError(f"batch is a number of packets >= 0, not {batch!r}")
        self.batch = batch
        # Per direction (by sender's name): the batch still open for more arrivals at
        # its instant, as (arrival time, [(packet, packet id)]).
        self._open: dict[str, tuple[float, list[tuple[bytes, int]]]] = {}
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
            if self.batch > 1:
                for when, copy in result:
                    self._arrive(src_name, dst, when, copy, pid)
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

    def _arrive(self, src_name: str, dst: Endpoint, when: float, data: bytes, pid: int) -> None:
        """Add a packet to the direction's open batch if it arrives at the same instant
        and the batch has room, else open a new batch, delivered at ``when``."""
        open_batch = self._open.get(src_name)
        if open_batch is not None and open_batch[0] == when and len(open_batch[1]) < self.batch:
            open_batch[1].append((data, pid))
            return
        packets = [(data, pid)]
        self._open[src_name] = (when, packets)
        self.sim.call_at(when, partial(self._deliver_batch, src_name, dst, packets))

    def _deliver_batch(
        self, src_name: str, dst: Endpoint, packets: list[tuple[bytes, int]]
    ) -> None:
        open_batch = self._open.get(src_name)
        if open_batch is not None and open_batch[1] is packets:
            del self._open[src_name]  # closed: later arrivals start a new batch
        receiving: Callable[[], AbstractContextManager[None]] | None = getattr(
            dst, "receiving_batch", None
        )
        if receiving is None or len(packets) == 1:
            for data, pid in packets:
                self._deliver(src_name, dst, data, pid)
            return
        with receiving():
            for data, pid in packets:
                self._deliver(src_name, dst, data, pid)

    def _deliver(self, src_name: str, dst: Endpoint, data: bytes, pid: int) -> None:
        if self.observers:
            event = PacketEvent(self.sim.now, "deliver", src_name, dst.name, data, pid)
            _emit(self.observers, event)
        dst.receive_packet(data)


def _emit(observers: list[Observer], event: PacketEvent) -> None:
    for observer in observers:
        observer(event)
