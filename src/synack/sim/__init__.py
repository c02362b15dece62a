"""The deterministic simulated network.

Theory of operation
-------------------
* **Virtual time.**  :class:`Simulator` holds ``now`` (seconds, from 0.0) and a heap of
  timed callbacks.  ``run()`` pops the earliest, sets ``now`` to its time and calls it;
  nothing ever sleeps, so a 60 s TIME_WAIT costs microseconds.  Callbacks due at the
  same instant run in the order they were scheduled, and cancelling is O(1) (a dead
  heap entry is skipped when it surfaces).
* **Hosts are sans-IO.**  A host reads the time from ``sim.clock`` and arms its timers
  through a :class:`SimScheduler`: it reports its single earliest deadline whenever that
  may have changed, and the scheduler calls it back then.
* **Links.**  A :class:`Link` joins two endpoints.  Sending offers the packet to the
  :class:`~synack.link.impairment.Impairment` of that direction -- a pure model of
  delay, jitter, bandwidth and queueing, loss, duplication, reordering, corruption,
  ECN marking and targeted drops -- and schedules one delivery event per surviving
  copy.  Observers see every packet as ``send`` then ``drop`` or ``deliver`` events
  (:mod:`synack.trace.events`) sharing one ``packet_id``.
* **Determinism.**  The seed is the only source of randomness.  Each consumer draws
  from its own stream, ``sim.child_rng(name)``, derived from ``(seed, name)`` with
  SHA-256, and each impairment kind has a separate stream within its link direction.
  Same seed and same script give the same events, times and bytes.
* :class:`Network` bundles a simulator, its links and the observers they report to.
"""

from synack.sim.engine import SimScheduler, Simulator, Timer
from synack.sim.link import Endpoint, Link
from synack.sim.network import Network

__all__ = ["Endpoint", "Link", "Network", "SimScheduler", "Simulator", "Timer"]
