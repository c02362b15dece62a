"""A wire between two kernels: synack's impairment model between two TUN devices.

The kernel here has no netem, so a test of the *kernel's own* TCP over a bad network --
the reference behaviour synack is compared with -- needs a link in user space.  A
:class:`Relay` reads the IPv4 packets one namespace's kernel routes to its TUN device,
passes each through an :class:`~synack.link.impairment.Impairment` (loss, delay, jitter,
reordering, duplication, corruption, a rate-limited FIFO with a drop-tail queue) and
writes it into the other namespace's TUN device at the time the model gives, and the
same the other way.  With namespace A holding 192.0.2.1 (its peer 192.0.2.2 behind the
TUN) and namespace B holding 192.0.2.2 (its peer 192.0.2.1), packets cross unchanged:
the two kernels talk to each other as over a cable (``benchmarks/goodput_kernel.py``).

Delivery times are kept to within tens of microseconds: the loop waits in ``epoll``
until a deadline is close, then polls (``epoll`` timeouts are whole milliseconds, which
would add up to a millisecond to each packet's delay).  Packets that are not IPv4 are
counted and dropped.
"""

from __future__ import annotations

import heapq
import itertools
import random
import select
import time
from collections import Counter
from collections.abc import Callable

from synack.link.impairment import Impairment, ImpairmentConfig
from synack.link.tun import TunDevice

#: Closer than this to the next delivery, the loop polls instead of sleeping (s).
SPIN = 0.002
#: How often :meth:`Relay.run_for` asks its ``stop`` callback (s).
STOP_CHECK = 0.01


class Relay:
    """Packets from ``a`` go to ``b`` through ``a_to_b``, and back through ``b_to_a``
    (None: delivered at once, unimpaired)."""

    def __init__(
        self,
        a: TunDevice,
        b: TunDevice,
        a_to_b: ImpairmentConfig | None = None,
        b_to_a: ImpairmentConfig | None = None,
        *,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if a.offload or b.offload:
            raise ValueError("the relay needs TUN devices without offload (wire packets)")
        rng = rng or random.Random(0)
        self.devices = (a, b)
        self.impairments = (
            Impairment(a_to_b, random.Random(rng.getrandbits(64))) if a_to_b else None,
            Impairment(b_to_a, random.Random(rng.getrandbits(64))) if b_to_a else None,
        )
        self.clock = clock
        self.stats: Counter[str] = Counter()
        self._due: list[tuple[float, int, int, bytes]] = []  # (when, tick, to device, data)
        self._tick = itertools.count()
        self._poll = select.epoll()
        for dev in self.devices:
            self._poll.register(dev.fileno(), select.EPOLLIN)
        self._side = {dev.fileno(): side for side, dev in enumerate(self.devices)}

    def drops(self, side: int) -> Counter[str]:
        """What the impairment from ``side`` (0: a to b, 1: b to a) dropped, by reason."""
        imp = self.impairments[side]
        return Counter(imp.drops) if imp is not None else Counter()

    def _take(self, side: int, now: float) -> None:
        dev = self.devices[side]
        imp = self.impairments[side]
        for data in dev.read_batch(64):
            if not data or data[0] >> 4 != 4:
                self.stats["not_ipv4"] += 1
                continue
            self.stats[f"in_{side}"] += 1
            if imp is None:
                self._send(1 - side, data)
                continue
            verdict = imp.offer(data, now)
            if isinstance(verdict, str):
                continue
            for when, copy in verdict:
                if when <= now:
                    self._send(1 - side, copy)
                else:
                    heapq.heappush(self._due, (when, next(self._tick), 1 - side, copy))

    def _send(self, side: int, data: bytes) -> None:
        if self.devices[side].write(data):
            self.stats[f"out_{side}"] += 1
        else:
            self.stats["write_errors"] += 1

    def run_for(self, seconds: float, stop: Callable[[], bool] | None = None) -> None:
        """Relay for ``seconds`` of wall time, or until ``stop()`` is true."""
        end = self.clock() + seconds
        due = self._due
        check = 0.0  # ``stop`` is asked at most every STOP_CHECK seconds
        while True:
            now = self.clock()
            while due and due[0][0] <= now:
                _, _, side, data = heapq.heappop(due)
                self._send(side, data)
            if now >= end:
                return
            if stop is not None and now >= check:
                if stop():
                    return
                check = now + STOP_CHECK
            nxt = min(due[0][0], end) if due else end
            wait = nxt - now
            timeout = 0.0 if wait <= SPIN else min(wait - SPIN, 0.1)
            for fd, _ in self._poll.poll(timeout):
                self._take(self._side[fd], self.clock())

    def close(self) -> None:
        self._poll.close()
