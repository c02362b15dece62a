"""End-to-end bulk transfers on the simulator, with everything a property test checks.

:func:`run_bulk` joins a client (192.0.2.1) and a server (192.0.2.2) with one link whose
two directions are impaired independently, and runs a bulk transfer both ways at once:
each side writes its own random bytes as the send buffer takes them, shuts down its
write side (SHUT_WR) when it has written everything, reads whatever arrives, and closes
when it has both finished writing and read to EOF.  The simulator then runs until it is
idle, so TIME_WAIT expires and both connections end CLOSED.

Only the public API is used: :class:`~synack.stack.host.Host`,
:class:`~synack.stack.socket.TcpHandle` and its events, the simulator, the impairments
and the trace recorder.  The only looks inside a connection are :func:`receive_memory`
and :func:`receive_capacity` (``conn.readable``, ``conn.rcvbuf.ooo_bytes`` and
``conn.rcvbuf.capacity``): adapt them there if the core's receive buffer changes.

What a run gives back (:class:`BulkResult`): the bytes each side received (to compare
with what the other sent), final states and errors, the hosts' counters, the recorder,
the wire audit (:mod:`flow_audit`: advertised windows, retransmissions, ECN marks), and
the most receive memory each side ever held.  :meth:`BulkResult.problems` lists every
property the run broke, in words.  A run that has not finished within ``time_limit``
virtual seconds or ``max_events`` simulator events is cut short and says so.

Receive memory is sampled exactly, not by a timer: memory only grows when a packet is
processed, so each host sits behind a probe endpoint that samples it right after every
packet, and the application samples again in its event callback before it reads.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from flow_audit import Audit, audit
from synack.link.impairment import ImpairmentConfig
from synack.sim.engine import SimScheduler, Simulator
from synack.sim.hosts import sim_host
from synack.sim.network import Network
from synack.stack.host import Host
from synack.stack.socket import TcpHandle
from synack.tcp import events as ev
from synack.tcp.config import TCPConfig
from synack.tcp.states import State
from synack.trace.recorder import Recorder

CLIENT_IP = "192.0.2.1"
SERVER_IP = "192.0.2.2"
PORT = 5001
#: 10 ms each way, nothing else.
DEFAULT_LINK = ImpairmentConfig(delay=0.01)
DEFAULT_CONFIG = TCPConfig()


def config_has(name: str) -> bool:
    """Whether :class:`TCPConfig` has a field ``name`` (the data path grows new knobs)."""
    return any(f.name == name for f in dataclasses.fields(TCPConfig))


def config_with_known(config: TCPConfig, **changes: object) -> TCPConfig:
    """``config`` with those of ``changes`` the core knows; the rest are left out, so a
    test of a feature still in the making runs (and fails) instead of crashing."""
    return config.with_(**{k: v for k, v in changes.items() if config_has(k)})


def receive_memory(handle: TcpHandle) -> int:
    """Bytes the connection holds for its reader: in order plus out of order."""
    conn = handle.conn
    return conn.readable + conn.rcvbuf.ooo_bytes


def receive_capacity(handle: TcpHandle) -> int:
    """The connection's receive buffer right now (SO_RCVBUF, or what autotuning grew
    it to)."""
    return handle.conn.rcvbuf.capacity


def payload(seed: int, label: str, n: int) -> bytes:
    """``n`` reproducible pseudo-random bytes (random, so a bad splice cannot match)."""
    sim = Simulator(seed)
    return sim.child_rng(f"payload-{label}").randbytes(n)


@dataclass(frozen=True)
class BulkSpec:
    """One bulk run.  ``read_chunk`` makes the readers slow: each reads at most that
    many bytes every ``read_interval`` seconds instead of all it has at once."""

    c2s_bytes: int = 100_000
    s2c_bytes: int = 100_000
    c2s: ImpairmentConfig = DEFAULT_LINK
    s2c: ImpairmentConfig = DEFAULT_LINK
    config: TCPConfig = DEFAULT_CONFIG
    server_config: TCPConfig | None = None  # default: ``config``
    seed: int = 0
    read_chunk: int | None = None
    read_interval: float = 0.01
    time_limit: float = 3600.0  # virtual seconds
    #: Simulator events before the run is cut short (an ACK war would never end).
    max_events: int = 30_000
    #: Give the hosts the link's segmentation offload (``Link.gso_transmitter``); with
    #: ``config.gso_max_size`` set and no offload, the hosts segment in software.
    link_gso: bool = False


class BulkApp:
    """One side's application: write all of ``data``, read to EOF, then close."""

    def __init__(
        self, sim: Simulator, data: bytes, read_chunk: int | None, read_interval: float
    ) -> None:
        self.sim = sim
        self.data = data
        self.written = 0
        self.received = bytearray()
        self.read_chunk = read_chunk
        self.read_interval = read_interval
        self.handle: TcpHandle | None = None
        self.shut = False
        self.closed = False
        self._tick_pending = False
        self.peak_memory = 0  # most bytes held for the reader at once
        self.capacity = 0  # largest receive buffer seen
        self.excess: int | None = None  # most bytes held beyond the buffer of the moment
        self.connected_at: float | None = None
        self.eof_at: float | None = None

    def bind(self, handle: TcpHandle) -> None:
        self.handle = handle
        handle.on_event = self.on_event
        if handle.state is State.ESTABLISHED:  # accepted: Connected was already delivered
            self._start()

    def sample(self) -> None:
        h = self.handle
        if h is not None:
            memory, capacity = receive_memory(h), receive_capacity(h)
            self.peak_memory = max(self.peak_memory, memory)
            self.capacity = max(self.capacity, capacity)
            over = memory - capacity
            self.excess = over if self.excess is None else max(self.excess, over)

    def on_event(self, handle: TcpHandle, event: ev.Event) -> None:
        self.sample()
        if isinstance(event, ev.Connected):
            self._start()
        elif isinstance(event, ev.SendBufferSpace):
            self._write()
        elif isinstance(event, ev.DataReceived | ev.PeerClosed):
            if self.read_chunk is None:
                self._read(1 << 30)
            elif not self._tick_pending:
                self._tick_pending = True
                self.sim.call_later(self.read_interval, self._tick)

    def _start(self) -> None:
        if self.connected_at is None:
            self.connected_at = self.sim.now
            self._write()

    def _tick(self) -> None:
        """A slow reader: one chunk per interval while the buffer has more."""
        assert self.read_chunk is not None
        self._tick_pending = False
        self.sample()
        if self._read(self.read_chunk) == self.read_chunk:
            self._tick_pending = True
            self.sim.call_later(self.read_interval, self._tick)

    def _write(self) -> None:
        h = self.handle
        if h is None or self.shut or h.state is State.CLOSED:
            return
        while self.written < len(self.data):
            n = h.send(self.data[self.written : self.written + (1 << 20)])
            if n == 0:
                return  # the send buffer is full; SendBufferSpace brings us back
            self.written += n
        self.shut = True
        h.shutdown()  # SHUT_WR: our FIN follows the data
        self._maybe_close()

    def _read(self, limit: int) -> int:
        h = self.handle
        if h is None:
            return 0
        chunk = h.recv(limit)
        self.received += chunk
        if h.at_eof and self.eof_at is None:
            self.eof_at = self.sim.now
        self._maybe_close()
        return len(chunk)

    def _maybe_close(self) -> None:
        h = self.handle
        if h is not None and self.shut and self.eof_at is not None and not self.closed:
            self.closed = True
            h.close()


class _Probe:
    """A link endpoint in front of a host: samples the apps after every packet."""

    def __init__(self, host: Host, apps: list[BulkApp]) -> None:
        self.host = host
        self.apps = apps

    @property
    def name(self) -> str:
        return self.host.name

    def receive_packet(self, data: bytes) -> None:
        self.host.receive_packet(data)
        for app in self.apps:
            app.sample()


@dataclass
class SideResult:
    name: str
    sent: bytes
    received: bytes
    state: State | None  # None: the connection never reached this side's application
    error: int | None
    eof: bool
    closed_by_app: bool
    counters: Counter[str]
    drops: Counter[str]
    peak_memory: int
    capacity: int  # the largest the receive buffer was
    excess: int | None  # most bytes ever held beyond the buffer of that moment (<= 0: fine)
    connected_at: float | None
    eof_at: float | None

    @property
    def retrans_segs(self) -> int:
        return self.counters.get("RetransSegs", 0)


@dataclass
class BulkResult:
    spec: BulkSpec
    client: SideResult
    server: SideResult
    recorder: Recorder
    audit: Audit
    end_time: float
    idle: bool
    link_drops: Counter[str] = field(default_factory=Counter)

    def problems(self) -> list[str]:
        """Every broken property, in words; empty when the run was correct."""
        out: list[str] = []
        for src, dst in ((self.client, self.server), (self.server, self.client)):
            out += _stream_problems(src, dst)
        for side in (self.client, self.server):
            if side.state is None:
                out.append(f"{side.name} never got a connection")
            elif side.state is not State.CLOSED:
                out.append(f"{side.name} ended in {side.state.value}, not CLOSED")
            if side.error is not None:
                out.append(f"{side.name} got error {side.error}")
            if side.excess is not None and side.excess > 0:
                out.append(
                    f"{side.name} held {side.excess} B of received data beyond its receive buffer"
                )
        if not self.idle:
            out.append(
                f"the run was cut short at t={self.end_time:.3f} (time limit"
                f" {self.spec.time_limit} s or {self.spec.max_events} events)"
            )
        out += [f"window exceeded: {v}" for v in self.audit.violations[:5]]
        if len(self.audit.violations) > 5:
            out.append(f"... {len(self.audit.violations) - 5} more window violations")
        return out

    def retrans_segs(self) -> int:
        return self.client.retrans_segs + self.server.retrans_segs


def _stream_problems(src: SideResult, dst: SideResult) -> list[str]:
    if dst.received == src.sent:
        return [] if dst.eof else [f"{dst.name} never saw the end of {src.name}'s stream"]
    got, want = dst.received, src.sent
    first = next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), None)
    where = f"first difference at byte {first}" if first is not None else "a prefix"
    digest = hashlib.sha256(got).hexdigest()[:16]
    return [
        f"{src.name} -> {dst.name}: received {len(got)} of {len(want)} B, {where}"
        f" (sha256 {digest}...)"
    ]


def run_bulk(spec: BulkSpec, *, on_setup: Callable[[Network], None] | None = None) -> BulkResult:
    """Run one bidirectional bulk transfer to completion (see the module docstring)."""
    net = Network(spec.seed)
    sim = net.sim
    recorder = Recorder()
    net.observe(recorder)
    server_cfg = spec.server_config or spec.config
    client = sim_host(net.sim, "client", CLIENT_IP, spec.config, [recorder])
    server = sim_host(net.sim, "server", SERVER_IP, server_cfg, [recorder])
    capp = BulkApp(
        sim, payload(spec.seed, "c2s", spec.c2s_bytes), spec.read_chunk, spec.read_interval
    )
    sapp = BulkApp(
        sim, payload(spec.seed, "s2c", spec.s2c_bytes), spec.read_chunk, spec.read_interval
    )
    cprobe, sprobe = _Probe(client, [capp]), _Probe(server, [sapp])
    link = net.connect(cprobe, sprobe, spec.c2s, config_ba=spec.s2c)
    for host, probe in ((client, cprobe), (server, sprobe)):
        host.attach(
            link.transmitter(probe),
            SimScheduler(sim, host.on_timer),
            transmit_gso=link.gso_transmitter(probe) if spec.link_gso else None,
        )
    if on_setup is not None:
        on_setup(net)

    server.listen(PORT, on_accept=sapp.bind)
    capp.bind(client.connect(SERVER_IP, PORT))
    sim.run(until=spec.time_limit, max_events=spec.max_events)
    idle = sim.pending() == 0

    wire = audit(recorder.events, {client.name: client.ip, server.name: server.ip})
    sides = []
    for host, app in ((client, capp), (server, sapp)):
        h = app.handle
        sides.append(
            SideResult(
                name=host.name,
                sent=app.data,
                received=bytes(app.received),
                state=h.state if h is not None else None,
                error=h.error if h is not None else None,
                eof=app.eof_at is not None,
                closed_by_app=app.closed,
                counters=Counter(host.counters),
                drops=Counter(host.drops),
                peak_memory=app.peak_memory,
                capacity=app.capacity,
                excess=app.excess,
                connected_at=app.connected_at,
                eof_at=app.eof_at,
            )
        )
    link_drops: Counter[str] = Counter()
    for name in (client.name, server.name):
        link_drops.update(link.impairment(name).drops)
    end = recorder.events[-1].time if recorder.events else sim.now
    return BulkResult(spec, sides[0], sides[1], recorder, wire, end, idle, link_drops)
