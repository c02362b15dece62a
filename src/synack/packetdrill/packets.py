"""Packets between the script and the stack: building inbound ones from packet lines,
reading outbound ones, mapping both between script and live numbers, and printing them
as packetdrill does (``S. 0:0(0) ack 1 win 65535 <mss 1460,nop,wscale 8>``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from synack.errors import DecodeError
from synack.packetdrill import script as s
from synack.packetdrill.mapping import MASK, SocketUnderTest
from synack.packetdrill.tcpoptions import format_tcp_options
from synack.wire.icmp import ICMPMessage, encode_icmp
from synack.wire.ip import PROTO_ICMP, PROTO_TCP, PROTO_UDP, IPv4Packet, decode_ipv4, encode_ipv4
from synack.wire.options import Sack, TCPOption, Timestamps
from synack.wire.tcp import Flags, TCPSegment, decode_tcp, encode_tcp
from synack.wire.udp import UDPDatagram, encode_udp

#: Largest TCP payload one IPv4 packet can carry (65535 - 20 - 60).
MAX_IPV4_TCP_PAYLOAD = 65535 - 20 - 60
DEFAULT_TTL = 64
#: ICMP types and codes by the names packetdrill's icmp_packet.c accepts.
ICMP_TYPES = {
    "echo_reply": 0,
    "unreachable": 3,
    "source_quench": 4,
    "redirect": 5,
    "echo_request": 8,
    "time_exceeded": 11,
    "parameter_problem": 12,
}
ICMP_UNREACH_CODES = {
    "net_unreachable": 0,
    "host_unreachable": 1,
    "protocol_unreachable": 2,
    "port_unreachable": 3,
    "frag_needed": 4,
    "source_route_failed": 5,
    "net_unknown": 6,
    "host_unknown": 7,
    "source_host_isolated": 8,
    "net_prohibited": 9,
    "host_prohibited": 10,
    "net_unreachable_for_tos": 11,
    "host_unreachable_for_tos": 12,
    "packet_filtered": 13,
    "precedence_violation": 14,
    "precedence_cutoff": 15,
}


@dataclass(frozen=True, slots=True)
class Segment:
    """A TCP segment with the IP fields a script can check, in live or script space."""

    time: float
    src_port: int
    dst_port: int
    flags: Flags
    seq: int
    ack: int
    window: int
    urg: int
    options: tuple[TCPOption, ...]
    payload: bytes
    doff: int  # TCP header length in 32-bit words, as on the wire
    tos: int = 0
    ttl: int = DEFAULT_TTL

    @property
    def payload_len(self) -> int:
        return len(self.payload)

    @property
    def end_seq(self) -> int:
        return (self.seq + len(self.payload)) & MASK


def decode_outbound(data: bytes, time: float) -> tuple[str, str, Segment] | None:
    """An outbound IPv4 packet as (src ip, dst ip, segment); None if it is not TCP."""
    try:
        pkt = decode_ipv4(data)
        if pkt.protocol != PROTO_TCP:
            return None
        seg = decode_tcp(pkt.payload, pkt.src, pkt.dst)
    except DecodeError:
        return None
    doff = seg.data_offset if seg.data_offset is not None else 5
    view = Segment(
        time,
        seg.src_port,
        seg.dst_port,
        seg.flags,
        seg.seq,
        seg.ack,
        seg.window,
        seg.urgent,
        seg.options,
        bytes(seg.payload),
        doff,
        pkt.tos,
        pkt.ttl,
    )
    return pkt.src, pkt.dst, view


def _offset_sack(options: tuple[TCPOption, ...], offset: int) -> tuple[TCPOption, ...]:
    return tuple(
        Sack(tuple(((lo + offset) & MASK, (hi + offset) & MASK) for lo, hi in o.blocks))
        if isinstance(o, Sack)
        else o
        for o in options
    )


def to_script_space(seg: Segment, sock: SocketUnderTest) -> Segment:
    """Map an outbound segment's sequence, ACK and SACK numbers onto the script's
    (run_packet.c tcp_convert_seq_number)."""
    syn = bool(seg.flags & Flags.SYN)
    seq = (seg.seq + sock.local_live_to_script(syn)) & MASK
    off = sock.remote_live_to_script(syn)
    ack = (seg.ack + off) & MASK if seg.flags & Flags.ACK else seg.ack
    return replace(seg, seq=seq, ack=ack, options=_offset_sack(seg.options, off))


class InboundError(Exception):
    """An inbound packet cannot be built (e.g. no TS value to echo)."""


def inbound_tcp(
    spec: s.PacketSpec,
    sock: SocketUnderTest,
    *,
    local_ip: str,
    remote_ip: str,
    ecr_scaled: bool,
    gso_mss: int,
) -> list[bytes]:
    """The live IPv4 packets for an inbound TCP line (run_packet.c map_inbound_packet).

    A payload larger than one IPv4 packet holds is cut into ``gso_mss`` pieces (what the
    kernel's GSO receive path would see as one large segment is delivered in order).
    """
    flags = spec.flags
    syn = bool(flags & Flags.SYN)
    seq = (spec.seq + sock.remote_script_to_live(syn)) & MASK
    ack_off = sock.local_script_to_live(syn)
    ack = (spec.ack + ack_off) & MASK if flags & Flags.ACK else spec.ack
    options = _offset_sack(spec.options or (), ack_off)
    if flags & Flags.ACK:
        mapped: list[TCPOption] = []
        for o in options:
            if isinstance(o, Timestamps):
                ecr = sock.inbound_ecr(o.ecr, ecr_scaled)
                if ecr is None:
                    raise InboundError(
                        f"unable to infer live TS ecr for script TS ecr {o.ecr};  "
                        "no matching or preceding outbound TS val"
                    )
                o = Timestamps(o.val, ecr)
            mapped.append(o)
        options = tuple(mapped)
    sport = spec.src_port or sock.live_remote_port
    dport = spec.dst_port or sock.live_local_port
    tos = spec.tos_value if spec.tos_check in ("ecn", "tos") else 0
    ttl = spec.ttl or DEFAULT_TTL
    chunk = spec.payload_len if spec.payload_len <= MAX_IPV4_TCP_PAYLOAD else gso_mss
    out: list[bytes] = []
    done = 0
    while True:
        n = min(chunk, spec.payload_len - done)
        last = done + n >= spec.payload_len
        f = flags if last else flags & ~(Flags.FIN | Flags.PSH)
        seg = TCPSegment(
            sport, dport, (seq + done) & MASK, ack, f, spec.window or 0, spec.urg, options, bytes(n)
        )
        tcp = encode_tcp(seg, remote_ip, local_ip)
        out.append(encode_ipv4(IPv4Packet(remote_ip, local_ip, PROTO_TCP, tcp, ttl=ttl, tos=tos)))
        done += n
        if last:
            return out


def inbound_other(
    spec: s.PacketSpec, sock: SocketUnderTest, *, local_ip: str, remote_ip: str
) -> bytes:
    """An inbound UDP datagram or ICMP message."""
    ttl = spec.ttl or DEFAULT_TTL
    if spec.protocol == "udp":
        dgram = UDPDatagram(
            spec.src_port or sock.live_remote_port,
            spec.dst_port or sock.live_local_port,
            bytes(spec.payload_len),
        )
        payload = encode_udp(dgram, remote_ip, local_ip)
        return encode_ipv4(IPv4Packet(remote_ip, local_ip, PROTO_UDP, payload, ttl=ttl))
    icmp_type = ICMP_TYPES.get(spec.icmp_type)
    if icmp_type is None:
        raise InboundError(f"unknown ICMP type {spec.icmp_type!r}")
    code = ICMP_UNREACH_CODES.get(spec.icmp_code, 0) if spec.icmp_code else 0
    rest = (spec.icmp_mtu or 0) & 0xFFFF if icmp_type == 3 else spec.icmp_id << 16
    echoed = b""
    if spec.echoed is not None:
        proto, start, length = spec.echoed
        if proto == "tcp":
            inner_seq = (start + sock.local_script_to_live(False)) & MASK
            inner = TCPSegment(
                sock.live_local_port, sock.live_remote_port, inner_seq, 0, Flags.ACK, 0
            )
            body = encode_tcp(inner, local_ip, remote_ip)
            proto_num = PROTO_TCP
        else:
            body = bytes(8)
            proto_num = PROTO_UDP
        ip = IPv4Packet(local_ip, remote_ip, proto_num, body + bytes(length))
        echoed = encode_ipv4(ip)[:28]  # the header and 64 bits of data (RFC 792)
    msg = encode_icmp(ICMPMessage(icmp_type, code, rest, echoed))
    return encode_ipv4(IPv4Packet(remote_ip, local_ip, PROTO_ICMP, msg, ttl=ttl))


# --- packetdrill's short dump (packet_to_string DUMP_SHORT) ------------------------------

_DUMP_ORDER = (
    (Flags.FIN, "F"),
    (Flags.SYN, "S"),
    (Flags.RST, "R"),
    (Flags.PSH, "P"),
    (Flags.ACK, "."),
    (Flags.URG, "U"),
    (Flags.ECE, "E"),
    (Flags.CWR, "W"),
    (Flags.NS, "A"),
)


def flags_text(flags: Flags) -> str:
    return "".join(letter for bit, letter in _DUMP_ORDER if flags & bit)


def dump_segment(seg: Segment, *, win: bool = True) -> str:
    text = f"{flags_text(seg.flags)} {seg.seq}:{seg.end_seq}({seg.payload_len}) "
    if seg.flags & Flags.ACK:
        text += f"ack {seg.ack} "
    if win:
        text += f"win {seg.window} "
    if seg.options:
        text += f"<{format_tcp_options(seg.options)}>"
    return text


def dump_spec(spec: s.PacketSpec) -> str:
    if spec.protocol == "udp":
        return f"udp ({spec.payload_len})"
    if spec.protocol == "icmp":
        return "icmpv4"
    text = f"{flags_text(spec.flags)} {spec.seq}:{spec.end_seq}({spec.payload_len}) "
    if spec.flags & Flags.ACK:
        text += f"ack {spec.ack} "
    if spec.window is not None:
        text += f"win {spec.window} "
    if spec.options:
        text += f"<{format_tcp_options(spec.options)}>"
    return text
