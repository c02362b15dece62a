"""Blocking and timeouts shared by the stream and datagram sockets (socket.settimeout
semantics: None blocks, 0 never blocks, a number waits that long then raises)."""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from synack.api.runtime import Runtime


class Blocking:
    _rt: Runtime
    _timeout: float | None

    def _wait(self, condition: Callable[[], bool]) -> None:
        """Block until ``condition()``; raise as a socket with this timeout does."""
        if condition():
            return
        if self._timeout == 0.0:
            raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")
        if not self._rt.wait_until(condition, self._timeout):
            raise TimeoutError("timed out")

    def settimeout(self, timeout: float | None) -> None:
        if timeout is not None and timeout < 0:
            raise ValueError("Timeout value out of range")
        self._timeout = None if timeout is None else float(timeout)

    def gettimeout(self) -> float | None:
        return self._timeout

    def setblocking(self, flag: bool) -> None:
        self._timeout = None if flag else 0.0

    def getblocking(self) -> bool:
        return self._timeout != 0.0
