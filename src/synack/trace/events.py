"""Trace events: what observers (tcpdump text, pcap, state log, diagram) are fed.

Links emit :class:`PacketEvent` for every packet they are handed (``send``), deliver
(``deliver``) or lose (``drop``, with a reason); hosts emit :class:`StateChange` when a
connection changes state and :class:`Note` for anything else worth a line in the log
(a user call, an error handed to the application, a counted drop).  An observer is any
callable taking one event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

PacketKind = Literal["send", "deliver", "drop"]


@dataclass(frozen=True, slots=True)
class PacketEvent:
    time: float
    kind: PacketKind
    src: str  # name of the sending host
    dst: str  # name of the receiving host
    data: bytes  # the whole IPv4 packet, as it is at this point (corruption shows on deliver)
    packet_id: int  # the same id on the send and on each deliver/drop of that packet
    reason: str = ""  # for drops: "loss", "queue_full", "targeted", ...


@dataclass(frozen=True, slots=True)
class StateChange:
    time: float
    host: str
    conn: str  # "local_ip:port > remote_ip:port"
    old: str  # state names as in synack.tcp.states.State, e.g. "SYN_SENT"
    new: str


@dataclass(frozen=True, slots=True)
class Note:
    time: float
    host: str
    text: str


TraceEvent = PacketEvent | StateChange | Note
Observer = Callable[[TraceEvent], None]
