"""How time passes for a blocking API: in the simulator, or in real time.

A blocking call (``accept``, ``connect``, ``recv``...) waits for a condition on the
stack.  A :class:`Runtime` says how to wait:

* :class:`SimRuntime` runs the simulator, event by event, until the condition holds or
  the (virtual) timeout passes.  Waiting costs no wall time: a 60 s TIME_WAIT is over
  at once.  If the simulator runs out of events while the condition is still false,
  nothing can ever make it true, and :class:`SimulationStalled` is raised instead of
  hanging.
* :class:`RealtimeRuntime` runs a :class:`~synack.link.realtime.RealtimeLoop` (the TUN
  device and the host's timers) until the condition holds or the timeout passes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from synack.errors import SynackError
from synack.link.realtime import RealtimeLoop
from synack.sim.engine import Simulator
from synack.stack.host import Host

__all__ = ["RealtimeRuntime", "Runtime", "SimRuntime", "SimulationStalled"]


class SimulationStalled(SynackError, RuntimeError):
    """A blocking call waits for something no pending simulator event can bring."""


class Runtime(Protocol):
    @property
    def host(self) -> Host: ...

    def time(self) -> float: ...

    def wait_until(self, condition: Callable[[], bool], timeout: float | None) -> bool:
        """Run the stack until ``condition()`` (True) or ``timeout`` seconds pass (False)."""
        ...


class SimRuntime:
    """One host of a simulation, blocking in virtual time."""

    def __init__(self, sim: Simulator, host: Host) -> None:
        self.sim = sim
        self._host = host

    @property
    def host(self) -> Host:
        return self._host

    def time(self) -> float:
        return self.sim.now

    def wait_until(self, condition: Callable[[], bool], timeout: float | None) -> bool:
        sim = self.sim
        deadline = None if timeout is None else sim.now + timeout
        while not condition():
            nxt = sim.peek()
            if deadline is not None and (nxt is None or nxt > deadline):
                sim.run(until=deadline)
                return condition()
            if nxt is None:
                raise SimulationStalled(
                    f"{self._host.name}: a blocking call would wait forever "
                    "(no event is pending in the simulator)"
                )
            sim.step()
        return True


class RealtimeRuntime:
    """A host on a real-time loop (a TUN device), blocking the calling thread."""

    def __init__(self, loop: RealtimeLoop, host: Host) -> None:
        self.loop = loop
        self._host = host

    @property
    def host(self) -> Host:
        return self._host

    def time(self) -> float:
        return self.loop.time()

    def wait_until(self, condition: Callable[[], bool], timeout: float | None) -> bool:
        return self.loop.run_until(condition, timeout)
