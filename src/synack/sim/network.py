"""A simulated network: one simulator, the links between endpoints, shared observers."""

from __future__ import annotations

from synack.link.impairment import ImpairmentConfig
from synack.sim.engine import Simulator
from synack.sim.link import Endpoint, Link
from synack.trace.events import Observer

__all__ = ["Network"]


class Network:
    """Owns a :class:`Simulator` and the observer list every link it makes reports to.

    Observers added with :meth:`observe` see packets on all links, including links
    made earlier.
    """

    def __init__(self, seed: int = 0) -> None:
        self.sim = Simulator(seed)
        self.observers: list[Observer] = []
        self.links: list[Link] = []

    def observe(self, observer: Observer) -> None:
        """Report every packet event on every link to ``observer``."""
        self.observers.append(observer)

    def connect(
        self,
        a: Endpoint,
        b: Endpoint,
        config: ImpairmentConfig | None = None,
        *,
        config_ba: ImpairmentConfig | None = None,
        batch: int = 0,
    ) -> Link:
        """Join ``a`` and ``b`` with a new link (see :class:`Link` for the configs and
        ``batch``, batched arrivals)."""
        link = Link(
            self.sim, a, b, config, config_ba=config_ba, observers=self.observers, batch=batch
        )
        self.links.append(link)
        return link

    @property
    def now(self) -> float:
        return self.sim.now

    def run(self, until: float | None = None, max_events: int | None = None) -> None:
        """Shorthand for ``net.sim.run(...)``."""
        self.sim.run(until=until, max_events=max_events)
