"""ICMP on a host (RFC 792, RFC 1122 §3.2.2): echo replies, echo requests, unreachables.

* An Echo Request is answered with an Echo Reply carrying the same identifier, sequence
  number and data (RFC 792; RFC 1122 §3.2.2.6 makes the echo server a MUST).
* Destination Unreachable messages are sent for the layers above (UDP's port
  unreachable), rate limited per destination with Linux's token bucket
  (``net.ipv4.icmp_ratelimit`` = 1000 ms, a burst of 6: ``XRLIM_BURST_FACTOR``), and
  never about an ICMP error, a non-unicast source or a broadcast/multicast destination
  (RFC 1122 §3.2.2).
* A Destination Unreachable that arrives is handed to UDP, which reports it to a
  connected socket (ECONNREFUSED for port unreachable, as Linux does).
* :meth:`IcmpLayer.ping` sends an Echo Request; replies are collected in
  :attr:`IcmpLayer.replies`.

Counters use the names of Linux's ICMP MIB (``nstat``: IcmpInMsgs, IcmpOutEchoReps...).
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

from synack.errors import DecodeError
from synack.stack.ip_output import IpSender
from synack.wire.icmp import (
    DEST_UNREACHABLE,
    ECHO_REPLY,
    ECHO_REQUEST,
    ICMPMessage,
    decode_icmp,
    dest_unreachable,
    echo_reply_for,
    echo_request,
    encode_icmp,
)
from synack.wire.ip import PROTO_ICMP, IPv4Packet, encode_ipv4

if TYPE_CHECKING:
    from synack.stack.host import Host

__all__ = ["ICMP_MIB", "IcmpLayer"]

ICMP_MIB = (
    "InMsgs",
    "InErrors",
    "InCsumErrors",
    "InDestUnreachs",
    "InEchos",
    "InEchoReps",
    "OutMsgs",
    "OutDestUnreachs",
    "OutEchos",
    "OutEchoReps",
    "OutRateLimitHost",
)

#: Linux net.ipv4.icmp_ratelimit (ms -> s) and XRLIM_BURST_FACTOR.
RATELIMIT_INTERVAL = 1.0
RATELIMIT_BURST = 6
#: Types that are errors: never answered with an error (RFC 1122 §3.2.2).
_ERROR_TYPES = frozenset({3, 4, 5, 11, 12})

EchoCallback = Callable[[str, ICMPMessage], None]


def _unicast(addr: str) -> bool:
    ip = ipaddress.IPv4Address(addr)
    return not (ip.is_multicast or ip.is_unspecified or addr == "255.255.255.255")


class IcmpLayer:
    def __init__(
        self,
        host: Host,
        *,
        rate_interval: float = RATELIMIT_INTERVAL,
        rate_burst: int = RATELIMIT_BURST,
    ) -> None:
        self.host = host
        self.counters: Counter[str] = Counter()
        self._out = IpSender(host, PROTO_ICMP)
        self.rate_interval = rate_interval
        self.rate_burst = rate_burst
        self._tokens: dict[str, tuple[float, float]] = {}  # dst -> (tokens, last refill)
        #: (source, reply) of every Echo Reply received, oldest first.
        self.replies: list[tuple[str, ICMPMessage]] = []
        self.on_echo_reply: EchoCallback | None = None

    # --- in ---------------------------------------------------------------------------

    def receive(self, pkt: IPv4Packet) -> None:
        c = self.counters
        c["InMsgs"] += 1
        try:
            msg = decode_icmp(pkt.payload)
        except DecodeError as e:
            c["InErrors"] += 1
            if e.reason == "icmp_bad_checksum":
                c["InCsumErrors"] += 1
            self.host.drop(e.reason)
            return
        if msg.type == ECHO_REQUEST and msg.code == 0:
            c["InEchos"] += 1
            if _unicast(pkt.src):
                self._send(pkt.src, echo_reply_for(msg), "OutEchoReps", tos=pkt.tos & 0xFC)
        elif msg.type == ECHO_REPLY:
            c["InEchoReps"] += 1
            self.replies.append((pkt.src, msg))
            if self.on_echo_reply is not None:
                self.on_echo_reply(pkt.src, msg)
        elif msg.type == DEST_UNREACHABLE:
            c["InDestUnreachs"] += 1
            self.host.udp.icmp_error(msg.code, msg.payload)
        else:
            self.host.drop("icmp_type_ignored")

    # --- out --------------------------------------------------------------------------

    def _send(self, dst: str, msg: ICMPMessage, counter: str, *, tos: int = 0) -> None:
        if self._out.send(dst, encode_icmp(msg), tos=tos):
            self.counters["OutMsgs"] += 1
            self.counters[counter] += 1

    def ping(self, dst: str, ident: int, seq: int, data: bytes = b"") -> None:
        """Send an Echo Request to ``dst``."""
        self._send(dst, echo_request(ident, seq, data), "OutEchos")

    def _allowed(self, dst: str) -> bool:
        """Linux's inet_peer_xrlim_allow: a token bucket of ``burst`` intervals per peer."""
        now = self.host.clock()
        cap = self.rate_burst * self.rate_interval
        tokens, last = self._tokens.get(dst, (cap, now))
        tokens = min(tokens + (now - last), cap)
        if tokens < self.rate_interval:
            self._tokens[dst] = (tokens, now)
            return False
        self._tokens[dst] = (tokens - self.rate_interval, now)
        return True

    def send_unreachable(self, code: int, original: IPv4Packet) -> bool:
        """Destination Unreachable ``code`` about ``original`` (RFC 792, RFC 1122 §3.2.2)."""
        head = original.payload[:1]
        if original.protocol == PROTO_ICMP and head and head[0] in _ERROR_TYPES:
            return False  # never an error about an error
        if not _unicast(original.src) or not _unicast(original.dst):
            return False
        if not self._allowed(original.src):
            self.counters["OutRateLimitHost"] += 1
            return False
        self._send(original.src, dest_unreachable(code, encode_ipv4(original)), "OutDestUnreachs")
        return True
