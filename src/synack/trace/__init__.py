"""Observers of a simulation: tcpdump text, pcap files, state log and sequence diagram.

Links and hosts emit :mod:`synack.trace.events`; an observer is any callable taking one
event.  :class:`Recorder` keeps them all and renders everything afterwards;
:class:`TcpdumpPrinter`, :class:`PcapObserver`, :class:`StateLog` and
:class:`DiagramRecorder` each do one thing live.
"""

from synack.trace.diagram import DiagramRecorder, packet_label, render_diagram
from synack.trace.events import Note, Observer, PacketEvent, StateChange, TraceEvent
from synack.trace.pcap import LINKTYPE_RAW, PcapObserver, PcapWriter, read_pcap
from synack.trace.recorder import Recorder, Trace
from synack.trace.statelog import StateLog, format_state_change
from synack.trace.tcpdump import RelativeSeq, TcpdumpPrinter, format_packet, tcpdump_lines

__all__ = [
    "LINKTYPE_RAW",
    "DiagramRecorder",
    "Note",
    "Observer",
    "PacketEvent",
    "PcapObserver",
    "PcapWriter",
    "Recorder",
    "RelativeSeq",
    "StateChange",
    "StateLog",
    "TcpdumpPrinter",
    "Trace",
    "TraceEvent",
    "format_packet",
    "format_state_change",
    "packet_label",
    "read_pcap",
    "render_diagram",
    "tcpdump_lines",
]
