"""The virtio-net header of a TUN device opened with ``IFF_VNET_HDR``: segmentation and
checksum offload between the kernel and synack.

With ``TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN)`` the TUN interface
advertises checksum offload and TSO to the kernel, as a virtio NIC does.  Then:

* the kernel's TCP hands the device packets of up to 64 KB whatever the MTU (one GSO
  packet instead of some 45 wire packets), each preceded by a 10-octet header giving the
  segment size (``gso_size``) that the wire would cut it into, and -- with the flag
  ``NEEDS_CSUM`` -- leaves the transport checksum to the device: the checksum field holds
  only the pseudo-header sum, to be completed over the octets from ``csum_start`` on
  and stored at ``csum_start + csum_offset`` (include/uapi/linux/virtio_net.h);
* synack may write such packets too (its own TSO packets, see ``gso_max_size`` in
  :class:`~synack.tcp.config.TCPConfig`), and the kernel segments or receives them
  whole.

On the way in, the data of a packet with a partial checksum never crossed a wire, so
the check covers what can be checked: the pseudo-header sum the kernel left must match
the IP header's addresses and length.  Summing the data would check nothing (the sum is
what the NIC would write, not something to compare), so a TCP packet goes to the host
as it is, marked verified, the way Linux takes a ``CHECKSUM_PARTIAL`` packet as needing
no check (``skb_csum_unnecessary``).  The checksum is completed (what the NIC would have
done on the wire) only where the packet's octets are looked at or may be damaged: when a
trace or pcap records it, when the inbound impairment may corrupt it, and for UDP, whose
layer verifies its own.  Packets that are not offloaded keep their own full checksums
and are verified as they are.

The header is in the host's byte order (legacy virtio; TUNSETVNETLE/BE not used), and
its size is the default 10 octets (``TUNSETVNETHDRSZ`` not used).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from synack.errors import DecodeError
from synack.wire.checksum import internet_checksum, ones_complement_sum

# linux/if_tun.h
IFF_VNET_HDR = 0x4000
TUNSETOFFLOAD = 0x400454D0  # _IOW('T', 208, unsigned int)
TUN_F_CSUM = 0x01
TUN_F_TSO4 = 0x02
TUN_F_TSO_ECN = 0x08
OFFLOADS = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN

# linux/virtio_net.h
F_NEEDS_CSUM = 0x01
F_DATA_VALID = 0x02
GSO_NONE = 0
GSO_TCPV4 = 1
GSO_ECN = 0x80

HEADER = struct.Struct("=BBHHHH")  # flags, gso_type, hdr_len, gso_size, csum_start/offset
HEADER_LEN = HEADER.size
_PLAIN = HEADER.pack(0, GSO_NONE, 0, 0, 0, 0)
_PROTO_TCP = 6
_PROTO_UDP = 17


@dataclass(frozen=True, slots=True)
class VnetHeader:
    flags: int
    gso_type: int
    hdr_len: int
    gso_size: int
    csum_start: int
    csum_offset: int


def unwrap(frame: bytes, complete: bool = True) -> tuple[bytes | memoryview, int, bool]:
    """The IPv4 packet in a frame read from the device, the GSO segment size (0 when the
    packet is a single wire packet), and whether its transport checksum is known good.

    For a partial checksum (``NEEDS_CSUM``) the pseudo-header sum the kernel left is
    checked against the IP header's addresses and length, and ``True`` says that the
    host need not sum the data.  With ``complete`` (or for UDP) the checksum is also
    completed, in one pass over the data, so that the packet carries a full, correct
    checksum (pcaps of it read clean); without it a TCP packet is returned as a view of
    ``frame``, its checksum field still holding the pseudo-header sum.

    Raises :class:`DecodeError`: ``vnet_truncated``, ``vnet_gso_unsupported`` (UDP or
    IPv6 segmentation, which synack never enables), ``vnet_bad_csum_offsets``,
    ``vnet_bad_pseudo_header``.
    """
    if len(frame) < HEADER_LEN + 20:
        raise DecodeError("vnet_truncated", f"{len(frame)} octets")
    flags, gso_type, _, gso_size, start, offset = HEADER.unpack_from(frame)
    kind = gso_type & ~GSO_ECN
    if kind not in (GSO_NONE, GSO_TCPV4):
        raise DecodeError("vnet_gso_unsupported", f"gso_type {gso_type}")
    gso = gso_size if kind == GSO_TCPV4 else 0
    if not flags & F_NEEDS_CSUM or frame[HEADER_LEN] >> 4 != 4:
        return frame[HEADER_LEN:], gso, False  # (not IPv4: the link counts and drops it)
    view = memoryview(frame)[HEADER_LEN:]
    at = start + offset
    if start < 20 or at + 2 > len(view):
        raise DecodeError("vnet_bad_csum_offsets", f"start {start} offset {offset}")
    partial = int.from_bytes(view[at : at + 2], "big")
    expected = _pseudo_sum(view, start)
    if partial != expected and not (partial == 0 and expected == 0xFFFF):
        raise DecodeError("vnet_bad_pseudo_header", f"partial sum {partial:#06x}")
    if not complete and view[9] == _PROTO_TCP:
        return view, gso, True
    return complete_checksum(view, start, offset), gso, True


def _pseudo_sum(packet: bytes | memoryview, start: int) -> int:
    """The folded pseudo-header sum (RFC 9293 §3.1, RFC 768) of the transport segment at
    ``start``, over the whole of it: what a checksum-offloading stack leaves in the
    checksum field."""
    total = int.from_bytes(packet[2:4], "big")
    return ones_complement_sum(packet[12:20], packet[9] + total - start)


def complete_checksum(packet: bytes | memoryview, start: int, offset: int) -> bytes:
    """Finish a partial checksum (RFC 1071 sum from ``start`` to the end, the field
    at ``start + offset`` holding the pseudo-header sum), as a NIC does on transmit."""
    at = start + offset
    if start < 20 or at + 2 > len(packet):
        raise DecodeError("vnet_bad_csum_offsets", f"start {start} offset {offset}")
    csum = internet_checksum(memoryview(packet)[start:])
    if csum == 0 and packet[9] == _PROTO_UDP:
        csum = 0xFFFF  # RFC 768: a computed zero is sent as all ones
    return b"".join((packet[:at], csum.to_bytes(2, "big"), packet[at + 2 :]))


def wrap(packet: bytes, gso_size: int = 0) -> list[bytes | memoryview]:
    """The pieces of a frame to write (with ``writev``, so the packet is not copied
    again): a virtio-net header, then the packet.

    With ``gso_size`` the packet is a TSO packet that the kernel cuts into segments of
    that size (``GSO_TCPV4``; the ECN bit says CWR may be set, which the kernel keeps
    on the first segment only).  It goes as a Linux guest sends one: ``NEEDS_CSUM``, the
    TCP checksum field holding the pseudo-header sum over the whole TCP length, which
    the kernel's segmentation adjusts and completes per segment (tcp_gso_segment).
    """
    if not gso_size:
        return [_PLAIN, packet]
    ihl = (packet[0] & 0x0F) << 2
    doff = (packet[ihl + 12] >> 4) << 2
    gso_type = GSO_TCPV4 | (GSO_ECN if packet[ihl + 13] & 0x80 else 0)
    pseudo = _pseudo_sum(packet, ihl)
    at = ihl + 16
    header = HEADER.pack(F_NEEDS_CSUM, gso_type, ihl + doff, gso_size, ihl, 16)
    return [header, packet[:at], pseudo.to_bytes(2, "big"), memoryview(packet)[at + 2 :]]
