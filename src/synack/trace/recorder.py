"""Record every trace event once, render tcpdump text, state log, diagram and pcap later."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import BinaryIO

from synack.trace.diagram import render_diagram
from synack.trace.events import Note, PacketEvent, PacketKind, StateChange, TraceEvent
from synack.trace.pcap import PcapWriter
from synack.trace.statelog import StateLog
from synack.trace.tcpdump import tcpdump_lines


@dataclass(frozen=True, slots=True)
class Trace:
    """The three texts of one run; ``str()`` joins them under headings."""

    tcpdump: str
    state_log: str
    diagram: str

    def __str__(self) -> str:
        parts = (
            ("tcpdump", self.tcpdump),
            ("state log", self.state_log),
            ("diagram", self.diagram),
        )
        return "\n".join(f"== {title} ==\n{text}" for title, text in parts)


class Recorder:
    """Observer storing all events in order."""

    def __init__(self) -> None:
        self.events: list[TraceEvent] = []

    def __call__(self, event: TraceEvent) -> None:
        self.events.append(event)

    def clear(self) -> None:
        self.events.clear()

    def packets(self, kind: PacketKind | None = "send") -> list[PacketEvent]:
        """The packet events of ``kind`` (all kinds with ``None``)."""
        return [
            e
            for e in self.events
            if isinstance(e, PacketEvent) and (kind is None or e.kind == kind)
        ]

    def state_changes(self, host: str | None = None) -> list[StateChange]:
        return [
            e
            for e in self.events
            if isinstance(e, StateChange) and (host is None or e.host == host)
        ]

    def notes(self, host: str | None = None) -> list[Note]:
        return [e for e in self.events if isinstance(e, Note) and (host is None or e.host == host)]

    def tcpdump_text(self, relative: bool = False, *, verbose: bool = False) -> str:
        """tcpdump lines of the sent packets, drops annotated; newline-terminated."""
        lines = tcpdump_lines(self.events, relative=relative, verbose=verbose)
        return "".join(line + "\n" for line in lines)

    def state_log_text(self, *, notes: bool = False) -> str:
        log = StateLog(notes=notes)
        for e in self.events:
            log(e)
        return log.render()

    def diagram(
        self,
        left: str,
        right: str,
        *,
        width: int = 72,
        relative: bool = True,
        unicode: bool = False,
    ) -> str:
        return render_diagram(
            self.events, left, right, width=width, relative=relative, unicode=unicode
        )

    def write_pcap(
        self, path_or_file: str | os.PathLike[str] | BinaryIO, kind: PacketKind = "send"
    ) -> int:
        """Write the packets of ``kind`` as a pcap file; returns how many were written."""
        with PcapWriter(path_or_file) as writer:
            for e in self.packets(kind):
                writer.write(e.time, e.data)
            return writer.count

    def report_sections(self, left: str, right: str, *, relative: bool = False) -> list[str]:
        """The three texts under headings, as the demo and the scenarios print them."""
        return [
            "== tcpdump -n" + ("" if relative else " -S") + " ==",
            self.tcpdump_text(relative=relative).rstrip(),
            "",
            "== state log ==",
            self.state_log_text(notes=True).rstrip(),
            "",
            "== sequence diagram (seq/ack relative to each ISN) ==",
            self.diagram(left, right).rstrip(),
        ]

    def trace(self, left: str, right: str, *, relative: bool = False) -> Trace:
        """All three texts at once (``relative`` is for the tcpdump text)."""
        return Trace(
            tcpdump=self.tcpdump_text(relative),
            state_log=self.state_log_text(notes=True),
            diagram=self.diagram(left, right),
        )
