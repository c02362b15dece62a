"""Checking what the stack sent against an outbound packet line (run_packet.c
verify_outbound_live_packet), field by field and in packetdrill's order: IPv4 length and
ECN/TOS/TTL, TCP data offset, flags, sequence and ACK numbers, window, urgent pointer,
options (kinds in exact order, values byte-exact, TS val within the tolerance when
``--tcp_ts_tick_usecs`` is set), payload, then time.

Consecutive segments the stack sent are joined to match one larger expected segment
(TSO in Linux sends one; synack sends MSS-sized ones), unless ``--strict_segments``:
the joined segment has the first segment's sequence number (and CWR) and the last one's
other header fields, as packetdrill's aggregate_packets builds it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from synack.packetdrill import script as s
from synack.packetdrill.mapping import SocketUnderTest
from synack.packetdrill.packets import Segment, dump_segment, dump_spec, flags_text
from synack.packetdrill.tcpoptions import format_tcp_option, option_length
from synack.packetdrill.timing import Tolerance, secs
from synack.wire.options import EOL, MSS, NOP, Sack, SackPermitted, TCPOption, Timestamps
from synack.wire.options import WindowScale as WScale
from synack.wire.tcp import Flags

_KINDS: dict[type, int] = {EOL: 0, NOP: 1, MSS: 2, WScale: 3, SackPermitted: 4, Sack: 5}


def option_kind(o: TCPOption) -> int:
    if isinstance(o, Timestamps):
        return 8
    return _KINDS.get(type(o), getattr(o, "kind", -1))


def _field(name: str, expected: int, actual: int) -> str | None:
    if expected == actual:
        return None
    return (
        f"live packet field {name}: expected: {expected} ({expected:#x}) "
        f"vs actual: {actual} ({actual:#x})"
    )


def aggregate(frags: list[Segment]) -> Segment:
    """One segment from consecutive ones (packet.c aggregate_packets)."""
    if len(frags) == 1:
        return frags[0]
    first, last = frags[0], frags[-1]
    cwr = first.flags & Flags.CWR
    return replace(
        last,
        seq=first.seq,
        flags=(last.flags & ~Flags.CWR) | cwr,
        payload=b"".join(f.payload for f in frags),
    )


def fragment_problem(cur: Segment, prev: Segment, sniffed: int, expected_total: int) -> str | None:
    """Can ``cur`` follow ``prev`` in one joined segment (verify_packet_fragments)?"""
    checks = [
        _field("tcp_data_offset", prev.doff, cur.doff),
        _field("tcp_syn", bool(prev.flags & Flags.SYN), bool(cur.flags & Flags.SYN)),
        _field("tcp_rst", bool(prev.flags & Flags.RST), bool(cur.flags & Flags.RST)),
        _field("tcp_ack", bool(prev.flags & Flags.ACK), bool(cur.flags & Flags.ACK)),
        _field("tcp_urg", bool(prev.flags & Flags.URG), bool(cur.flags & Flags.URG)),
        _field("tcp_ece", bool(prev.flags & Flags.ECE), bool(cur.flags & Flags.ECE)),
        _field("tcp_ae", bool(prev.flags & Flags.NS), bool(cur.flags & Flags.NS)),
        _field("tcp_seq", prev.end_seq, cur.seq),
        _field("tcp_ack_seq", prev.ack, cur.ack),
        _field("tcp_window", prev.window, cur.window),
        _field("tcp_urg_ptr", prev.urg, cur.urg),
    ]
    for problem in checks:
        if problem:
            return problem
    if cur.payload_len < expected_total - sniffed and cur.payload_len != prev.payload_len:
        return (
            f"fragment payload: expected {prev.payload_len} bytes vs actual {cur.payload_len}"
            f" bytes; total payload: expected {expected_total} bytes vs actual "
            f"{cur.payload_len + sniffed} bytes"
        )
    return None


@dataclass(frozen=True, slots=True)
class Verdict:
    """The first problem (packetdrill's message, or None) and every differing field."""

    problem: str | None
    actual: Segment
    diff: list[str]


def map_timestamps(spec: s.PacketSpec, seg: Segment, sock: SocketUnderTest) -> Segment:
    """Learn the script->live TSval mapping and show the live TSval in script space
    (run_packet.c map_outbound_live_packet)."""
    want = next((o for o in spec.options or () if isinstance(o, Timestamps)), None)
    have = next((o for o in seg.options if isinstance(o, Timestamps)), None)
    if want is None or have is None:
        return seg
    val = sock.note_outbound_ts(want.val, have.val)
    opts = tuple(Timestamps(val, o.ecr) if isinstance(o, Timestamps) else o for o in seg.options)
    return replace(seg, options=opts)


def _option_problem(
    spec: s.PacketSpec, seg: Segment, tolerance_usecs: int, ts_tick_usecs: int
) -> str | None:
    if spec.options is None:
        return None
    want, have = list(spec.options), list(seg.options)
    for i in range(max(len(want), len(have))):
        if i >= len(want) or i >= len(have) or option_kind(want[i]) != option_kind(have[i]):
            return "bad outbound TCP options"
        w, h = want[i], have[i]
        if isinstance(h, EOL | NOP):
            continue
        if isinstance(h, Timestamps) and isinstance(w, Timestamps):
            if (
                ts_tick_usecs
                and abs((h.val - w.val + (1 << 31)) % (1 << 32) - (1 << 31)) * (ts_tick_usecs)
                > tolerance_usecs
            ):
                return f"bad outbound TCP timestamp value, tolerance {tolerance_usecs}"
            continue
        err = None
        if option_length(w) != option_length(h):
            err = "bad length"
        elif w != h:
            err = "bad value"
        if err:
            return (
                f"{err} in outbound TCP option (kind={option_kind(w)}): "
                f"expected: {format_tcp_option(w)} actual: {format_tcp_option(h)}"
            )
    return None


def verify(
    spec: s.PacketSpec,
    seg: Segment,
    *,
    tolerance: Tolerance,
    ts_tick_usecs: int,
    event_usecs: int,
) -> Verdict:
    """Check a (joined, script-space, TS-mapped) segment against its packet line."""
    opt_len = sum(option_length(o) for o in spec.options or ())
    allowance = (seg.doff - 5) * 4 if spec.options is None else 0
    script_doff = 5 + (opt_len + allowance) // 4
    f, g = spec.flags, seg.flags
    checks: list[str | None] = [
        _field(
            "ipv4_total_length",
            40 + opt_len + allowance + spec.payload_len,
            20 + seg.doff * 4 + seg.payload_len,
        ),
    ]
    if spec.tos_check == "ecn":
        checks.append(_field("ip_ecn", spec.tos_value, seg.tos & 3))
    elif spec.tos_check == "ect01" and seg.tos & 3 not in (1, 2):
        checks.append(f"live packet field ip_ecn: expected: 0x1 or 0x2 vs actual: {seg.tos & 3:#x}")
    elif spec.tos_check == "tos":
        checks.append(_field("tos", spec.tos_value, seg.tos))
    if spec.ttl:
        checks.append(_field("ttl", spec.ttl, seg.ttl))
    checks.append(_field("tcp_data_offset", script_doff, seg.doff))
    for name, bit in (
        ("fin", Flags.FIN),
        ("syn", Flags.SYN),
        ("rst", Flags.RST),
        ("psh", Flags.PSH),
        ("ack", Flags.ACK),
        ("urg", Flags.URG),
    ):
        checks.append(_field(f"tcp_{name}", int(bool(f & bit)), int(bool(g & bit))))
    if spec.ace is not None:
        ace = (4 if g & Flags.NS else 0) | (2 if g & Flags.CWR else 0) | (1 if g & Flags.ECE else 0)
        checks.append(_field("tcp_ace", spec.ace, ace))
    else:
        for name, bit in (("ece", Flags.ECE), ("cwr", Flags.CWR), ("ae", Flags.NS)):
            checks.append(_field(f"tcp_{name}", int(bool(f & bit)), int(bool(g & bit))))
    checks.append(_field("tcp_seq", spec.seq, seg.seq))
    checks.append(_field("tcp_ack_seq", spec.ack, seg.ack))
    if spec.window is not None:
        checks.append(_field("tcp_window", spec.window, seg.window))
    checks.append(_field("tcp_urg_ptr", spec.urg, seg.urg))
    ts_tol = tolerance.allowed(event_usecs, 0)
    checks.append(_option_problem(spec, seg, ts_tol, ts_tick_usecs))
    if seg.payload_len == spec.payload_len and seg.payload != bytes(spec.payload_len):
        checks.append("incorrect outbound data payload")
    problem = next((c for c in checks if c), None)
    return Verdict(problem, seg, segment_diff(spec, seg))


def segment_diff(spec: s.PacketSpec, seg: Segment) -> list[str]:
    """Every field where the segment differs from the line, for the failure report."""
    out: list[str] = []

    def add(name: str, want: str, got: str) -> None:
        if want != got:
            out.append(f"{name}: expected {want}, actual {got}")

    add("flags", flags_text(spec.flags), flags_text(seg.flags))
    add(
        "seq",
        f"{spec.seq}:{spec.end_seq}({spec.payload_len})",
        f"{seg.seq}:{seg.end_seq}({seg.payload_len})",
    )
    if spec.flags & Flags.ACK or seg.flags & Flags.ACK:
        add("ack", str(spec.ack), str(seg.ack))
    if spec.window is not None:
        add("win", str(spec.window), str(seg.window))
    if spec.options is not None:
        add(
            "options",
            "<" + ",".join(format_tcp_option(o) for o in spec.options) + ">",
            "<" + ",".join(format_tcp_option(o) for o in seg.options) + ">",
        )
    return out


def describe_pair(spec: s.PacketSpec, spec_usecs: int, seg: Segment | None) -> str:
    """packetdrill's ``script packet:`` / ``actual packet:`` lines."""
    text = f"script packet: {float(secs(spec_usecs)):9.6f} {dump_spec(spec)}"
    if seg is not None:
        text += f"\nactual packet: {seg.time:9.6f} {dump_segment(seg)}"
    return text
