"""The TCP header (RFC 9293 §3.1) with all nine flags (RFC 3168 §6.1, RFC 3540 §9).

:class:`TCPSegment` is the value the sans-IO core consumes and produces.  It carries no IP
addresses: the stack adds them when it wraps a segment in an IPv4 packet, and the checksum
(over the RFC 9293 §3.1 pseudo-header) is computed by :func:`encode_tcp` and verified by
:func:`decode_tcp`, which are given the addresses.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntFlag

from synack.errors import DecodeError, UsageError
from synack.wire.checksum import internet_checksum, ones_complement_sum, pseudo_header_sum
from synack.wire.ip import PROTO_TCP
from synack.wire.options import (
    TCPOption,
    decode_options,
    encode_options,
    option_mss,
    option_sack_blocks,
    option_sack_permitted,
    option_timestamps,
    option_wscale,
)


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
#: Every flag combination made once (building an IntFlag member costs a Python call).
_FLAGS = tuple(Flags(v) for v in range(0x200))


def flags_of(value: int) -> Flags:
    """The :class:`Flags` member for a plain integer of control bits, without the
    cost of IntFlag arithmetic (``|`` and ``&`` on members are Python-level calls)."""
    return _FLAGS[value & 0x1FF]


# Plain ints for the hot paths (an IntFlag operation costs a Python-level call).
_FIN, _SYN, _RST, _ACK = 0x001, 0x002, 0x004, 0x010


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
    payload: bytes | memoryview = b""
    checksum: int | None = field(default=None, compare=False)
    data_offset: int | None = field(default=None, compare=False)
    #: The ECN field of the IP header that carries (or carried) this segment (RFC 3168
    #: §5: 0 Not-ECT, 1 ECT(1), 2 ECT(0), 3 CE).  Not part of the TCP header: the host
    #: copies it between the two layers.
    ip_ecn: int = field(default=0, compare=False)
    #: Segmentation offload (Linux skb_shinfo gso_size): when non-zero, the payload is a
    #: train of segments of this size sent or received as one (TSO/GSO on the way out,
    #: GRO or a TUN device's offload on the way in).  0 for an ordinary segment.
    gso_size: int = field(default=0, compare=False)
    # Parsed-option caches, valid while ``options`` is the tuple they were taken from.
    _ts_for: tuple[TCPOption, ...] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    _ts: tuple[int, int] | None = field(default=None, init=False, repr=False, compare=False)
    _sack_for: tuple[TCPOption, ...] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    _sack: tuple[tuple[int, int], ...] = field(default=(), init=False, repr=False, compare=False)

    # --- convenience accessors -------------------------------------------------------

    @property
    def seg_len(self) -> int:
        """SEG.LEN: octets of data plus one for SYN and one for FIN (RFC 9293 §3.4)."""
        f = int(self.flags)
        return len(self.payload) + (1 if f & _SYN else 0) + (1 if f & _FIN else 0)

    @property
    def syn(self) -> bool:
        return bool(int(self.flags) & _SYN)

    @property
    def fin(self) -> bool:
        return bool(int(self.flags) & _FIN)

    @property
    def rst(self) -> bool:
        return bool(int(self.flags) & _RST)

    @property
    def has_ack(self) -> bool:
        return bool(int(self.flags) & _ACK)

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
        opts = self.options
        if self._ts_for is not opts:
            self._ts = option_timestamps(opts)
            self._ts_for = opts
        return self._ts

    @property
    def sack_blocks(self) -> tuple[tuple[int, int], ...]:
        opts = self.options
        if self._sack_for is not opts:
            self._sack = option_sack_blocks(opts)
            self._sack_for = opts
        return self._sack


# --- wire format (RFC 9293 §3.1) ------------------------------------------------------

# Source port, destination port, sequence number, acknowledgment number, data offset /
# reserved / control bits, window, checksum, urgent pointer.
_HEADER = struct.Struct("!HHIIHHHH")
HEADER_LEN = 20
MAX_OPTIONS_LEN = 40  # data offset is 4 bits: at most 15 words, 5 of them fixed
_FLAG_BITS = 0x1FF  # the nine control bits: NS (RFC 3540) in the low bit of byte 12


def encode_tcp_parts(seg: TCPSegment, src_ip: str, dst_ip: str) -> tuple[bytes, bytes | memoryview]:
    """The segment's header (options included, checksum filled in) and its payload, kept
    apart so that a caller can join them with the IP header in one copy.

    The checksum (RFC 9293 §3.1) is summed over the payload and the header separately:
    the header is a whole number of 32-bit words, so the two ones'-complement sums add.
    """
    opts = encode_options(seg.options) if seg.options else b""
    if len(opts) > MAX_OPTIONS_LEN:
        raise UsageError(f"TCP options take {len(opts)} octets, more than {MAX_OPTIONS_LEN}")
    hlen = HEADER_LEN + len(opts)
    payload = seg.payload
    initial = pseudo_header_sum(src_ip, dst_ip, PROTO_TCP, hlen + len(payload))
    if payload:
        initial = ones_complement_sum(payload, initial)
    seq, ack, window, urgent = seg.seq, seg.ack, seg.window, seg.urgent
    off_flags = ((hlen >> 2) << 12) | (int(seg.flags) & _FLAG_BITS)
    try:
        # The header's own words, summed from its fields (a 32-bit field counts whole:
        # 2**16 is 1 modulo 0xFFFF), so that it is packed once, checksum included; the
        # options (whole 32-bit words) likewise count as one big-endian integer.
        s = initial + seg.src_port + seg.dst_port + seq + ack + off_flags + window + urgent
        if opts:
            s += int.from_bytes(opts, "big")
        s %= 0xFFFF
        csum = ~(s or 0xFFFF) & 0xFFFF
        header = _HEADER.pack(seg.src_port, seg.dst_port, seq, ack, off_flags, window, csum, urgent)
    except struct.error as exc:
        raise UsageError(f"cannot encode TCP segment {seg!r}: {exc}") from exc
    return header + opts if opts else header, payload


def encode_tcp(seg: TCPSegment, src_ip: str, dst_ip: str, *, checksum: bool = True) -> bytes:
    """The segment's wire bytes: header, options (zero-padded), payload.

    The data offset is derived from the options length.  With ``checksum=True`` the
    checksum is computed over the pseudo-header, header and payload (RFC 9293 §3.1);
    with ``checksum=False`` ``seg.checksum`` (or 0) is written as is, e.g. to craft a
    corrupt segment.  Raises :class:`UsageError` for out-of-range fields or more than 40
    octets of options.
    """
    if checksum:
        header, payload = encode_tcp_parts(seg, src_ip, dst_ip)
        return header + payload
    opts = encode_options(seg.options) if seg.options else b""
    if len(opts) > MAX_OPTIONS_LEN:
        raise UsageError(f"TCP options take {len(opts)} octets, more than {MAX_OPTIONS_LEN}")
    offset = (HEADER_LEN + len(opts)) >> 2
    try:
        header = _HEADER.pack(
            seg.src_port,
            seg.dst_port,
            seg.seq,
            seg.ack,
            (offset << 12) | (int(seg.flags) & _FLAG_BITS),
            seg.window,
            seg.checksum or 0,
            seg.urgent,
        )
    except struct.error as exc:
        raise UsageError(f"cannot encode TCP segment {seg!r}: {exc}") from exc
    return header + opts + seg.payload


def decode_tcp(
    data: bytes | memoryview,
    src_ip: str,
    dst_ip: str,
    *,
    verify_checksum: bool = True,
    payload_view: bool = False,
) -> TCPSegment:
    """Parse a TCP segment (the IP payload, already trimmed to the IP total length).

    Fills ``checksum`` and ``data_offset`` with the values on the wire.  The three
    reserved bits are ignored (RFC 9293 §3.1: "must be ignored in received segments").
    Raises :class:`DecodeError`: ``tcp_truncated`` (< 20 octets), ``tcp_bad_data_offset``
    (offset < 5 words or past the end), ``tcp_bad_checksum``, and the option reasons of
    :func:`~synack.wire.options.decode_options`.

    With ``payload_view`` and a ``memoryview`` for ``data`` the payload is a view of it,
    not a copy: for a caller whose buffer is immutable (the host's receive path, whose
    receive buffer then copies the data once, when the application reads it).
    """
    n = len(data)
    if n < HEADER_LEN:
        raise DecodeError("tcp_truncated", f"{n} octets")
    sport, dport, seq, ack, off_flags, window, csum, urgent = _HEADER.unpack_from(data)
    offset = off_flags >> 12
    hlen = offset << 2
    if offset < 5 or hlen > n:
        raise DecodeError("tcp_bad_data_offset", f"data offset {offset} with {n} octets")
    if verify_checksum:
        initial = pseudo_header_sum(src_ip, dst_ip, PROTO_TCP, n)
        if internet_checksum(data, initial) != 0:
            raise DecodeError("tcp_bad_checksum", f"checksum {csum:#06x}")
    options = decode_options(bytes(data[HEADER_LEN:hlen])) if hlen > HEADER_LEN else ()
    payload = data[hlen:] if payload_view and type(data) is memoryview else bytes(data[hlen:])
    # Positional (the field order of TCPSegment): a keyword call costs twice as much,
    # and this runs for every segment received.
    return TCPSegment(
        sport,
        dport,
        seq,
        ack,
        _FLAGS[off_flags & _FLAG_BITS],
        window,
        urgent,
        options,
        payload,
        csum,
        offset,
    )


# tcpdump's tcp_flag_values table, in its order (print-tcp.c; printed by bittok2str_nosep).
_FLAG_LETTERS = (
    (Flags.FIN, "F"),
    (Flags.SYN, "S"),
    (Flags.RST, "R"),
    (Flags.PSH, "P"),
    (Flags.ACK, "."),
    (Flags.URG, "U"),
    (Flags.ECE, "E"),
    (Flags.CWR, "W"),
    (Flags.NS, "e"),
)


def format_flags(flags: Flags | int) -> str:
    """The flags as tcpdump writes them between ``Flags [`` and ``]``.

    E.g. ``S``, ``S.``, ``.``, ``P.``, ``FP.``, ``R.``, ``SEW`` (ECN-setup SYN, RFC 3168
    §6.1.1); ``none`` when no flag is set.  The brackets are not included.
    """
    value = int(flags)
    text = "".join(letter for bit, letter in _FLAG_LETTERS if value & bit)
    return text or "none"
