"""Ephemeral port selection (RFC 6056; Linux's ip_local_port_range 32768-60999)."""

from __future__ import annotations

import random
from collections.abc import Callable

#: Linux net.ipv4.ip_local_port_range defaults.
EPHEMERAL_LOW = 32768
EPHEMERAL_HIGH = 60999


class PortAllocator:
    """Picks a local port for an active open, never one whose 4-tuple is in use.

    RFC 6056 §3.3.1 (algorithm 1): start at a random offset in the range and probe
    upward.  ``in_use(port)`` says whether the candidate is taken for this destination
    (an open connection, one in TIME_WAIT, or a listener on that port).
    """

    def __init__(
        self, rng: random.Random, low: int = EPHEMERAL_LOW, high: int = EPHEMERAL_HIGH
    ) -> None:
        if not 0 < low <= high <= 65535:
            raise ValueError(f"bad ephemeral range {low}-{high}")
        self.rng = rng
        self.low = low
        self.high = high

    def allocate(self, in_use: Callable[[int], bool]) -> int | None:
        count = self.high - self.low + 1
        offset = self.rng.randrange(count)
        for i in range(count):
            port = self.low + (offset + i) % count
            if not in_use(port):
                return port
        return None
