"""Event loops that put asyncio programs on synack.

:class:`SynackEventLoop` is asyncio's selector loop with synack hosts registered on it:
its ``create_connection`` and ``create_server`` use them, so *unmodified* asyncio code
(``asyncio.open_connection``, ``asyncio.start_server``, any Protocol) talks TCP through
synack.  The host is chosen by address: ``create_server(host=IP)`` and
``create_connection(local_addr=(IP, port))`` pick the host that owns IP; otherwise the
first host added is used.

:class:`SimEventLoop` runs in the simulator's virtual time.  Its ``time()`` is the
simulator's clock, and its selector, instead of sleeping until the next asyncio timer,
runs simulator events up to that time (stopping early when one of them schedules an
asyncio callback -- a packet arrived, a protocol was told).  A program's ``sleep(60)``,
a 200 ms RTT or a 60 s TIME_WAIT cost no wall time, and the run is deterministic.  When
neither asyncio nor the simulator has anything left to do while the program still waits,
nothing can ever wake it, and :class:`~synack.api.runtime.SimulationStalled` is raised.

:func:`run` runs a coroutine to completion on such a loop (``asyncio.Runner`` with the
loop as factory).
"""

from __future__ import annotations

import asyncio
import contextvars
import selectors
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, TypeVar, TypeVarTuple, Unpack

from synack.api.runtime import SimulationStalled
from synack.asyncio.streams import create_connection, create_server
from synack.asyncio.transport import SynackTransport
from synack.sim.engine import Simulator
from synack.stack.host import Host

__all__ = ["SimEventLoop", "SynackEventLoop", "VirtualTimeSelector", "run"]

T = TypeVar("T")
_Ts = TypeVarTuple("_Ts")


class SynackEventLoop(asyncio.SelectorEventLoop):
    """asyncio's loop, with TCP connections and servers made on synack hosts."""

    def __init__(
        self, hosts: Iterable[Host] = (), selector: selectors.BaseSelector | None = None
    ) -> None:
        super().__init__(selector)
        self.hosts: list[Host] = list(hosts)

    def add_host(self, host: Host) -> None:
        self.hosts.append(host)

    def pick_host(self, ip: str | None = None) -> Host:
        if not self.hosts:
            raise ValueError("this loop has no synack host (add_host)")
        if ip is None or ip in ("", "0.0.0.0"):
            return self.hosts[0]
        for h in self.hosts:
            if h.ip == ip:
                return h
        raise OSError(99, f"Cannot assign requested address: no synack host owns {ip}")

    async def create_connection(  # type: ignore[override]
        self,
        protocol_factory: Any,
        host: str | None = None,
        port: int | None = None,
        *,
        local_addr: tuple[str, int] | None = None,
        ssl: Any = None,
        **kwargs: Any,
    ) -> tuple[SynackTransport, asyncio.BaseProtocol]:
        if ssl:
            raise NotImplementedError("TLS over synack is not supported")
        if host is None or port is None:
            raise ValueError("host and port must be given (sock= is not supported)")
        stack = self.pick_host(local_addr[0] if local_addr else None)
        local_port = local_addr[1] if local_addr and local_addr[1] else None
        return await create_connection(
            protocol_factory, host, port, stack=stack, local_port=local_port
        )

    async def create_server(  # type: ignore[override]
        self,
        protocol_factory: Any,
        host: str | None = None,
        port: int | None = None,
        *,
        backlog: int = 100,
        ssl: Any = None,
        **kwargs: Any,
    ) -> asyncio.AbstractServer:
        if ssl:
            raise NotImplementedError("TLS over synack is not supported")
        stack = self.pick_host(host)
        return await create_server(protocol_factory, host, port or 0, stack=stack, backlog=backlog)


class VirtualTimeSelector(selectors.BaseSelector):
    """A selector whose waiting runs the simulator instead of sleeping.

    Real descriptors (the loop's self-pipe) are still polled, without waiting.
    """

    def __init__(self, sim: Simulator) -> None:
        self._sim = sim
        self._inner = selectors.DefaultSelector()
        self.woken = False

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.modify(fileobj, events, data)

    def get_map(self) -> Any:
        return self._inner.get_map()

    def close(self) -> None:
        self._inner.close()

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = self._inner.select(0)
        if ready or (timeout is not None and timeout <= 0):
            return ready
        sim = self._sim
        deadline = None if timeout is None else sim.now + timeout
        self.woken = False
        while not self.woken:
            nxt = sim.peek()
            if nxt is None or (deadline is not None and nxt > deadline):
                if deadline is None:
                    raise SimulationStalled(
                        "the program waits, but neither asyncio nor the simulator has "
                        "anything scheduled: it would wait forever"
                    )
                sim.run(until=deadline)
                break
            sim.step()
        return []


class SimEventLoop(SynackEventLoop):
    """A :class:`SynackEventLoop` in the simulator's virtual time."""

    def __init__(self, sim: Simulator, hosts: Iterable[Host] = ()) -> None:
        self.sim = sim
        self._vselector = VirtualTimeSelector(sim)
        super().__init__(hosts, self._vselector)

    def time(self) -> float:
        return self.sim.now

    # Anything scheduled while the selector runs the simulator must end its wait.
    def call_soon(
        self,
        callback: Callable[[Unpack[_Ts]], object],
        *args: *_Ts,
        context: contextvars.Context | None = None,
    ) -> asyncio.Handle:
        self._vselector.woken = True
        return super().call_soon(callback, *args, context=context)

    def call_at(
        self,
        when: float,
        callback: Callable[[Unpack[_Ts]], object],
        *args: *_Ts,
        context: contextvars.Context | None = None,
    ) -> asyncio.TimerHandle:
        self._vselector.woken = True
        return super().call_at(when, callback, *args, context=context)


def run(main: Coroutine[Any, Any, T], loop: asyncio.AbstractEventLoop) -> T:
    """Run ``main`` to completion on ``loop`` (which is closed afterwards)."""
    with asyncio.Runner(loop_factory=lambda: loop) as runner:
        return runner.run(main)
