"""Where a sender's time goes, as Linux's chronographs account it (tcp_chrono_start,
tcp_chrono_stop, tcp_get_info_chrono_stats; tcpi_busy_time, tcpi_rwnd_limited,
tcpi_sndbuf_limited).

While data is outstanding or waiting the sender is *busy*; within that it may be
limited by the peer's receive window or by its own send buffer.  One clock runs at a
time, the most specific condition winning (sndbuf over rwnd over busy); when a
condition ends, the clock falls back to busy, or stops once nothing is left to send.
"""

from __future__ import annotations

UNSPEC, BUSY, RWND_LIMITED, SNDBUF_LIMITED = 0, 1, 2, 3


class Chrono:
    __slots__ = ("_kind", "_since", "_totals")

    def __init__(self) -> None:
        self._kind = UNSPEC
        self._since = 0.0
        self._totals = [0.0, 0.0, 0.0]  # seconds of BUSY, RWND_LIMITED, SNDBUF_LIMITED

    def _set(self, kind: int, now: float) -> None:
        if self._kind > UNSPEC:
            self._totals[self._kind - 1] += now - self._since
        self._since = now
        self._kind = kind

    def start(self, kind: int, now: float) -> None:
        """A condition begins; it takes over if more specific than the running one."""
        if kind > self._kind:
            self._set(kind, now)

    def stop(self, kind: int, now: float, idle: bool) -> None:
        """A condition ends: the clock stops if ``idle`` (nothing outstanding or queued),
        else it falls back to busy if ``kind`` was the one running."""
        if idle:
            if self._kind != UNSPEC:
                self._set(UNSPEC, now)
        elif kind == self._kind:
            self._set(BUSY, now)

    def totals(self, now: float) -> tuple[float, float, float]:
        """Seconds (busy in all, receive-window limited, send-buffer limited) so far."""
        t = list(self._totals)
        if self._kind > UNSPEC:
            t[self._kind - 1] += now - self._since
        return sum(t), t[RWND_LIMITED - 1], t[SNDBUF_LIMITED - 1]
