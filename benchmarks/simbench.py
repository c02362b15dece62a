"""What the simulator benchmarks share: a one-way bulk transfer between two synack stacks
in one process, timed in CPU seconds, and a cProfile wrapper.

The client (192.0.2.1) writes ``nbytes`` -- a 1 MiB random block, repeated -- as fast as
its send buffer takes them, then shuts down its write side; the server reads what
arrives, logs when, and closes at EOF.  With ``duration`` the run stops at that virtual
time instead, finished or not.  The bytes read are compared with the bytes written
after the clock stops.  Both hosts compute every checksum they send and verify every
one they receive, as always; no trace recorder is attached, so only the stacks, the
links and the event loop run.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import io
import pstats
import time
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from synack.link.impairment import ImpairmentConfig
from synack.link.malloc import keep_heap
from synack.sim.engine import SimScheduler, Simulator
from synack.sim.hosts import sim_host
from synack.sim.network import Network
from synack.stack.socket import TcpHandle
from synack.tcp import events as ev
from synack.tcp.config import TCPConfig

CLIENT_IP, SERVER_IP, PORT = "192.0.2.1", "192.0.2.2", 5001
BLOCK = 1 << 20  # the payload is this many random bytes, repeated
T = TypeVar("T")


def config_has(name: str) -> bool:
    """Whether :class:`TCPConfig` has a field ``name`` (the data path grows new knobs)."""
    return any(f.name == name for f in dataclasses.fields(TCPConfig))


@dataclass
class Transfer:
    """The outcome of :func:`transfer`."""

    nbytes: int
    received: int
    intact: bool  # the bytes read are a prefix of the bytes written
    cpu_seconds: float  # process time spent in the simulator run
    established_at: float | None  # virtual time the client reached ESTABLISHED
    done_at: float | None  # virtual time the reader saw EOF (None: cut short)
    end: float  # virtual time the run stopped
    sender: Counter[str]  # the client host's counters (RetransSegs, OutSegs, ...)
    receiver: Counter[str]
    link_drops: Counter[str]
    sender_info: dict[str, object]  # TCP_INFO-like, at the end
    times: list[float] = field(default_factory=list)  # reads: when ...
    totals: list[int] = field(default_factory=list)  # ... and how many bytes by then

    def delivered_by(self, t: float) -> int:
        i = bisect_right(self.times, t)
        return self.totals[i - 1] if i else 0

    def goodput(self, warmup: float = 0.0) -> float:
        """Payload bytes per virtual second read by the application, from ``warmup``
        seconds after ESTABLISHED until the last byte (or the end of the run)."""
        if self.established_at is None:
            return 0.0
        t0 = self.established_at + warmup
        t1 = self.done_at if self.done_at is not None else self.end
        if t1 <= t0:
            return 0.0
        return (self.delivered_by(t1) - self.delivered_by(t0)) / (t1 - t0)

    @property
    def cpu_rate(self) -> float:
        """Payload bytes per CPU second."""
        return self.received / max(self.cpu_seconds, 1e-12)


class _Apps:
    """The writer on the client and the reader on the server."""

    def __init__(self, sim: Simulator, block: bytes, nbytes: int) -> None:
        self.sim = sim
        self.source = block * 2  # any BLOCK-long window of it is the stream at some offset
        self.nbytes = nbytes
        self.sent = 0
        self.shut = False
        self.corrupt = False  # a chunk read differed from the stream written
        self.view = memoryview(self.source)  # the writer hands slices without copying
        # The reader's copy of the stream, grown for chunks longer than the doubled
        # block: the writer's stays as it is, so the send buffer keeps views of it.
        self.expected = self.source
        self.times: list[float] = []
        self.totals: list[int] = []
        self.received = 0
        self.writer: TcpHandle | None = None
        self.established_at: float | None = None
        self.done_at: float | None = None

    def on_writer(self, h: TcpHandle, event: ev.Event) -> None:
        if isinstance(event, ev.Connected):
            self.established_at = self.sim.now
        if isinstance(event, ev.Connected | ev.SendBufferSpace) and not self.shut:
            while self.sent < self.nbytes:
                off = self.sent % BLOCK
                n = min(BLOCK, self.nbytes - self.sent)
                n = h.send(self.view[off : off + n])  # type: ignore[arg-type]
                if n == 0:
                    return  # the send buffer is full; SendBufferSpace brings us back
                self.sent += n
            self.shut = True
            h.shutdown()
        elif isinstance(event, ev.PeerClosed):
            h.close()

    def accept(self, handle: TcpHandle) -> None:
        handle.on_event = self.on_reader

    def on_reader(self, h: TcpHandle, event: ev.Event) -> None:
        if isinstance(event, ev.DataReceived | ev.PeerClosed):
            chunk = h.recv()
            if chunk:
                self.check(chunk)
                self.received += len(chunk)
                self.times.append(self.sim.now)
                self.totals.append(self.received)
            if h.at_eof and self.done_at is None:
                self.done_at = self.sim.now
                h.close()

    def check(self, chunk: bytes) -> None:
        """Compare ``chunk`` with the stream written at this offset, then let it go.

        Like a real reader, the chunk is not kept: holding every chunk would charge the
        run for fresh memory (a page fault per 4 KB) that no stack needs."""
        pos = self.received % BLOCK
        end = pos + len(chunk)
        while end > len(self.expected):  # a chunk longer than the doubled block
            self.expected += self.expected[:BLOCK]
        if not self.expected.startswith(chunk, pos):  # a memcmp, without a copy
            self.corrupt = True

    def intact(self) -> bool:
        """Whether the bytes read are the start of the stream written."""
        return not self.corrupt


def transfer(
    nbytes: int,
    *,
    config: TCPConfig,
    forward: ImpairmentConfig,
    reverse: ImpairmentConfig,
    seed: int = 0,
    duration: float | None = None,
    profiler: cProfile.Profile | None = None,
    batch: int = 0,
) -> Transfer:
    """Send ``nbytes`` from client to server over ``forward`` (ACKs over ``reverse``);
    ``batch``: packets arriving together are received as batches of up to that many
    (:class:`synack.sim.link.Link`), 0 one by one."""
    net = Network(seed)
    sim = net.sim
    client = sim_host(net.sim, "client", CLIENT_IP, config)
    server = sim_host(net.sim, "server", SERVER_IP, config)
    link = net.connect(client, server, forward, config_ba=reverse, batch=batch)
    for host in (client, server):
        gso = link.gso_transmitter(host) if config.gso_max_size else None
        host.attach(link.transmitter(host), SimScheduler(sim, host.on_timer), transmit_gso=gso)
    app = _Apps(sim, sim.child_rng("payload").randbytes(BLOCK), nbytes)
    server.listen(PORT, on_accept=app.accept)
    app.writer = client.connect(SERVER_IP, PORT)
    app.writer.on_event = app.on_writer
    t0 = time.process_time()
    if profiler is not None:
        profiler.enable()
    sim.run(until=duration)
    if profiler is not None:
        profiler.disable()
    cpu = time.process_time() - t0
    drops: Counter[str] = Counter()
    for name in (client.name, server.name):
        drops.update(link.impairment(name).drops)
    return Transfer(
        nbytes=nbytes,
        received=app.received,
        intact=app.intact(),
        cpu_seconds=cpu,
        established_at=app.established_at,
        done_at=app.done_at,
        end=sim.now,
        sender=Counter(client.counters),
        receiver=Counter(server.counters),
        link_drops=drops,
        sender_info=dict(app.writer.conn.info()),
        times=app.times,
        totals=app.totals,
    )


def add_heap_option(ap: argparse.ArgumentParser) -> None:
    ap.add_argument(
        "--heap",
        choices=("kept", "default"),
        default="kept",
        help="glibc's heap policy: 'kept' (synack.link.malloc.keep_heap, as the synack"
        " command does) or the C library's default, which returns freed packet memory to"
        " the kernel and faults it back in",
    )


def apply_heap_option(choice: str) -> str:
    """Apply ``--heap`` (before any measurement); the line saying what was used."""
    if choice == "kept":
        kept = keep_heap()
        return "heap: kept (glibc mallopt)" if kept else "heap: C library default (not glibc)"
    return "heap: C library default (freed packet memory goes back to the kernel)"


def profiled(enabled: bool, top: int, run: Callable[[cProfile.Profile | None], T]) -> T:
    """Call ``run(profiler)``; with ``enabled``, print the ``top`` functions after."""
    profiler = cProfile.Profile() if enabled else None
    result = run(profiler)
    if profiler is not None:
        for key in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(key).print_stats(top)
            print(f"\n== cProfile, top {top} by {key} ==")
            print(out.getvalue().split("\n\n", 2)[-1].rstrip())
    return result
