"""The TCP header (RFC 9293 §3.1) with all nine flags (RFC 3168 §6.1, RFC 3540 §9).

:class:`TCPSegment` is the value the sans-IO core consumes and produces.  It carries no IP
addresses: the stack adds them when it wraps a segment in an IPv4 packet, and the checksum
(over the RFC 9293 §3.1 pseudo-header) is computed by :func:`encode_tcp` and verified by
:func:`decode_tcp`, which are given the addresses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntFlag

from synack.wire.options import TCPOption, option_mss, option_sack_blocks, option_timestamps
from synack.wire.options import option_sack_permitted, option_wscale


class Flags(IntFlag):
    """TCP control bits.  NS is bit 8 of the 16-bit flags field (RFC 3540, historic)."""

    FIN = 0x001
    SYN = 0x002
    RST = 0x004
    PSH = 0x008
    ACK = 0x010
    URG = 0x020
    ECE = 0x040
    CWR = 0x080
    NS = 0x100


NOFLAGS = Flags(0)


@dataclass(slots=True)
class TCPSegment:
    """One TCP segment: header fields, options in wire order, and payload.

    ``checksum`` and ``data_offset`` are filled in by the decoder (the values on the wire);
    the encoder computes its own and ignores them unless told to keep them.
    """

    src_port: int
    dst_port: int
    seq: int
    ack: int
    flags: Flags
    window: int
    urgent: int = 0
    options: tuple[TCPOption, ...] = ()
    payload: bytes = b""
    checksum: int | None = field(default=None, compare=False)
    data_offset: int | None = field(default=None, compare=False)

    # --- convenience accessors -------------------------------------------------------

    @property
    def seg_len(self) -> int:
        """SEG.LEN: octets of data plus one for SYN and one for FIN (RFC 9293 §3.4)."""
        f = self.flags
        return len(self.payload) + (1 if f & Flags.SYN else 0) + (1 if f & Flags.FIN else 0)

    @property
    def syn(self) -> bool:
        return bool(self.flags & Flags.SYN)

    @property
    def fin(self) -> bool:
        return bool(self.flags & Flags.FIN)

    @property
    def rst(self) -> bool:
        return bool(self.flags & Flags.RST)

    @property
    def has_ack(self) -> bool:
        return bool(self.flags & Flags.ACK)

    @property
    def mss(self) -> int | None:
        return option_mss(self.options)

    @property
    def wscale(self) -> int | None:
        return option_wscale(self.options)

    @property
    def sack_permitted(self) -> bool:
        return option_sack_permitted(self.options)

    @property
    def timestamps(self) -> tuple[int, int] | None:
        """(TSval, TSecr) or None."""
        return option_timestamps(self.options)

    @property
    def sack_blocks(self) -> tuple[tuple[int, int], ...]:
        return option_sack_blocks(self.options)
