"""Resets for segments that have no connection (RFC 9293 §3.10.7.1 and §3.10.7.2)."""

from __future__ import annotations

from synack.tcp.seq import seq_add
from synack.wire.tcp import Flags, TCPSegment


def reset_for_closed(seg: TCPSegment) -> TCPSegment | None:
    """The reply of a port with no TCB (RFC 9293 §3.10.7.1, state CLOSED).

    An incoming RST is discarded.  Otherwise, if the ACK bit is off:
    ``<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>``; if it is on: ``<SEQ=SEG.ACK><CTL=RST>``.
    """
    if seg.rst:
        return None
    if seg.has_ack:
        return TCPSegment(seg.dst_port, seg.src_port, seg.ack, 0, Flags.RST, 0)
    return TCPSegment(
        seg.dst_port,
        seg.src_port,
        0,
        seq_add(seg.seq, seg.seg_len),
        Flags.RST | Flags.ACK,
        0,
    )


def reset_for_listen(seg: TCPSegment) -> TCPSegment | None:
    """The reply of a listener to a segment that is not a SYN (RFC 9293 §3.10.7.2).

    An RST is ignored; any ACK gets ``<SEQ=SEG.ACK><CTL=RST>``; anything else is dropped.
    """
    if seg.rst or not seg.has_ack:
        return None
    return TCPSegment(seg.dst_port, seg.src_port, seg.ack, 0, Flags.RST, 0)
