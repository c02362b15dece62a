"""Two hosts on one simulated link, with a recorder: the stage every scenario plays on."""

from __future__ import annotations

from collections.abc import Callable

from synack.link.impairment import ImpairmentConfig
from synack.sim.engine import SimScheduler
from synack.sim.hosts import sim_host
from synack.sim.network import Network
from synack.stack.host import Host
from synack.tcp.config import TCPConfig
from synack.trace.recorder import Recorder
from synack.wire.ip import PROTO_TCP, IPv4Packet, encode_ipv4
from synack.wire.tcp import TCPSegment, encode_tcp

#: Documentation addresses (RFC 5737 TEST-NET-1).
CLIENT_IP = "192.0.2.1"
SERVER_IP = "192.0.2.2"


class Testbed:
    """A client and a server joined by one link, in virtual time."""

    __test__ = False  # not a pytest class

    def __init__(
        self,
        seed: int = 0,
        *,
        delay: float = 0.05,
        loss: float = 0.0,
        config: TCPConfig | None = None,
        c2s: ImpairmentConfig | None = None,
        s2c: ImpairmentConfig | None = None,
    ) -> None:
        self.net = Network(seed)
        self.sim = self.net.sim
        self.recorder = Recorder()
        self.net.observe(self.recorder)
        self.config = config or TCPConfig()
        self.client = sim_host(self.sim, "client", CLIENT_IP, self.config, [self.recorder])
        self.server = sim_host(self.sim, "server", SERVER_IP, self.config, [self.recorder])
        base = ImpairmentConfig(delay=delay, loss=loss)
        self.link = self.net.connect(self.client, self.server, c2s or base, config_ba=s2c or base)
        self.injected: set[int] = set()
        for h in (self.client, self.server):
            h.attach(self.link.transmitter(h), SimScheduler(self.sim, h.on_timer))

    def at(self, when: float, fn: Callable[[], object]) -> None:
        """Run ``fn`` (an application action) at virtual time ``when``."""
        self.sim.call_at(when, lambda: _discard(fn()))

    def run(self, until: float | None = None) -> None:
        self.sim.run(until=until)

    def inject(self, src: Host, dst: Host, seg: TCPSegment) -> None:
        """Put a hand-made segment on the wire as if ``src`` had sent it (old duplicates,
        segments from a crashed incarnation...)."""
        data = encode_ipv4(IPv4Packet(src.ip, dst.ip, PROTO_TCP, encode_tcp(seg, src.ip, dst.ip)))
        self.link.transmitter(src)(data)
        sends = self.recorder.packets("send")
        if sends and sends[-1].data == data:
            self.injected.add(sends[-1].packet_id)


def _discard(_: object) -> None:
    """Scheduled actions may return anything (a handle, a listener); it is dropped."""
