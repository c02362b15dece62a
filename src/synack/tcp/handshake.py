"""Options on SYN and SYN-ACK, and what the two ends agree on (RFC 9293 §3.7.1, RFC 7323,
RFC 2018).

synack writes SYN options in Linux's order (tcp_options_write): MSS, then SACK-permitted
and timestamps packed together (``sackOK,TS``, or ``nop,nop,TS`` without SACK, or
``nop,nop,sackOK`` without timestamps), then ``nop,wscale``.  A SYN-ACK carries only what
the SYN offered (RFC 7323 §2.2 and §3.2, RFC 2018 §2).
"""

from __future__ import annotations

from dataclasses import dataclass

from synack.tcp.config import TCPConfig
from synack.wire.options import MSS, NOP, SackPermitted, TCPOption, Timestamps, WindowScale
from synack.wire.tcp import TCPSegment

#: RFC 7323 §2.3: the shift count is at most 14.
MAX_WSCALE = 14


@dataclass(frozen=True, slots=True)
class Offer:
    """What one SYN offers."""

    mss: int | None
    wscale: int | None
    sack: bool
    timestamps: bool

    @classmethod
    def from_segment(cls, seg: TCPSegment) -> Offer:
        return cls(seg.mss, seg.wscale, seg.sack_permitted, seg.timestamps is not None)


def syn_options(
    config: TCPConfig,
    ts_val: int,
    ts_ecr: int = 0,
    peer: Offer | None = None,
) -> tuple[TCPOption, ...]:
    """The options of our SYN (peer is None) or of our SYN-ACK answering ``peer``."""
    sack = config.sack and (peer is None or peer.sack)
    ts = config.timestamps and (peer is None or peer.timestamps)
    ws = config.window_scaling and (peer is None or peer.wscale is not None)
    opts: list[TCPOption] = [MSS(config.mss)]
    if ts:
        if sack:
            opts.append(SackPermitted())
        else:
            opts += [NOP(), NOP()]
        opts.append(Timestamps(ts_val, ts_ecr))
    elif sack:
        opts += [NOP(), NOP(), SackPermitted()]
    if ws:
        opts += [NOP(), WindowScale(config.our_wscale())]
    return tuple(opts)


@dataclass(frozen=True, slots=True)
class Agreement:
    """What both ends use after the handshake."""

    peer_mss: int  # the MSS the peer announced, or 536 (RFC 9293 §3.7.1)
    snd_wscale: int  # shift applied to the peer's window fields
    rcv_wscale: int  # shift we apply to our own window fields
    sack: bool
    timestamps: bool


def agree(config: TCPConfig, peer: Offer) -> Agreement:
    """Combine our configuration with the peer's SYN (or SYN-ACK).

    Window scaling is in effect only if both sides sent the option (RFC 7323 §2.2);
    a shift above 14 is treated as 14 (RFC 7323 §2.3).  SACK and timestamps likewise
    need both sides (RFC 2018 §2, RFC 7323 §3.2).
    """
    scaling = config.window_scaling and peer.wscale is not None
    peer_mss = peer.mss if peer.mss else config.default_peer_mss
    return Agreement(
        peer_mss=peer_mss,
        snd_wscale=min(peer.wscale or 0, MAX_WSCALE) if scaling else 0,
        rcv_wscale=config.our_wscale() if scaling else 0,
        sack=config.sack and peer.sack,
        timestamps=config.timestamps and peer.timestamps,
    )
