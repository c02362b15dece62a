"""Hosts for the simulated network, with everything random derived from the seed."""

from __future__ import annotations

from synack.sim.engine import Simulator
from synack.stack.host import Host
from synack.tcp.config import TCPConfig
from synack.trace.events import Observer


def sim_host(
    sim: Simulator,
    name: str,
    ip: str,
    config: TCPConfig | None = None,
    observers: list[Observer] | None = None,
) -> Host:
    """A host on the simulator's clock whose ISN secret and port choices come from the
    simulator's seed (by name), so a run is reproducible."""
    return Host(
        name,
        ip,
        clock=sim.clock,
        config=config,
        secret=sim.child_rng(f"secret-{name}").randbytes(16),
        rng=sim.child_rng(f"ports-{name}"),
        observers=observers if observers is not None else [],
    )
