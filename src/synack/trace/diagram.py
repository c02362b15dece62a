"""A terminal sequence (timing) diagram of two hosts, as TCP tutorials draw it.

One column per host, time going down.  Each packet sent between the two hosts is an
arrow on the row of its send time, labelled with flags, seq, ack and length (relative to
each side's ISN by default); a packet the link dropped ends in an ``X`` midway, followed
by the drop reason.  Each host's connection state is written beside its column (left of
the left column, right of the right one) on the row where it changes, with the state
before the first change on the top row::

     time  client                                               server
           CLOSED      |                                      | LISTEN
    0.000  SYN_SENT    |---- SYN seq=0 ---------------------->|
    0.050              |<--- SYN,ACK seq=0 ack=1 -------------| SYN_RECEIVED
    0.100  ESTABLISHED |---- ACK seq=1 ack=1 ---------------->|
    0.100              |---- PSH,ACK seq=1:6 ack=1 len=5 ---->|
    0.150              |<--- PSH,ACK seq=1:6 ack=6 len=5 -----| ESTABLISHED
    0.300  FIN_WAIT_1  |---- FIN,ACK seq=6 ack=6 ---X (loss)  |

Rows follow the events in order.  A state change opens a row; a packet sent at the same
time goes on that row (so "new state, then the segment it sends" reads as one line), and
so does the other host's state change at the same time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from synack.errors import DecodeError
from synack.trace.events import PacketEvent, StateChange, TraceEvent
from synack.wire.icmp import decode_icmp
from synack.wire.ip import PROTO_ICMP, PROTO_TCP, PROTO_UDP, IPv4Packet, decode_ipv4
from synack.wire.tcp import Flags, TCPSegment, decode_tcp
from synack.wire.udp import decode_udp

_MASK32 = 0xFFFFFFFF
# Flag names in wire-bit order, as Wireshark lists them: SYN,ACK / FIN,PSH,ACK / RST,ACK.
_FLAG_NAMES = (
    (Flags.FIN, "FIN"),
    (Flags.SYN, "SYN"),
    (Flags.RST, "RST"),
    (Flags.PSH, "PSH"),
    (Flags.ACK, "ACK"),
    (Flags.URG, "URG"),
    (Flags.ECE, "ECE"),
    (Flags.CWR, "CWR"),
    (Flags.NS, "NS"),
)
_ICMP_NAMES = {0: "echo reply", 3: "unreachable", 8: "echo request", 11: "time exceeded"}
_UNREACH = {0: "net", 1: "host", 2: "protocol", 3: "port", 4: "need to frag"}


@dataclass(frozen=True)
class _Glyphs:
    line: str
    right_head: str
    left_head: str
    bar: str
    lost: str


_ASCII = _Glyphs("-", ">", "<", "|", "X")
_UNICODE = _Glyphs("─", "▶", "◀", "│", "\u2573")  # the last is a box-drawing diagonal cross


@dataclass
class _Arrow:
    rightward: bool
    label: str
    lost: str | None  # the drop reason of a packet that never arrived


@dataclass
class _Row:
    time: float
    states: dict[bool, str] = field(default_factory=dict)  # is_left -> state
    arrow: _Arrow | None = None


class _Bases:
    """Each direction's ISN: a SYN's seq, else (first seen seq or the peer's ack) - 1."""

    def __init__(self) -> None:
        self._isn: dict[tuple[str, int, str, int], int] = {}

    def relative(self, ip: IPv4Packet, seg: TCPSegment) -> tuple[int, int]:
        mine = (ip.src, seg.src_port, ip.dst, seg.dst_port)
        peer = (ip.dst, seg.dst_port, ip.src, seg.src_port)
        if seg.syn:
            self._isn[mine] = seg.seq
        self._isn.setdefault(mine, (seg.seq - 1) & _MASK32)
        if seg.has_ack:
            self._isn.setdefault(peer, (seg.ack - 1) & _MASK32)
        return self._isn[mine], self._isn.get(peer, 0)


def flag_names(flags: int) -> str:
    """``SYN,ACK``-style flag list (``none`` when no flag is set)."""
    return ",".join(name for bit, name in _FLAG_NAMES if flags & bit) or "none"


def _tcp_label(ip: IPv4Packet, bases: _Bases | None, window: bool) -> str:
    seg = decode_tcp(ip.payload, ip.src, ip.dst, verify_checksum=False)
    seq_base, ack_base = bases.relative(ip, seg) if bases is not None else (0, 0)
    seq = (seg.seq - seq_base) & _MASK32
    n = len(seg.payload)
    parts = [flag_names(int(seg.flags)), f"seq={seq}:{(seq + n) & _MASK32}" if n else f"seq={seq}"]
    if seg.has_ack:
        parts.append(f"ack={(seg.ack - ack_base) & _MASK32}")
    if window:
        parts.append(f"win={seg.window}")
    if seg.flags & Flags.URG:
        parts.append(f"urg={seg.urgent}")
    if n:
        parts.append(f"len={n}")
    if seg.sack_blocks:
        blocks = (
            f"{(lo - ack_base) & _MASK32}:{(hi - ack_base) & _MASK32}" for lo, hi in seg.sack_blocks
        )
        parts.append("sack=" + ",".join(blocks))
    return " ".join(parts)


def _icmp_label(ip: IPv4Packet) -> str:
    msg = decode_icmp(ip.payload, verify_checksum=False)
    name = _ICMP_NAMES.get(msg.type, f"type={msg.type} code={msg.code}")
    if msg.type in (0, 8):
        return f"ICMP {name} id={msg.ident} seq={msg.seq}"
    if msg.type == 3:
        return f"ICMP {_UNREACH.get(msg.code, f'code={msg.code}')} unreachable"
    return f"ICMP {name}"


def packet_label(data: bytes, *, window: bool = False) -> str:
    """The short arrow label of one IPv4 packet, with absolute numbers (never raises)."""
    return _packet_label(data, None, window)


def _packet_label(data: bytes, bases: _Bases | None, window: bool) -> str:
    try:
        ip = decode_ipv4(data, verify_checksum=False)
        if ip.fragment_offset:
            return f"IP fragment proto={ip.protocol} len={len(ip.payload)}"
        if ip.protocol == PROTO_TCP:
            return _tcp_label(ip, bases, window)
        if ip.protocol == PROTO_UDP:
            d = decode_udp(ip.payload, ip.src, ip.dst, verify_checksum=False)
            return f"UDP {d.src_port}>{d.dst_port} len={len(d.payload)}"
        if ip.protocol == PROTO_ICMP:
            return _icmp_label(ip)
        return f"IP proto={ip.protocol} len={len(ip.payload)}"
    except DecodeError as exc:
        return f"malformed ({exc.reason})"


def _collect_rows(
    events: list[TraceEvent], left: str, right: str, relative: bool, window: bool
) -> tuple[dict[bool, str], list[_Row]]:
    drops: dict[int, str] = {}
    delivered: dict[int, list[bytes]] = {}
    for e in events:
        if isinstance(e, PacketEvent) and e.kind == "drop":
            drops.setdefault(e.packet_id, e.reason or "dropped")
        elif isinstance(e, PacketEvent) and e.kind == "deliver":
            delivered.setdefault(e.packet_id, []).append(e.data)
    bases = _Bases() if relative else None
    initial: dict[bool, str] = {}
    rows: list[_Row] = []
    for e in events:
        if isinstance(e, StateChange) and e.host in (left, right):
            side = e.host == left
            initial.setdefault(side, e.old)
            last = rows[-1] if rows else None
            if (
                last is not None
                and last.time == e.time
                and last.arrow is None
                and side not in last.states
            ):
                last.states[side] = e.new
            else:
                rows.append(_Row(e.time, {side: e.new}))
        elif isinstance(e, PacketEvent) and e.kind == "send" and {e.src, e.dst} == {left, right}:
            label = _packet_label(e.data, bases, window)
            copies = delivered.get(e.packet_id, [])
            if any(c != e.data for c in copies):
                label += " (corrupted)"
            if len(copies) > 1:
                label += f" (x{len(copies)})"
            lost = drops.get(e.packet_id) if not copies else None
            arrow = _Arrow(e.src == left, label, lost)
            last = rows[-1] if rows else None
            if last is not None and last.time == e.time and last.arrow is None:
                last.arrow = arrow
            else:
                rows.append(_Row(e.time, arrow=arrow))
    return initial, rows


def _min_inner(arrow: _Arrow) -> int:
    n = len(arrow.label) + 10  # lead, two spaces, at least three dashes and the head
    return n + len(arrow.lost) + 3 if arrow.lost is not None else n


def _draw(arrow: _Arrow | None, inner: int, g: _Glyphs) -> str:
    if arrow is None:
        return " " * inner
    label = f" {arrow.label} "
    if arrow.lost is None:
        dashes = g.line * (inner - len(label) - 5)
        if arrow.rightward:
            return g.line * 4 + label + dashes + g.right_head
        return g.left_head + g.line * 3 + label + dashes + g.line
    reason = f"({arrow.lost})"
    core_len = max(len(label) + 8, min((inner + 1) // 2, inner - 1 - len(reason)))
    dashes = g.line * (core_len - len(label) - 5)
    if arrow.rightward:
        return (g.line * 4 + label + dashes + g.lost + " " + reason).ljust(inner)
    return (reason + " " + g.lost + dashes + label + g.line * 4).rjust(inner)


def render_diagram(
    events: Iterable[TraceEvent],
    left: str,
    right: str,
    *,
    width: int = 72,
    relative: bool = True,
    unicode: bool = False,
    window: bool = False,
) -> str:
    """The diagram of the packets between hosts ``left`` and ``right`` and their states.

    ``width`` is the target line width (exceeded only when a label needs the room);
    ``relative`` numbers seq/ack from each side's ISN; ``unicode`` draws with box-drawing
    characters; ``window`` adds ``win=`` to TCP labels.  Returns newline-terminated text.
    """
    g = _UNICODE if unicode else _ASCII
    initial, rows = _collect_rows(list(events), left, right, relative, window)
    stamps = [f"{r.time:.3f}" for r in rows]
    tw = max([4, *map(len, stamps)])
    sides = {True: [left, initial.get(True, "")], False: [right, initial.get(False, "")]}
    for r in rows:
        for side, state in r.states.items():
            sides[side].append(state)
    lw = max(map(len, sides[True]))
    rw = max(map(len, sides[False]))
    inner = max(
        width - (tw + 2 + lw + 1 + 2 + 1 + rw), *(_min_inner(r.arrow) for r in rows if r.arrow), 8
    )

    def line(stamp: str, lstate: str, body: str, rstate: str, bar: str = g.bar) -> str:
        return f"{stamp:>{tw}}  {lstate:<{lw}} {bar}{body}{bar} {rstate}".rstrip()

    out = [line("time", left, " " * inner, right, " ")]
    if initial:
        out.append(line("", initial.get(True, ""), " " * inner, initial.get(False, "")))
    for stamp, r in zip(stamps, rows, strict=True):
        body = _draw(r.arrow, inner, g)
        out.append(line(stamp, r.states.get(True, ""), body, r.states.get(False, "")))
    return "".join(s + "\n" for s in out)


class DiagramRecorder:
    """Observer collecting events for :func:`render_diagram` of hosts ``left``/``right``."""

    def __init__(
        self,
        left: str,
        right: str,
        *,
        width: int = 72,
        relative: bool = True,
        unicode: bool = False,
        window: bool = False,
    ) -> None:
        self.left = left
        self.right = right
        self.width = width
        self.relative = relative
        self.unicode = unicode
        self.window = window
        self.events: list[TraceEvent] = []

    def __call__(self, event: TraceEvent) -> None:
        self.events.append(event)

    def render(self) -> str:
        return render_diagram(
            self.events,
            self.left,
            self.right,
            width=self.width,
            relative=self.relative,
            unicode=self.unicode,
            window=self.window,
        )

    def __str__(self) -> str:
        return self.render()
