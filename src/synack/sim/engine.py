"""The discrete-event engine: a virtual clock and a queue of timed callbacks.

Nothing here sleeps.  :meth:`Simulator.run` pops the earliest event, sets :attr:`now`
to its time and calls it; events scheduled for the same instant run in the order they
were scheduled (a monotonically increasing sequence number breaks ties), so a run is a
pure function of the seed and the script.

Cancelling a :class:`Timer` is O(1): the heap entry stays where it is and is skipped
when it reaches the top.  When dead entries outnumber live ones the heap is rebuilt
(amortised O(1) per cancel), so a host that re-arms a far-off timer after every
packet does not make the heap grow without bound.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import random
from collections.abc import Callable
from itertools import count

__all__ = ["SimScheduler", "Simulator", "Timer"]

_COMPACT_MIN = 1024  # never rebuild a heap with fewer dead entries than this


class Timer:
    """A scheduled callback.  ``when`` is its (virtual) due time in seconds."""

    __slots__ = ("_fn", "_sim", "when")

    def __init__(self, sim: Simulator, when: float, fn: Callable[[], None]) -> None:
        self._sim = sim
        self.when = when
        self._fn: Callable[[], None] | None = fn

    @property
    def active(self) -> bool:
        """True until the timer has fired or been cancelled."""
        return self._fn is not None

    def cancel(self) -> None:
        """Stop the callback from running.  Harmless if it already ran or was cancelled."""
        if self._fn is not None:
            self._fn = None
            self._sim._live -= 1

    def __repr__(self) -> str:
        state = "active" if self._fn is not None else "inactive"
        return f"<Timer when={self.when!r} {state}>"


class Simulator:
    """Virtual clock plus event queue; the only source of time and randomness in a run."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.now: float = 0.0
        self.rng = random.Random(seed)
        self._heap: list[tuple[float, int, Timer]] = []
        self._seq = count()
        self._live = 0  # scheduled, not yet fired and not cancelled
        self._running = False
        self._packet_ids = count(1)

    # -- time and randomness -------------------------------------------------------

    def clock(self) -> float:
        """The current virtual time; hand ``sim.clock`` to hosts as their clock."""
        return self.now

    def child_rng(self, name: str) -> random.Random:
        """An independent RNG derived from ``(seed, name)`` by SHA-256.

        The same name always yields the same stream for a given seed, whatever else
        the run does, so adding a link or a host does not perturb anyone else's
        randomness.  (Python's ``hash()`` is salted per process and is never used.)
        """
        digest = hashlib.sha256(f"synack-sim\0{self.seed}\0{name}".encode()).digest()
        return random.Random(int.from_bytes(digest[:16], "big"))

    def next_packet_id(self) -> int:
        """A fresh packet id (1, 2, 3, ...), unique within this simulator."""
        return next(self._packet_ids)

    # -- scheduling ----------------------------------------------------------------

    def call_at(self, when: float, fn: Callable[[], None]) -> Timer:
        """Run ``fn()`` at virtual time ``when``; a time in the past means "now"."""
        if math.isnan(when):
            raise ValueError("cannot schedule an event at NaN")
        if when < self.now:
            when = self.now
        timer = Timer(self, when, fn)
        heapq.heappush(self._heap, (when, next(self._seq), timer))
        self._live += 1
        return timer

    def call_later(self, delay: float, fn: Callable[[], None]) -> Timer:
        """Run ``fn()`` ``delay`` seconds from now."""
        return self.call_at(self.now + delay, fn)

    def pending(self) -> int:
        """The number of scheduled events that have neither run nor been cancelled."""
        return self._live

    def peek(self) -> float | None:
        """The due time of the next live event, or None if there is none."""
        heap = self._heap
        while heap and heap[0][2]._fn is None:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    # -- running -------------------------------------------------------------------

    def step(self) -> bool:
        """Run the next live event, if any.  Returns whether one ran."""
        return self._run(None, 1) > 0

    def run(self, until: float | None = None, max_events: int | None = None) -> None:
        """Run events in time order.

        Stops when the queue is empty, when the next event is due after ``until``, or
        after ``max_events`` events.  In the first two cases, if ``until`` was given,
        the clock is then advanced to ``until`` (so ``run(until=60)`` always leaves
        ``now == 60`` unless ``max_events`` stopped it first).
        """
        if until is not None and until < self.now:
            raise ValueError(f"run(until={until}) is before now={self.now}")
        if max_events is not None and max_events < 0:
            raise ValueError("max_events must be >= 0")
        ran = self._run(until, max_events)
        if until is not None and (max_events is None or ran < max_events):
            nxt = self.peek()
            if nxt is None or nxt > until:
                self.now = until

    def _run(self, until: float | None, max_events: int | None) -> int:
        if self._running:
            raise RuntimeError("Simulator.run/step called from inside an event")
        self._running = True
        heap = self._heap
        pop = heapq.heappop
        limit = -1 if max_events is None else max_events
        ran = 0
        try:
            while ran != limit and heap:
                when, _, timer = heap[0]
                fn = timer._fn
                if fn is None:
                    pop(heap)
                    continue
                if until is not None and when > until:
                    break
                pop(heap)
                timer._fn = None
                self._live -= 1
                self.now = when
                ran += 1
                fn()
                dead = len(heap) - self._live
                if dead > _COMPACT_MIN and dead > self._live:
                    self._compact()
        finally:
            self._running = False
        return ran

    def _compact(self) -> None:
        self._heap[:] = [entry for entry in self._heap if entry[2]._fn is not None]
        heapq.heapify(self._heap)


class SimScheduler:
    """Drives one host's single "next deadline" from the simulator.

    The host calls :meth:`schedule` whenever its earliest deadline may have changed;
    the previous deadline is forgotten.  When the deadline arrives, ``callback()`` is
    called (the host then processes its timers and calls :meth:`schedule` again).
    """

    __slots__ = ("_callback", "_sim", "_timer")

    def __init__(self, sim: Simulator, callback: Callable[[], None]) -> None:
        self._sim = sim
        self._callback = callback
        self._timer: Timer | None = None

    @property
    def deadline(self) -> float | None:
        """When the callback will next fire, or None if nothing is scheduled."""
        timer = self._timer
        return timer.when if timer is not None and timer.active else None

    def schedule(self, deadline: float | None) -> None:
        """Replace the pending deadline; None clears it.  Past deadlines fire "now"."""
        old = self._timer
        if deadline is None:
            if old is not None:
                old.cancel()
                self._timer = None
            return
        when = max(deadline, self._sim.now)
        if old is not None:
            if old.active and old.when == when:
                return  # unchanged: keep the existing heap entry
            old.cancel()
        self._timer = self._sim.call_at(when, self._fire)

    def cancel(self) -> None:
        """Forget the pending deadline, if any."""
        self.schedule(None)

    def _fire(self) -> None:
        self._timer = None
        self._callback()
