"""``synack demo``: a client and a server on the simulated network.

The client connects, sends a short request, the server answers, and both close with
the four-segment close.  The output is the tcpdump-style trace, the state log and the
sequence diagram; ``--loss`` and ``--delay`` make the network misbehave.
"""

from __future__ import annotations

from synack.link.impairment import ImpairmentConfig
from synack.scenarios.apps import Client, Server
from synack.scenarios.testbed import Testbed
from synack.stack.counters import render_counters

REQUEST = b"GET /hello HTTP/1.0\r\n\r\n"
REPLY = b"HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nhello\n"


def run_demo(
    *,
    seed: int = 1,
    loss: float = 0.0,
    delay: float = 0.05,
    pcap: str | None = None,
    relative: bool = False,
) -> str:
    cfg = ImpairmentConfig(delay=delay, loss=loss)
    tb = Testbed(seed, c2s=cfg, s2c=cfg)
    server = Server(tb, reply=REPLY, close_after=0.1).start()
    client = Client(tb, request=REQUEST, close_after=0.0).start()
    tb.run()  # until nothing is left to do: TIME_WAIT ends in virtual time
    rec = tb.recorder
    out = [
        f"synack demo: client {tb.client.ip} <-> server {tb.server.ip}, one-way delay "
        f"{delay * 1000:g} ms, loss {loss:.0%}, seed {seed}",
        "",
        *rec.report_sections("client", "server", relative=relative),
        "",
        "== result ==",
        f"client sent {len(REQUEST)} bytes, server received {len(server.received)}; "
        f"server replied {len(REPLY)} bytes, client received {len(client.received)}"
        + (f"; client error: {client.error}" if client.error else ""),
        f"virtual time {tb.sim.now:.3f} s",
        "",
        "== client counters ==",
        render_counters(tb.client),
        "",
        "== server counters ==",
        render_counters(tb.server),
    ]
    if pcap:
        n = rec.write_pcap(pcap)
        out += ["", f"wrote {n} packets to {pcap}"]
    return "\n".join(out) + "\n"
