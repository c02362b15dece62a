"""Audit a recorded run from the wire alone: flow control, retransmissions, ECN marks.

The audit reads the packet events of a :class:`~synack.trace.recorder.Recorder` in the
order they happened and decodes every packet with the :mod:`synack.wire` codecs, so it
checks what the stacks *did*, not what they believe about themselves.

Flow control (RFC 9293 §3.8.6, RFC 7323 §2): for each direction of each connection the
audit knows the right edge ``SEG.ACK + (SEG.WND << shift)`` of every window the receiver
advertised *and the sender actually received* (a ``deliver`` event to the sender that
passes the checksums), taking the shift from the two SYNs (scaling is on only if both
carried the option, RFC 7323 §2.2; SYN windows are never scaled).  Every data segment
the sender puts on the wire must end at or before the highest such edge.  The only
exception is a one-byte zero-window probe sent exactly at the edge of a zero window
(RFC 9293 §3.8.6.1).  Only payload octets are counted: the window is "the number of
data octets" the receiver will accept (RFC 9293 §3.1).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from synack.errors import DecodeError
from synack.trace.events import PacketEvent, TraceEvent
from synack.wire.ip import PROTO_TCP, decode_ipv4
from synack.wire.tcp import TCPSegment, decode_tcp

MOD = 1 << 32
#: RFC 7323 §2.3: a shift above 14 is used as 14.
MAX_SHIFT = 14
#: The ECN field of the IPv4 TOS octet (RFC 3168 §5).
ECN_MASK = 0b11
ECN_CE = 0b11

#: (source ip, source port, destination ip, destination port): one direction of a flow.
FlowKey = tuple[str, int, str, int]


def seq_diff(a: int, b: int) -> int:
    """``a - b`` in sequence space, as a signed distance (RFC 9293 §3.4)."""
    d = (a - b) % MOD
    return d - MOD if d >= 1 << 31 else d


@dataclass(frozen=True, slots=True)
class WirePacket:
    """One decoded TCP/IPv4 packet event."""

    time: float
    kind: str  # "send", "deliver" or "drop"
    src_name: str  # the link endpoint it left (send) or reached (deliver)
    dst_name: str
    key: FlowKey
    tos: int
    seg: TCPSegment
    packet_id: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class WindowViolation:
    time: float
    key: FlowKey
    seq: int
    end: int  # sequence number just past the segment's payload
    edge: int | None  # the highest right edge the sender had received, if any

    def __str__(self) -> str:
        src, sport, dst, dport = self.key
        beyond = "no window known" if self.edge is None else f"{seq_diff(self.end, self.edge)} B"
        return (
            f"t={self.time:.6f} {src}:{sport} > {dst}:{dport} sent seq {self.seq}:{self.end},"
            f" beyond the advertised right edge by {beyond}"
        )


@dataclass
class _Direction:
    """What the audit knows about the data flowing along one FlowKey."""

    syn_wscale: int | None = None  # the sender's own SYN option (it scales its windows)
    syn_seen: bool = False
    edge: int | None = None  # highest right edge its receiver advertised, as the sender got it
    peer_ack: int | None = None  # highest cumulative ACK the sender got from the receiver
    snd_max: int | None = None  # sequence number after the highest payload byte sent
    data_segments: int = 0  # segments with payload, retransmissions included
    retransmitted: int = 0  # data or FIN segments starting below the highest sent
    syn_resent: int = 0
    probes: int = 0
    zero_windows: int = 0  # zero windows advertised to the sender (and received)
    min_window: int | None = None  # smallest (scaled) window the sender received
    ce_delivered: int = 0
    ect_sent: int = 0


@dataclass
class Audit:
    """The results of :func:`audit`."""

    violations: list[WindowViolation] = field(default_factory=list)
    directions: dict[FlowKey, _Direction] = field(default_factory=dict)
    undecodable_delivered: int = 0  # corrupted copies that fail the checksums
    drops: Counter[str] = field(default_factory=Counter)  # link drop reason -> count
    max_latency: float = 0.0  # longest time from a send to a delivery of that packet, s

    def retransmitted_segments(self, key: FlowKey | None = None) -> int:
        """Data or FIN segments that re-sent sequence space already sent (seen on the
        wire); zero-window probes are not counted."""
        return sum(d.retransmitted for k, d in self.directions.items() if key in (None, k))

    def data_segments(self, key: FlowKey | None = None) -> int:
        return sum(d.data_segments for k, d in self.directions.items() if key in (None, k))

    def ce_marks(self) -> int:
        """Delivered packets whose IP ECN field was CE (RFC 3168 §5)."""
        return sum(d.ce_delivered for d in self.directions.values())

    def ect_packets(self) -> int:
        """Packets hosts sent with ECT(0) or ECT(1)."""
        return sum(d.ect_sent for d in self.directions.values())

    def probes(self) -> int:
        return sum(d.probes for d in self.directions.values())

    def zero_windows(self) -> int:
        return sum(d.zero_windows for d in self.directions.values())

    def min_window(self) -> int | None:
        """The smallest window any receiver advertised after the handshake."""
        found = [d.min_window for d in self.directions.values() if d.min_window is not None]
        return min(found) if found else None

    def syn_resent(self) -> int:
        return sum(d.syn_resent for d in self.directions.values())


def decode_events(events: Iterable[TraceEvent]) -> tuple[list[WirePacket], int]:
    """Decode the TCP packet events; returns them and how many copies failed to decode.

    A packet a host *sends* must always decode (a stack never emits garbage); copies
    corrupted on the link fail the IP or TCP checksum and are counted instead, since the
    receiving host drops them too.
    """
    out: list[WirePacket] = []
    bad = 0
    for e in events:
        if not isinstance(e, PacketEvent):
            continue
        try:
            ip = decode_ipv4(e.data)
            if ip.protocol != PROTO_TCP:
                continue
            seg = decode_tcp(ip.payload, ip.src, ip.dst)
        except DecodeError as exc:
            if e.kind == "send":
                raise AssertionError(f"a host sent an undecodable packet: {exc}") from exc
            bad += 1
            continue
        key = (ip.src, seg.src_port, ip.dst, seg.dst_port)
        out.append(
            WirePacket(e.time, e.kind, e.src, e.dst, key, ip.tos, seg, e.packet_id, e.reason)
        )
    return out, bad


def _reverse(key: FlowKey) -> FlowKey:
    return (key[2], key[3], key[0], key[1])


def audit(events: Iterable[TraceEvent], hosts: Mapping[str, str]) -> Audit:
    """Audit the packet events of a run.

    ``hosts`` maps the endpoint name of each TCP host to its IP address: a ``send`` from
    one of them is a transmission by that host, a ``deliver`` to one of them is a packet
    it received.  Packets between routers (other endpoint names) only count as drops.
    """
    packets, bad = decode_events(events)
    result = Audit(undecodable_delivered=bad)
    dirs = result.directions

    def direction(key: FlowKey) -> _Direction:
        d = dirs.get(key)
        if d is None:
            d = dirs[key] = _Direction()
        return d

    sent_at: dict[int, float] = {}
    for p in packets:
        if p.kind == "send":
            sent_at[p.packet_id] = p.time
        elif p.kind == "deliver" and p.packet_id in sent_at:
            result.max_latency = max(result.max_latency, p.time - sent_at[p.packet_id])
        if p.kind == "drop":
            result.drops[p.reason] += 1
            continue
        if p.kind == "send" and p.src_name in hosts:
            _on_send(result, direction(p.key), p)
        elif p.kind == "deliver" and p.dst_name in hosts:
            _on_deliver(direction(p.key), direction(_reverse(p.key)), p)
    return result


def _on_send(result: Audit, d: _Direction, p: WirePacket) -> None:
    """A host sent a packet along ``d``: count it, and check its payload against the
    highest right edge the sender had received (``d.edge``)."""
    seg = p.seg
    if p.tos & ECN_MASK in (0b01, 0b10):
        d.ect_sent += 1
    if seg.syn:
        if d.syn_seen:
            d.syn_resent += 1
        d.syn_seen = True
        d.syn_wscale = seg.wscale
        return
    n = len(seg.payload)
    if n == 0 and not seg.fin:
        return  # a pure ACK (or a zero-length probe, as Linux sends them)
    end = (seg.seq + n) % MOD
    top = (end + 1) % MOD if seg.fin else end
    zero_window = d.edge is not None and d.edge == d.peer_ack
    if n == 1 and zero_window and seg.seq == d.edge:
        d.probes += 1  # RFC 9293 §3.8.6.1: a one-byte probe of a zero window is allowed
    elif d.snd_max is not None and seq_diff(seg.seq, d.snd_max) < 0:
        d.retransmitted += 1
    if d.snd_max is None or seq_diff(top, d.snd_max) > 0:
        d.snd_max = top
    if n == 0:
        return
    d.data_segments += 1
    if d.edge is not None and seq_diff(end, d.edge) <= 0:
        return
    if n == 1 and zero_window and seg.seq == d.edge:
        return
    result.violations.append(WindowViolation(p.time, p.key, seg.seq, end, d.edge))


def _on_deliver(d: _Direction, back: _Direction, p: WirePacket) -> None:
    """A packet along ``d`` reached its host: its ACK and window speak for the receiver
    of ``back`` (the data flowing the other way)."""
    seg = p.seg
    if p.tos & ECN_MASK == ECN_CE:
        d.ce_delivered += 1
    if not seg.has_ack or seg.rst:
        return
    if seg.syn:
        window = seg.window  # RFC 7323 §2.2: never scaled in a SYN or SYN-ACK
    else:
        # The sender of this packet scales its window by the shift its own SYN announced,
        # if both SYNs carried the option (RFC 7323 §2.2).  Both SYNs have normally been
        # sent by now; if not, no scaling can be in effect yet.
        if not (d.syn_seen and back.syn_seen):
            return
        both = d.syn_wscale is not None and back.syn_wscale is not None
        shift = min(d.syn_wscale or 0, MAX_SHIFT) if both else 0
        window = seg.window << shift
        if window == 0:
            back.zero_windows += 1
        if back.min_window is None or window < back.min_window:
            back.min_window = window
    edge = (seg.ack + window) % MOD
    if back.edge is None or seq_diff(edge, back.edge) > 0:
        back.edge = edge
    if back.peer_ack is None or seq_diff(seg.ack, back.peer_ack) > 0:
        back.peer_ack = seg.ack
