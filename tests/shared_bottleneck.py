"""Several bulk flows competing for one bottleneck (a dumbbell, :mod:`sim_router`).

Each sender opens one connection to the receiver at its start time and keeps its send
buffer full until the run ends; the receiver reads everything at once and logs, per
flow, when each byte arrived in order.  The throughput of a flow over an interval is
the number of bytes it delivered to the receiving application in that interval.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from functools import partial

from sim_router import Dumbbell, build_dumbbell
from synack.link.impairment import ImpairmentConfig
from synack.stack.socket import TcpHandle
from synack.tcp import events as ev
from synack.tcp.config import TCPConfig

PORT = 5201
_CHUNK = bytes(range(256)) * 256  # 64 KiB written at a time


@dataclass
class FlowLog:
    """Delivery log of one flow: ``times[i]`` is when ``totals[i]`` bytes had arrived."""

    sender: str
    times: list[float] = field(default_factory=lambda: [0.0])
    totals: list[int] = field(default_factory=lambda: [0])

    def add(self, now: float, n: int) -> None:
        self.times.append(now)
        self.totals.append(self.totals[-1] + n)

    def delivered_by(self, t: float) -> int:
        return self.totals[bisect_right(self.times, t) - 1]

    def throughput(self, t0: float, t1: float) -> float:
        """Bytes per second delivered in order during ``[t0, t1]``."""
        return (self.delivered_by(t1) - self.delivered_by(t0)) / (t1 - t0)


@dataclass
class SharedResult:
    net: Dumbbell
    flows: list[FlowLog]
    senders: list[TcpHandle]
    duration: float

    def bottleneck_drops(self) -> dict[str, int]:
        return dict(self.net.bottleneck.impairment(self.net.router.name).drops)


def run_shared_bottleneck(
    starts: list[float],
    *,
    bottleneck: ImpairmentConfig,
    duration: float,
    config: TCPConfig | None = None,
    seed: int = 0,
    access: ImpairmentConfig | None = None,
) -> SharedResult:
    """One flow per entry of ``starts`` (its start time), all to one receiver."""
    cfg = config or TCPConfig()
    net = build_dumbbell(
        len(starts), bottleneck=bottleneck, access=access, config=cfg, seed=seed, record=False
    )
    sim = net.net.sim
    logs = {h.ip: FlowLog(h.name) for h in net.senders}

    def on_accept(handle: TcpHandle) -> None:
        assert handle.remote is not None
        log = logs[handle.remote[0]]

        def on_event(h: TcpHandle, event: ev.Event) -> None:
            if isinstance(event, ev.DataReceived):
                log.add(sim.now, len(h.recv()))

        handle.on_event = on_event

    net.receiver.listen(PORT, on_accept=on_accept)
    handles: list[TcpHandle] = []

    def fill(h: TcpHandle, event: ev.Event) -> None:
        if isinstance(event, ev.Connected | ev.SendBufferSpace):
            while h.send(_CHUNK) == len(_CHUNK):
                pass

    def start(index: int) -> None:
        h = net.senders[index].connect(net.receiver.ip, PORT)
        h.on_event = fill
        handles.append(h)

    for i, t in enumerate(starts):
        sim.call_at(t, partial(start, i))
    sim.run(until=duration)
    return SharedResult(net, [logs[h.ip] for h in net.senders], handles, duration)
