"""A one-way transfer between two simulated hosts, for tests: the client writes its bytes
at once and shuts down; the server's reader keeps what it reads."""

from __future__ import annotations

from dataclasses import dataclass, field

from synack.link.impairment import ImpairmentConfig
from synack.sim import Network
from synack.sim.engine import SimScheduler
from synack.sim.hosts import sim_host
from synack.stack.host import Host
from synack.tcp import events as ev
from synack.tcp.config import TCPConfig


@dataclass
class OneWay:
    data: bytes
    server: Host
    got: bytearray = field(default_factory=bytearray)
    notices: list[int] = field(default_factory=list)  # DataReceived lengths, in order
    done_at: float | None = None  # when the reader had every byte


def one_way(
    net: Network,
    nbytes: int,
    *,
    client_config: TCPConfig | None = None,
    server_config: TCPConfig | None = None,
    link: ImpairmentConfig | None = None,
    batch: int = 0,
    until: float = 60.0,
) -> OneWay:
    """Send ``nbytes`` of seeded random data from 10.0.0.1 to 10.0.0.2:80 over ``link``
    (10 ms each way by default); observers added to ``net`` beforehand see it all."""
    client = sim_host(net.sim, "client", "10.0.0.1", client_config)
    server = sim_host(net.sim, "server", "10.0.0.2", server_config)
    wire = net.connect(client, server, link or ImpairmentConfig(delay=0.01), batch=batch)
    for host in (client, server):
        host.attach(wire.transmitter(host), SimScheduler(net.sim, host.on_timer))
    out = OneWay(net.sim.child_rng("data").randbytes(nbytes), server)

    def on_server(h, e) -> None:  # type: ignore[no-untyped-def]
        if isinstance(e, ev.DataReceived):
            out.notices.append(e.length)
        out.got.extend(h.recv())
        if len(out.got) == nbytes and out.done_at is None:
            out.done_at = net.sim.now

    def on_client(h, e) -> None:  # type: ignore[no-untyped-def]
        if isinstance(e, ev.Connected):
            assert h.send(out.data) == nbytes
            h.shutdown()

    server.listen(80, on_accept=lambda h: setattr(h, "on_event", on_server))
    client.connect("10.0.0.2", 80).on_event = on_client
    net.run(until=until)
    return out
