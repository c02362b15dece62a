"""UDP on a host (RFC 768, RFC 1122 §4.1): bound endpoints, datagrams in and out.

* :meth:`UdpLayer.bind` takes a port (0: an ephemeral one, from Linux's range) and
  returns a :class:`UdpEndpoint`; a port can be bound once (EADDRINUSE).
* A datagram for a port nobody has bound is answered with ICMP port unreachable (RFC
  1122 §4.1.3.1 SHOULD; rate limited by :class:`~synack.stack.icmp.IcmpLayer`) and
  counted as NoPorts.
* Checksums are verified unless the sender sent none (zero, RFC 768).
* Each endpoint queues datagrams up to ``rcvbuf`` bytes of payload; beyond that they are
  dropped (RcvbufErrors), as a full Linux socket buffer drops them.
* An ICMP port unreachable about a datagram a *connected* endpoint sent sets its
  pending error to ECONNREFUSED (Linux reports errors to connected UDP sockets only).

Counters use Linux's UDP MIB names (``nstat``: UdpInDatagrams, UdpNoPorts...).
"""

from __future__ import annotations

import errno
import hashlib
import random
import socket
from collections import Counter, deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from synack.errors import DecodeError
from synack.stack.ip_output import IpSender
from synack.stack.ports import PortAllocator
from synack.wire.icmp import PORT_UNREACHABLE
from synack.wire.ip import PROTO_UDP, IPv4Packet
from synack.wire.udp import UDPDatagram, decode_udp, encode_udp

if TYPE_CHECKING:
    from synack.stack.host import Host

__all__ = ["UDP_MIB", "UdpEndpoint", "UdpLayer"]

UDP_MIB = ("InDatagrams", "NoPorts", "InErrors", "OutDatagrams", "RcvbufErrors", "InCsumErrors")
#: Linux net.core.rmem_default: a UDP socket's receive buffer.
DEFAULT_RCVBUF = 212992
#: The largest UDP payload in one IPv4 datagram: 65535 - 20 (IP) - 8 (UDP).
MAX_PAYLOAD = 65507

Address = tuple[str, int]
DatagramCallback = Callable[["UdpEndpoint"], None]


class UdpEndpoint:
    """One bound UDP port: send datagrams, queue the ones that arrive."""

    def __init__(self, layer: UdpLayer, port: int, rcvbuf: int = DEFAULT_RCVBUF) -> None:
        self.layer = layer
        self.port = port
        self.rcvbuf = rcvbuf
        self.remote: Address | None = None
        self.queue: deque[tuple[bytes, Address]] = deque()
        self.queued_bytes = 0
        self.error: int | None = None  # pending asynchronous error (SO_ERROR)
        self.closed = False
        self.on_datagram: DatagramCallback | None = None

    def __repr__(self) -> str:
        return f"<UdpEndpoint {self.layer.host.ip}:{self.port} -> {self.remote}>"

    @property
    def local(self) -> Address:
        return (self.layer.host.ip, self.port)

    def connect(self, remote: Address | None) -> None:
        """Fix the peer (None: disconnect): only its datagrams are queued from then on."""
        self.remote = remote

    def sendto(self, data: bytes, addr: Address) -> int:
        if self.closed:
            raise OSError(errno.EBADF, "endpoint is closed")
        if len(data) > MAX_PAYLOAD:
            raise OSError(errno.EMSGSIZE, f"datagram of {len(data)} bytes is too long")
        ip, port = addr
        if not 0 < port < 65536:
            raise OSError(errno.EINVAL, f"bad port {port}")
        host = self.layer.host
        wire = encode_udp(UDPDatagram(self.port, port, bytes(data)), host.ip, ip)
        if self.layer.sender.send(ip, wire):
            self.layer.counters["OutDatagrams"] += 1
        return len(data)

    def send(self, data: bytes) -> int:
        if self.remote is None:
            raise OSError(errno.EDESTADDRREQ, "endpoint is not connected")
        return self.sendto(data, self.remote)

    def recvfrom(self) -> tuple[bytes, Address] | None:
        """The oldest queued datagram and its sender, or None."""
        if not self.queue:
            return None
        data, addr = self.queue.popleft()
        self.queued_bytes -= len(data)
        return data, addr

    def take_error(self) -> int | None:
        err, self.error = self.error, None
        return err

    def deliver(self, data: bytes, addr: Address) -> None:
        if self.remote is not None and addr != self.remote:
            self.layer.host.drop("udp_not_from_peer")
            return
        if self.queued_bytes + len(data) > self.rcvbuf:
            self.layer.counters["RcvbufErrors"] += 1
            self.layer.counters["InErrors"] += 1
            self.layer.host.drop("udp_rcvbuf_full")
            return
        self.queue.append((data, addr))
        self.queued_bytes += len(data)
        self.layer.counters["InDatagrams"] += 1
        if self.on_datagram is not None:
            self.on_datagram(self)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.layer.unbind(self)
            self.queue.clear()
            self.queued_bytes = 0


class UdpLayer:
    def __init__(self, host: Host) -> None:
        self.host = host
        self.counters: Counter[str] = Counter()
        self.endpoints: dict[int, UdpEndpoint] = {}
        self.sender = IpSender(host, PROTO_UDP)
        # Its own random stream, so that UDP does not shift the TCP port choices.
        seed = int.from_bytes(hashlib.sha256(b"udp-ports\0" + host.secret).digest()[:8], "big")
        self.ports = PortAllocator(random.Random(seed))

    def bind(self, port: int = 0, *, rcvbuf: int = DEFAULT_RCVBUF) -> UdpEndpoint:
        if port == 0:
            free = self.ports.allocate(lambda p: p in self.endpoints)
            if free is None:
                raise OSError(errno.EADDRNOTAVAIL, "no free ephemeral UDP port")
            port = free
        elif not 0 < port < 65536:
            raise OSError(errno.EINVAL, f"bad port {port}")
        elif port in self.endpoints:
            raise OSError(errno.EADDRINUSE, f"UDP port {port} is in use")
        ep = UdpEndpoint(self, port, rcvbuf)
        self.endpoints[port] = ep
        return ep

    def unbind(self, ep: UdpEndpoint) -> None:
        if self.endpoints.get(ep.port) is ep:
            del self.endpoints[ep.port]

    def receive(self, pkt: IPv4Packet) -> None:
        try:
            d = decode_udp(pkt.payload, pkt.src, pkt.dst)
        except DecodeError as e:
            self.counters["InErrors"] += 1
            if e.reason == "udp_bad_checksum":
                self.counters["InCsumErrors"] += 1
            self.host.drop(e.reason)
            return
        ep = self.endpoints.get(d.dst_port)
        if ep is None:
            self.counters["NoPorts"] += 1
            self.host.drop("udp_no_socket")
            self.host.icmp.send_unreachable(PORT_UNREACHABLE, pkt)  # RFC 1122 §4.1.3.1
            return
        ep.deliver(d.payload, (pkt.src, d.src_port))

    def icmp_error(self, code: int, quoted: bytes) -> None:
        """An ICMP Destination Unreachable quoting one of our datagrams (RFC 1122 §4.1.3.3)."""
        # The quote is the original IP header and the first 8 octets of its data (RFC 792),
        # so its total length field describes more than is here: parse it by hand.
        if len(quoted) < 20 or quoted[0] >> 4 != 4:
            return
        ihl = (quoted[0] & 0x0F) * 4
        if quoted[9] != PROTO_UDP or len(quoted) < ihl + 4:
            return
        src, dst = socket.inet_ntoa(quoted[12:16]), socket.inet_ntoa(quoted[16:20])
        sport = int.from_bytes(quoted[ihl : ihl + 2], "big")
        dport = int.from_bytes(quoted[ihl + 2 : ihl + 4], "big")
        ep = self.endpoints.get(sport)
        if src == self.host.ip and ep is not None and ep.remote == (dst, dport):
            ep.error = errno.ECONNREFUSED if code == PORT_UNREACHABLE else errno.EHOSTUNREACH
