"""synack.wire: byte-exact codecs for the headers synack speaks.

Every ``decode_*`` function takes bytes and returns a dataclass, or raises
:class:`~synack.errors.DecodeError` (and nothing else, whatever the input) whose
``reason`` names the drop counter; every ``encode_*`` function does the reverse and
computes lengths and checksums.  Modules: :mod:`.checksum` (RFC 1071), :mod:`.ip`
(RFC 791), :mod:`.tcp` (RFC 9293 §3.1), :mod:`.options` (TCP options), :mod:`.udp`
(RFC 768), :mod:`.icmp` (RFC 792).
"""

from __future__ import annotations

from synack.wire.checksum import internet_checksum, ones_complement_sum, pseudo_header_sum
from synack.wire.icmp import (
    DEST_UNREACHABLE,
    ECHO_REPLY,
    ECHO_REQUEST,
    PORT_UNREACHABLE,
    PROTOCOL_UNREACHABLE,
    ICMPMessage,
    decode_icmp,
    dest_unreachable,
    echo_reply_for,
    echo_request,
    encode_icmp,
    port_unreachable,
)
from synack.wire.ip import PROTO_ICMP, PROTO_TCP, PROTO_UDP, IPv4Packet, decode_ipv4, encode_ipv4
from synack.wire.options import (
    EOL,
    MSS,
    NOP,
    Sack,
    SackPermitted,
    TCPOption,
    Timestamps,
    UnknownOption,
    WindowScale,
    decode_options,
    encode_options,
    format_option,
    format_options,
)
from synack.wire.tcp import NOFLAGS, Flags, TCPSegment, decode_tcp, encode_tcp, format_flags
from synack.wire.udp import UDPDatagram, decode_udp, encode_udp

__all__ = [
    "DEST_UNREACHABLE",
    "ECHO_REPLY",
    "ECHO_REQUEST",
    "EOL",
    "MSS",
    "NOFLAGS",
    "NOP",
    "PORT_UNREACHABLE",
    "PROTOCOL_UNREACHABLE",
    "PROTO_ICMP",
    "PROTO_TCP",
    "PROTO_UDP",
    "Flags",
    "ICMPMessage",
    "IPv4Packet",
    "Sack",
    "SackPermitted",
    "TCPOption",
    "TCPSegment",
    "Timestamps",
    "UDPDatagram",
    "UnknownOption",
    "WindowScale",
    "decode_icmp",
    "decode_ipv4",
    "decode_options",
    "decode_tcp",
    "decode_udp",
    "dest_unreachable",
    "echo_reply_for",
    "echo_request",
    "encode_icmp",
    "encode_ipv4",
    "encode_options",
    "encode_tcp",
    "encode_udp",
    "format_flags",
    "format_option",
    "format_options",
    "internet_checksum",
    "ones_complement_sum",
    "port_unreachable",
    "pseudo_header_sum",
]
