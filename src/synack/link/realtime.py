"""Running hosts in real time: a small event loop and a deadline scheduler.

The TCP core never sleeps and never polls: it says when it next needs to be woken
(``Host.next_deadline``).  :class:`RealtimeLoop` turns that into a wait with
``selectors``: it blocks until a registered descriptor (the TUN device) is readable or
the earliest timer is due, whichever comes first, then runs what is ready.  There is no
periodic tick: an idle stack with no timers waits in ``select`` with no timeout.

:class:`RealtimeLoop` offers the subset of :class:`asyncio.AbstractEventLoop` that links
and hosts use (``time``, ``call_at``, ``call_later``, ``call_soon``, ``add_reader``,
``remove_reader``), so :class:`~synack.link.tunlink.TunLink` and
:class:`ReactorScheduler` run unchanged on an asyncio loop as well (the asyncio API
does that).  On top of the asyncio subset, :meth:`RealtimeLoop.run_until` blocks the
calling thread until a condition holds: the blocking socket API is built on it.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import selectors
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["Reactor", "ReactorScheduler", "RealtimeLoop", "TimerHandle"]


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class Reactor(Protocol):
    """What a real-time link needs from an event loop (asyncio's loop has all of it)."""

    def time(self) -> float: ...

    def call_at(self, when: float, callback: Callable[..., object], *args: Any) -> Any: ...

    def add_reader(self, fd: int, callback: Callable[..., object], *args: Any) -> None: ...

    def remove_reader(self, fd: int) -> bool: ...


class TimerHandle:
    __slots__ = ("args", "callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[..., object], args: tuple[Any, ...]):
        self.when = when
        self.callback = callback
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class RealtimeLoop:
    """A single-threaded event loop on the monotonic clock (see the module docstring)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._selector = selectors.DefaultSelector()
        self._timers: list[tuple[float, int, TimerHandle]] = []
        self._seq = itertools.count()
        self._ready: deque[TimerHandle] = deque()
        self._closed = False
        self.wakeups = 0  # select() returns, for tests and profiles
        # Self-pipe: another thread wakes a blocked select() (call_soon_threadsafe).
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._threadsafe: deque[TimerHandle] = deque()
        self._selector.register(self._wake_r, selectors.EVENT_READ, (self._drain_wakeups, ()))

    def time(self) -> float:
        return self._clock()

    # --- scheduling ------------------------------------------------------------------

    def call_at(self, when: float, callback: Callable[..., object], *args: Any) -> TimerHandle:
        handle = TimerHandle(when, callback, args)
        heapq.heappush(self._timers, (when, next(self._seq), handle))
        return handle

    def call_later(self, delay: float, callback: Callable[..., object], *args: Any) -> TimerHandle:
        return self.call_at(self._clock() + delay, callback, *args)

    def call_soon(self, callback: Callable[..., object], *args: Any) -> TimerHandle:
        handle = TimerHandle(0.0, callback, args)
        self._ready.append(handle)
        return handle

    def call_soon_threadsafe(self, callback: Callable[..., object], *args: Any) -> TimerHandle:
        """Schedule ``callback`` from another thread, waking the loop if it waits."""
        handle = TimerHandle(0.0, callback, args)
        self._threadsafe.append(handle)  # deque.append is atomic
        with contextlib.suppress(BlockingIOError):
            os.write(self._wake_w, b"\0")
        return handle

    def _drain_wakeups(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while os.read(self._wake_r, 4096):
                pass
        while self._threadsafe:
            self._ready.append(self._threadsafe.popleft())

    def add_reader(self, fd: int, callback: Callable[..., object], *args: Any) -> None:
        self._selector.register(fd, selectors.EVENT_READ, (callback, args))

    def remove_reader(self, fd: int) -> bool:
        try:
            self._selector.unregister(fd)
        except (KeyError, ValueError):
            return False
        return True

    def next_timer(self) -> float | None:
        timers = self._timers
        while timers and timers[0][2].cancelled:
            heapq.heappop(timers)
        return timers[0][0] if timers else None

    # --- running ---------------------------------------------------------------------

    def run_once(self, timeout: float | None = None) -> None:
        """Wait for I/O or the next timer (at most ``timeout`` s), then run what is due."""
        if self._closed:
            raise RuntimeError("the loop is closed")
        if self._ready:
            wait: float | None = 0.0
        else:
            wait = timeout
            nxt = self.next_timer()
            if nxt is not None:
                until = max(nxt - self._clock(), 0.0)
                wait = until if wait is None else min(wait, until)
        if wait is None and len(self._selector.get_map()) <= 1:
            raise RuntimeError("the loop would wait forever: no readers and no timers")
        events = self._selector.select(wait)
        self.wakeups += 1
        for key, _ in events:
            callback, args = key.data
            callback(*args)
        now = self._clock()
        timers = self._timers
        while timers and timers[0][0] <= now:
            _, _, handle = heapq.heappop(timers)
            if not handle.cancelled:
                self._ready.append(handle)
        ready = self._ready
        for _ in range(len(ready)):  # what became ready meanwhile waits for the next turn
            handle = ready.popleft()
            if not handle.cancelled:
                handle.callback(*handle.args)

    def run_until(self, condition: Callable[[], bool], timeout: float | None = None) -> bool:
        """Run until ``condition()`` is true (returns True) or ``timeout`` s passed (False)."""
        deadline = None if timeout is None else self._clock() + timeout
        while not condition():
            if deadline is None:
                self.run_once(None)
                continue
            left = deadline - self._clock()
            if left <= 0:
                return condition()
            self.run_once(left)
        return True

    def run_for(self, seconds: float) -> None:
        """Run for ``seconds`` of wall time."""
        self.run_until(lambda: False, seconds)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._selector.close()
            os.close(self._wake_r)
            os.close(self._wake_w)
            self._timers.clear()
            self._ready.clear()


class ReactorScheduler:
    """A host's scheduler (``schedule(deadline)``) on a reactor's timers.

    The core re-arms its retransmission timer on nearly every ACK, always to a later
    time, so this keeps one reactor timer and lets it fire early rather than cancelling
    and re-creating it: when it fires before the current deadline it is just set again
    for the deadline.  Only an earlier deadline replaces the timer.
    """

    __slots__ = ("_callback", "_deadline", "_handle", "_handle_when", "_reactor")

    def __init__(self, reactor: Reactor, callback: Callable[[], None]) -> None:
        self._reactor = reactor
        self._callback = callback
        self._deadline: float | None = None
        self._handle: Cancellable | None = None
        self._handle_when = 0.0

    @property
    def deadline(self) -> float | None:
        return self._deadline

    def schedule(self, deadline: float | None) -> None:
        self._deadline = deadline
        if deadline is None:
            return  # a pending timer finds no deadline and does nothing
        if self._handle is not None:
            if self._handle_when <= deadline:
                return
            self._handle.cancel()
        self._arm(deadline)

    def _arm(self, when: float) -> None:
        self._handle_when = when
        self._handle = self._reactor.call_at(when, self._fire)

    def _fire(self) -> None:
        self._handle = None
        deadline = self._deadline
        if deadline is None:
            return
        if self._reactor.time() < deadline:
            self._arm(deadline)
            return
        self._deadline = None
        self._callback()

    def cancel(self) -> None:
        self._deadline = None
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
