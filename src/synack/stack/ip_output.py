"""Sending IPv4 datagrams for the protocols beside TCP (UDP, ICMP)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from synack.wire.ip import IPv4Packet, encode_ipv4

if TYPE_CHECKING:
    from synack.stack.host import Host


class IpSender:
    """Wraps payloads of one protocol in IPv4 headers from a host and transmits them.

    Each sender numbers its datagrams itself: these are atomic datagrams (DF set, never
    fragmented), whose Identification field RFC 6864 §4.1 leaves free of any uniqueness
    requirement.
    """

    def __init__(self, host: Host, protocol: int) -> None:
        self.host = host
        self.protocol = protocol
        self._ident = 0

    def send(self, dst: str, payload: bytes, *, tos: int = 0) -> bool:
        """Transmit one datagram; False (and a drop counted) when the host has no link."""
        host = self.host
        if host.transmit is None:
            host.drop("no_link")
            return False
        self._ident = (self._ident + 1) & 0xFFFF
        host.transmit(
            encode_ipv4(
                IPv4Packet(host.ip, dst, self.protocol, payload, ident=self._ident, tos=tos)
            )
        )
        return True
