"""tcpdump-style one-line packet summaries, as ``tcpdump -n -tt -S`` (or without ``-S``) prints.

:func:`format_packet` turns one IPv4 packet into one line; :class:`RelativeSeq` carries the
per-connection memory that ``tcpdump`` without ``-S`` uses for relative sequence numbers;
:class:`TcpdumpPrinter` is an observer printing a line per packet event, and
:func:`tcpdump_lines` renders a finished list of events.

Formatting follows tcpdump's print-tcp.c: ``seq`` is printed only for segments with data,
SYN, FIN or RST (so a bare ACK reads ``Flags [.], ack 1, win 502, length 0``), ``seq X:Y``
when there is data, ``ack`` only with ACK, ``win`` always, ``urg`` with URG, ``options
[...]`` when present, then ``length`` (the payload length).  Checksums are checked (plain
tcpdump does not): a bad one adds ``(bad tcp cksum 0xWIRE -> 0xRIGHT)`` at the end of the
line, or, with ``verbose=True``, ``cksum 0xWIRE (incorrect -> 0xRIGHT)`` where ``tcpdump -v``
puts it, together with ``-v``'s IP header line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TextIO

from synack.errors import DecodeError
from synack.trace.events import PacketEvent, PacketKind, TraceEvent
from synack.wire.checksum import internet_checksum, pseudo_header_sum
from synack.wire.icmp import decode_icmp
from synack.wire.ip import PROTO_ICMP, PROTO_TCP, PROTO_UDP, IPv4Packet, decode_ipv4
from synack.wire.options import Sack, TCPOption, format_options
from synack.wire.tcp import Flags, TCPSegment, decode_tcp, format_flags
from synack.wire.udp import decode_udp

_MASK32 = 0xFFFFFFFF
_PROTO_NAMES = {PROTO_ICMP: "ICMP", PROTO_TCP: "TCP", PROTO_UDP: "UDP"}
_FlowEnd = tuple[str, int]


class RelativeSeq:
    """Per-connection base numbers for relative seq/ack, exactly as tcpdump keeps them.

    Like print-tcp.c, only segments carrying ACK are made relative: the first one of a
    connection (or any SYN+ACK) records both directions' initial sequence numbers and is
    printed absolute; later ones print ``seq - ISN`` and ``ack - peer ISN``.  Segments
    without ACK (the first SYN, a bare RST) are always absolute.
    """

    def __init__(self) -> None:
        # canonical (lower end, higher end) -> (ISN of lower->higher, ISN of higher->lower)
        self._bases: dict[tuple[_FlowEnd, _FlowEnd], tuple[int, int]] = {}

    def offsets(
        self, src: _FlowEnd, dst: _FlowEnd, flags: int, seq: int, ack: int
    ) -> tuple[int, int]:
        """What to subtract from (seq, ack) of a segment from ``src`` to ``dst``."""
        if not flags & Flags.ACK:
            return 0, 0
        rev = _end_key(src) > _end_key(dst)
        key = (dst, src) if rev else (src, dst)
        found = self._bases.get(key)
        if found is None or flags & Flags.SYN:
            mine, peer = seq, (ack - 1) & _MASK32
            self._bases[key] = (peer, mine) if rev else (mine, peer)
            return 0, 0
        forward, backward = found
        return (backward, forward) if rev else (forward, backward)

    def clear(self) -> None:
        self._bases.clear()


def _end_key(end: _FlowEnd) -> tuple[tuple[int, ...], int]:
    return tuple(int(x) for x in end[0].split(".")), end[1]


def format_packet(
    data: bytes, time: float, *, relative: RelativeSeq | None = None, verbose: bool = False
) -> str:
    """One tcpdump line (or two, with ``verbose``) for the IPv4 packet ``data``.

    Never raises for bad input: an undecodable packet gives ``IP truncated/malformed: ...``.
    """
    stamp = f"{time:.6f}"
    try:
        try:
            ip = decode_ipv4(data, verify_checksum=False)
        except DecodeError as exc:
            if exc.reason != "ip_fragment":
                raise
            ip = _decode_fragment(data)
    except DecodeError as exc:
        return f"{stamp} IP truncated/malformed: {exc}"
    notes: list[str] = []
    head = f"{stamp} IP "
    ip_bad = _ip_checksum_problem(data)
    if verbose:
        head += _verbose_ip(ip, ip_bad) + "\n    "
    elif ip_bad is not None:
        notes.append(f"bad ip cksum 0x{ip_bad[0]:04x} -> 0x{ip_bad[1]:04x}")
    if ip.fragment_offset:  # not the first fragment: no transport header to show
        body = f"{ip.src} > {ip.dst}: ip-proto-{ip.protocol}"
    elif ip.protocol not in _PROTO_NAMES:  # tcpdump prints two spaces here
        body = f"{ip.src} > {ip.dst}:  ip-proto-{ip.protocol} {len(ip.payload)}"
    else:
        try:
            if ip.protocol == PROTO_TCP:
                body = _tcp_text(ip, relative, verbose, notes, not ip.more_fragments)
            elif ip.protocol == PROTO_UDP:
                body = _udp_text(ip, notes)
            else:
                body = _icmp_text(ip, notes)
        except DecodeError as exc:
            name = _PROTO_NAMES[ip.protocol]
            body = f"{ip.src} > {ip.dst}: {name} truncated/malformed: {exc}"
    return head + body + "".join(f" ({n})" for n in notes)


def _decode_fragment(data: bytes) -> IPv4Packet:
    """Decode a fragment, which :func:`decode_ipv4` refuses (synack never reassembles)."""
    frag = int.from_bytes(data[6:8], "big")
    ip = decode_ipv4(
        data[:6] + (frag & 0x4000).to_bytes(2, "big") + data[8:], verify_checksum=False
    )
    ip.more_fragments = bool(frag & 0x2000)
    ip.fragment_offset = frag & 0x1FFF
    return ip


def _ip_checksum_problem(data: bytes) -> tuple[int, int] | None:
    """(checksum on the wire, correct checksum) when the IPv4 header checksum is wrong."""
    hlen = (data[0] & 0x0F) * 4
    header = bytes(data[:hlen])
    if internet_checksum(header) == 0:
        return None
    wire = int.from_bytes(header[10:12], "big")
    return wire, internet_checksum(header[:10] + b"\x00\x00" + header[12:])


def _verbose_ip(ip: IPv4Packet, bad: tuple[int, int] | None) -> str:
    ecn = {1: ",ECT(1)", 2: ",ECT(0)", 3: ",CE"}.get(ip.tos & 3, "")
    bits = ((ip.more_fragments, "+"), (ip.dont_fragment, "DF"))
    frag = ", ".join(text for on, text in bits if on) or "none"
    name = _PROTO_NAMES.get(ip.protocol, "unknown")
    total = ip.total_length if ip.total_length is not None else 20 + len(ip.payload)
    text = (
        f"(tos 0x{ip.tos:x}{ecn}, ttl {ip.ttl}, id {ip.ident}, offset {ip.fragment_offset * 8}, "
        f"flags [{frag}], proto {name} ({ip.protocol}), length {total}"
    )
    if ip.options:
        text += f", options (0x{ip.options.hex()})"
    if bad is not None:
        text += f", bad cksum {bad[0]:x} (->{bad[1]:x})!"
    return text + ")"


def _tcp_text(
    ip: IPv4Packet, relative: RelativeSeq | None, verbose: bool, notes: list[str], check: bool
) -> str:
    seg = decode_tcp(ip.payload, ip.src, ip.dst, verify_checksum=False)
    flags = int(seg.flags)
    out = [f"{ip.src}.{seg.src_port} > {ip.dst}.{seg.dst_port}: Flags [{format_flags(flags)}]"]
    bad = _tcp_checksum_problem(ip, seg) if check else None
    if verbose and check:
        state = "(correct)" if bad is None else f"(incorrect -> 0x{bad:04x})"
        out.append(f"cksum 0x{seg.checksum or 0:04x} {state}")
    elif bad is not None:
        notes.append(f"bad tcp cksum 0x{seg.checksum or 0:04x} -> 0x{bad:04x}")
    seq_off, ack_off = 0, 0
    if relative is not None:
        seq_off, ack_off = relative.offsets(
            (ip.src, seg.src_port), (ip.dst, seg.dst_port), flags, seg.seq, seg.ack
        )
    seq = (seg.seq - seq_off) & _MASK32
    length = len(seg.payload)
    if length or flags & (Flags.SYN | Flags.FIN | Flags.RST):
        out.append(f"seq {seq}:{(seq + length) & _MASK32}" if length else f"seq {seq}")
    if flags & Flags.ACK:
        out.append(f"ack {(seg.ack - ack_off) & _MASK32}")
    out.append(f"win {seg.window}")
    if flags & Flags.URG:
        out.append(f"urg {seg.urgent}")
    if seg.options:
        out.append(f"options [{format_options(_relative_sack(seg.options, ack_off))}]")
    out.append(f"length {length}")
    return ", ".join(out)


def _tcp_checksum_problem(ip: IPv4Packet, seg: TCPSegment) -> int | None:
    """The correct checksum when the segment's is wrong, else None."""
    raw = bytes(ip.payload)
    initial = pseudo_header_sum(ip.src, ip.dst, PROTO_TCP, len(raw))
    if internet_checksum(raw, initial) == 0:
        return None
    return internet_checksum(raw[:16] + b"\x00\x00" + raw[18:], initial)


def _relative_sack(options: tuple[TCPOption, ...], base: int) -> tuple[TCPOption, ...]:
    if not base:
        return options
    return tuple(
        Sack(tuple(((lo - base) & _MASK32, (hi - base) & _MASK32) for lo, hi in o.blocks))
        if isinstance(o, Sack)
        else o
        for o in options
    )


def _udp_text(ip: IPv4Packet, notes: list[str]) -> str:
    dgram = decode_udp(ip.payload, ip.src, ip.dst, verify_checksum=False)
    raw = ip.payload[: 8 + len(dgram.payload)]
    initial = pseudo_header_sum(ip.src, ip.dst, PROTO_UDP, len(raw))
    if dgram.checksum and internet_checksum(raw, initial) != 0:
        right = internet_checksum(raw[:6] + b"\x00\x00" + raw[8:], initial) or 0xFFFF
        notes.append(f"bad udp cksum 0x{dgram.checksum:04x} -> 0x{right:04x}")
    ends = f"{ip.src}.{dgram.src_port} > {ip.dst}.{dgram.dst_port}"
    return f"{ends}: UDP, length {len(dgram.payload)}"


_ICMP_TYPES = {
    0: "echo reply",
    3: "unreachable",
    4: "source quench",
    5: "redirect",
    8: "echo request",
    9: "router advertisement",
    10: "router solicitation",
    11: "time exceeded",
    12: "parameter problem",
    13: "time stamp request",
    14: "time stamp reply",
    15: "information request",
    16: "information reply",
    17: "address mask request",
    18: "address mask reply",
}


def _icmp_text(ip: IPv4Packet, notes: list[str]) -> str:
    msg = decode_icmp(ip.payload, verify_checksum=False)
    if internet_checksum(ip.payload) != 0:
        right = internet_checksum(ip.payload[:2] + b"\x00\x00" + ip.payload[4:])
        notes.append(f"bad icmp cksum 0x{msg.checksum or 0:04x} -> 0x{right:04x}")
    if msg.type in (0, 8):
        what = f"{_ICMP_TYPES[msg.type]}, id {msg.ident}, seq {msg.seq}"
    elif msg.type == 3:
        what = _unreachable_text(msg.code, msg.payload, msg.rest_of_header & 0xFFFF)
    elif msg.type == 11:
        what = "ip reassembly time exceeded" if msg.code == 1 else "time exceeded in-transit"
    else:
        what = _ICMP_TYPES.get(msg.type, f"type-#{msg.type}")
    return f"{ip.src} > {ip.dst}: ICMP {what}, length {len(ip.payload)}"


def _unreachable_text(code: int, quoted: bytes, mtu: int) -> str:
    """tcpdump's wording for a destination unreachable, from the quoted IP header."""
    if len(quoted) < 20:
        return f"unreachable - #{code}"
    ihl = (quoted[0] & 0x0F) * 4
    proto = quoted[9]
    dst = ".".join(str(b) for b in quoted[16:20])
    ports = quoted[ihl : ihl + 4]
    dport = int.from_bytes(ports[2:4], "big") if len(ports) == 4 else None
    if code == 0:
        return f"net {dst} unreachable"
    if code == 1:
        return f"host {dst} unreachable"
    if code == 2:
        return f"{dst} protocol {proto} unreachable"
    if code == 3 and dport is not None:
        name = {PROTO_TCP: "tcp", PROTO_UDP: "udp"}.get(proto)
        if name is None:
            return f"{dst} protocol {proto} port {dport} unreachable"
        return f"{dst} {name} port {dport} unreachable"
    if code == 4:
        suffix = f" (mtu {mtu})" if mtu else ""
        return f"{dst} unreachable - need to frag{suffix}"
    return f"{dst} unreachable - #{code}"


# --- observers ------------------------------------------------------------------------


def _sink(out: Callable[[str], None] | TextIO) -> Callable[[str], None]:
    if callable(out):
        return out
    stream = out

    def write(line: str) -> None:
        stream.write(line + "\n")

    return write


def _drop_suffix(reason: str) -> str:
    return f"  [dropped: {reason or 'unknown'}]"


class TcpdumpPrinter:
    """Observer printing a tcpdump line per :class:`PacketEvent` of the chosen ``kinds``.

    ``out`` is a print-like callable or a text stream.  With ``annotate_drops`` a drop
    reported right after its send (the same ``packet_id``, the way links report loss)
    is shown as a suffix on the send's line, ``  [dropped: loss]``: to do so the last
    send line is held back until the next event arrives, so call :meth:`flush` (or use
    the printer as a context manager) at the end.  A drop reported later (or whose send
    was not printed) gets a line of its own, at the drop's time, with the same suffix.
    """

    def __init__(
        self,
        out: Callable[[str], None] | TextIO = print,
        *,
        kinds: Iterable[PacketKind] = ("send",),
        relative: bool = False,
        annotate_drops: bool = True,
        verbose: bool = False,
    ) -> None:
        self._emit = _sink(out)
        self.kinds = frozenset(kinds)
        self.annotate_drops = annotate_drops
        self.verbose = verbose
        self._relative = RelativeSeq() if relative else None
        self._pending: tuple[int, str] | None = None  # (packet_id, line) of a held send

    def __call__(self, event: TraceEvent) -> None:
        if (
            isinstance(event, PacketEvent)
            and event.kind == "drop"
            and self._pending is not None
            and self._pending[0] == event.packet_id
        ):
            line = self._pending[1]
            self._pending = None
            self._emit(line + _drop_suffix(event.reason))
            return
        self.flush()
        if not isinstance(event, PacketEvent):
            return
        if event.kind == "drop":
            if "drop" in self.kinds or (self.annotate_drops and "send" in self.kinds):
                self._emit(self._format(event) + _drop_suffix(event.reason))
            return
        if event.kind not in self.kinds:
            return
        line = self._format(event)
        if self.annotate_drops and event.kind == "send":
            self._pending = (event.packet_id, line)
        else:
            self._emit(line)

    def _format(self, event: PacketEvent) -> str:
        return format_packet(event.data, event.time, relative=self._relative, verbose=self.verbose)

    def flush(self) -> None:
        """Print the held-back send line, if any."""
        if self._pending is not None:
            line = self._pending[1]
            self._pending = None
            self._emit(line)

    def __enter__(self) -> TcpdumpPrinter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()


def tcpdump_lines(
    events: Iterable[TraceEvent],
    *,
    kinds: Iterable[PacketKind] = ("send",),
    relative: bool = False,
    annotate_drops: bool = True,
    verbose: bool = False,
) -> list[str]:
    """The tcpdump lines for a finished list of events.

    Unlike the live :class:`TcpdumpPrinter`, a drop annotates its send's line wherever in
    the list it comes; drops are lines of their own only when ``"drop"`` is in ``kinds``.
    """
    events = list(events)
    wanted = frozenset(kinds)
    drops: dict[int, str] = {}
    if annotate_drops:
        for e in events:
            if isinstance(e, PacketEvent) and e.kind == "drop":
                drops.setdefault(e.packet_id, e.reason)
    rel = RelativeSeq() if relative else None
    lines: list[str] = []
    for e in events:
        if not isinstance(e, PacketEvent) or e.kind not in wanted:
            continue
        line = format_packet(e.data, e.time, relative=rel, verbose=verbose)
        if e.kind == "drop":
            line += _drop_suffix(e.reason)
        elif e.kind == "send" and e.packet_id in drops:
            line += _drop_suffix(drops[e.packet_id])
        lines.append(line)
    return lines
