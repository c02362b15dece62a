"""A SYN flood against a listener, with and without SYN cookies (``synack flood``).

An attacker sends SYNs from spoofed addresses that will never answer the SYN-ACKs: each
one takes a place in the listener's SYN queue (SYN_RECEIVED) for as long as its SYN-ACK
retransmissions last (1+2+4+8+16+32 s).  Then a real client connects.  With SYN
cookies (net.ipv4.tcp_syncookies=1, Linux's default) the full queue does not matter:
the client is answered with a cookie and gets in after one round trip.  Without them
its SYNs are dropped until the flood's entries time out, so ``connect`` times out.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass

from synack.scenarios.testbed import Testbed
from synack.stack.counters import render_counters
from synack.stack.socket import TcpHandle
from synack.tcp import events as ev
from synack.tcp.config import TCPConfig
from synack.wire.ip import PROTO_TCP, IPv4Packet, encode_ipv4
from synack.wire.options import MSS
from synack.wire.tcp import Flags, TCPSegment, encode_tcp

PORT = 80
#: Spoofed sources, from the documentation range TEST-NET-2 (RFC 5737).
SPOOFED = "198.51.100."


@dataclass
class FloodResult:
    syns: int
    cookies: bool
    connected_at: float | None  # when the real client's connect completed (None: never)
    error: str | None  # how its connect failed, if it did
    syn_queue: int  # SYN_RECEIVED entries the flood left in the listener's queue
    testbed: Testbed

    def report(self) -> str:
        tb = self.testbed
        how = "on (net.ipv4.tcp_syncookies=1)" if self.cookies else "off (tcp_syncookies=0)"
        lines = [
            f"# SYN flood: {self.syns} spoofed SYNs at t=0, then a real client at t=0.1 s",
            f"SYN cookies {how}; the listener's backlog is {tb.server.listeners[PORT].backlog}",
            "",
        ]
        if self.connected_at is not None:
            lines.append(f"real client: connected at t={self.connected_at:.3f} s")
        else:
            lines.append(f"real client: {self.error}")
        lines.append(f"flood entries in the SYN queue (SYN_RECEIVED): {self.syn_queue}")
        notes = [n for n in tb.recorder.notes("server") if "SYN flooding" in n.text]
        lines += [f"server log at t={n.time:.3f}: {n.text}" for n in notes]
        real = [
            line
            for line in tb.recorder.tcpdump_text().splitlines()
            if tb.client.ip in line and SPOOFED not in line
        ]
        lines += ["", "== the real client's packets (tcpdump -n) ==", *real[:12]]
        counters = [
            line
            for line in render_counters(tb.server).splitlines()
            if any(k in line for k in ("Syncookies", "ReqQ", "Listen", "PassiveOpens"))
        ]
        lines += ["", "== server counters ==", *counters]
        return "\n".join(lines) + "\n"


def _spoofed_syn(tb: Testbed, i: int) -> bytes:
    src = f"{SPOOFED}{i % 254 + 1}"
    syn = TCPSegment(1024 + i, PORT, (7919 * i) & 0xFFFFFFFF, 0, Flags.SYN, 64240)
    syn.options = (MSS(1460),)
    return encode_ipv4(IPv4Packet(src, tb.server.ip, PROTO_TCP, encode_tcp(syn, src, tb.server.ip)))


def run_flood(
    syns: int = 200, *, backlog: int = 16, cookies: bool = True, seed: int = 1
) -> FloodResult:
    """Flood a listener with ``syns`` spoofed SYNs, then connect a real client (giving
    up after 10 s of SYN retries, as a client with a connect timeout would)."""
    if syns < 0 or backlog < 1:
        raise ValueError("syns must be >= 0 and backlog >= 1")
    tb = Testbed(seed, config=TCPConfig(syncookies=1 if cookies else 0))
    listener = tb.server.listen(PORT, backlog)
    for i in range(syns):
        tb.server.receive_packet(_spoofed_syn(tb, i))
    queued = len(listener.syn_queue)
    outcome: dict[str, float | str] = {}

    def on_event(h: TcpHandle, e: ev.Event) -> None:
        if isinstance(e, ev.Connected):
            outcome["at"] = tb.sim.now
            h.close()
        elif isinstance(e, ev.ConnectionError):
            outcome["error"] = errno.errorcode.get(e.errno, str(e.errno))

    def connect() -> None:
        handle = tb.client.connect(tb.server.ip, PORT)
        handle.on_event = on_event
        tb.at(tb.sim.now + 10.0, lambda: give_up(handle))

    def give_up(handle: TcpHandle) -> None:
        if "at" not in outcome:
            outcome["error"] = "connect timed out after 10 s (its SYNs found the queue full)"
            handle.abort()

    tb.at(0.1, connect)
    tb.run(until=12.0)
    at = outcome.get("at")
    error = outcome.get("error")
    return FloodResult(
        syns=syns,
        cookies=cookies,
        connected_at=at if isinstance(at, float) else None,
        error=error if isinstance(error, str) else None,
        syn_queue=queued,
        testbed=tb,
    )
