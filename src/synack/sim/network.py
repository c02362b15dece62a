"""A simulated network: a simulator, links between endpoints, and shared observers."""

from __future__ import annotations

from synack.link.impairment import ImpairmentConfig
from synack.sim.engine import Simulator
from synack.sim.link import Endpoint, Link
from synack.trace.events import Observer


class Network:
    def __init__(self, seed: int = 0) -> None:
        self.sim = Simulator(seed)
        self.observers: list[Observer] = []
        self.links: list[Link] = []

    def observe(self, observer: Observer) -> None:
        self.observers.append(observer)

    def connect(
        self,
        a: Endpoint,
        b: Endpoint,
        config: ImpairmentConfig | None = None,
        *,
        config_ba: ImpairmentConfig | None = None,
    ) -> Link:
        link = Link(self.sim, a, b, config, config_ba=config_ba, observers=self.observers)
        self.links.append(link)
        return link
