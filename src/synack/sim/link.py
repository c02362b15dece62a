"""A point-to-point link between two endpoints of the simulated network."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from synack.link.impairment import Impairment, ImpairmentConfig
from synack.sim.engine import Simulator
from synack.trace.events import Observer, PacketEvent, TraceEvent


class Endpoint(Protocol):
    name: str

    def receive_packet(self, data: bytes) -> None: ...


class Link:
    """Two endpoints; each direction has its own :class:`Impairment`.

    Every packet handed to a transmitter is reported to the observers as ``send``, then
    as ``drop`` (with the reason) or, at arrival, ``deliver`` (once per copy).
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
        self.sim = sim
        self.a = a
        self.b = b
        self.observers: list[Observer] = observers if observers is not None else []
        cfg_ab = config or ImpairmentConfig()
        cfg_ba = config_ba or cfg_ab
        self._dir = {
            a.name: Impairment(cfg_ab, sim.child_rng(f"link-{a.name}-{b.name}")),
            b.name: Impairment(cfg_ba, sim.child_rng(f"link-{b.name}-{a.name}")),
        }
        if a.name == b.name:
            raise ValueError("a link joins two different endpoints")

    def _emit(self, event: TraceEvent) -> None:
        for obs in self.observers:
            obs(event)

    def set_config(self, direction_from: str, config: ImpairmentConfig) -> None:
        """Change the impairments of the direction leaving ``direction_from``."""
        self._dir[direction_from].config = config

    def config(self, direction_from: str) -> ImpairmentConfig:
        return self._dir[direction_from].config

    def transmitter(self, endpoint: Endpoint) -> Callable[[bytes], None]:
        if endpoint is self.a:
            src, dst = self.a, self.b
        elif endpoint is self.b:
            src, dst = self.b, self.a
        else:
            raise ValueError(f"{endpoint.name} is not on this link")
        imp = self._dir[src.name]
        sim = self.sim

        def transmit(data: bytes) -> None:
            pid = sim.next_packet_id()
            now = sim.now
            self._emit(PacketEvent(now, "send", src.name, dst.name, data, pid))
            result = imp.offer(data, now, src.name, dst.name)
            if isinstance(result, str):
                self._emit(PacketEvent(now, "drop", src.name, dst.name, data, pid, result))
                return
            for when, copy in result:
                sim.call_at(when, _deliver(self, src.name, dst, copy, pid))

        return transmit


def _deliver(link: Link, src: str, dst: Endpoint, data: bytes, pid: int) -> Callable[[], None]:
    def run() -> None:
        link._emit(PacketEvent(link.sim.now, "deliver", src, dst.name, data, pid))
        dst.receive_packet(data)

    return run
