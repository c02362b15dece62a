"""What a scenario is, how it runs, and how its segments are summarized for checking."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from synack.errors import DecodeError
from synack.scenarios.testbed import Testbed
from synack.trace.events import PacketEvent
from synack.trace.recorder import Recorder
from synack.wire.ip import PROTO_TCP, decode_ipv4
from synack.wire.tcp import Flags, decode_tcp, format_flags

Setup = Callable[[Testbed], None]


@dataclass(frozen=True)
class Scenario:
    """One story of the TCP tutorials, played on the simulator.

    ``segments`` and ``states`` are what must happen, written as the RFC figures show
    it: the scenario test replays the story and compares.
    """

    name: str
    title: str
    explanation: str
    setup: Setup
    until: float
    segments: tuple[str, ...]
    states: dict[str, tuple[str, ...]] = field(default_factory=dict)
    testbed_args: dict[str, object] = field(default_factory=dict)
    relative: bool = True

    def run(self, seed: int = 0) -> ScenarioResult:
        tb = Testbed(seed, **self.testbed_args)  # type: ignore[arg-type]
        self.setup(tb)
        tb.run(until=self.until)
        return ScenarioResult(self, tb)


@dataclass
class ScenarioResult:
    scenario: Scenario
    testbed: Testbed

    @property
    def recorder(self) -> Recorder:
        return self.testbed.recorder

    def segments(self) -> list[str]:
        return summarize(self.recorder, self.testbed.injected, relative=self.scenario.relative)

    def states(self, host: str) -> list[str]:
        """The states a host's connections went through, in order, without repeats of the
        starting CLOSED between connections."""
        out: list[str] = []
        for ch in self.recorder.state_changes(host):
            if not out or out[-1] != ch.old:
                out.append(ch.old)
            out.append(ch.new)
        return out

    def report(self, *, pcap: str | None = None) -> str:
        rec = self.recorder
        parts = [
            f"# {self.scenario.name}: {self.scenario.title}",
            "",
            self.scenario.explanation.strip(),
            "",
            *rec.report_sections("client", "server"),
        ]
        if pcap:
            rec.write_pcap(pcap)
        return "\n".join(parts) + "\n"


def summarize(
    recorder: Recorder, injected: set[int] | frozenset[int] = frozenset(), *, relative: bool = True
) -> list[str]:
    """One line per TCP segment put on the wire: ``C>S S. seq=0 ack=1``.

    Sequence numbers are relative to the sender's ISN (the last SYN it sent), acks to the
    receiver's; a hand-injected segment is marked ``INJ`` and moves no ISN.  A segment
    the network lost ends in ``LOST``.
    """
    short = {"client": "C", "server": "S"}
    drops: dict[int, str] = {}
    for e in recorder.packets("drop"):
        drops.setdefault(e.packet_id, e.reason)
    base: dict[tuple[str, int, str, int], int] = {}
    lines: list[str] = []
    for e in recorder.packets("send"):
        line = _summarize_one(e, base, e.packet_id in injected, relative)
        if line is None:
            continue
        tag = f"{short.get(e.src, e.src)}>{short.get(e.dst, e.dst)} "
        if e.packet_id in injected:
            tag += "INJ "
        if e.packet_id in drops:
            line += " LOST"
        lines.append(tag + line)
    return lines


def _summarize_one(
    e: PacketEvent, base: dict[tuple[str, int, str, int], int], injected: bool, relative: bool
) -> str | None:
    try:
        ip = decode_ipv4(e.data)
        if ip.protocol != PROTO_TCP:
            return None
        seg = decode_tcp(ip.payload, ip.src, ip.dst)
    except DecodeError:
        return None
    fwd = (ip.src, seg.src_port, ip.dst, seg.dst_port)
    rev = (ip.dst, seg.dst_port, ip.src, seg.src_port)
    if seg.syn and not injected:
        base[fwd] = seg.seq

    def rel(x: int, key: tuple[str, int, str, int]) -> int:
        if not relative or key not in base:
            return x
        d = (x - base[key]) & 0xFFFFFFFF
        return d - (1 << 32) if d >= 1 << 31 else d

    s = rel(seg.seq, fwd)
    text = f"{format_flags(seg.flags)} seq={s}"
    if seg.payload:
        text += f":{rel((seg.seq + len(seg.payload)) & 0xFFFFFFFF, fwd)}"
    if seg.flags & Flags.ACK:
        text += f" ack={rel(seg.ack, rev)}"
    return text
