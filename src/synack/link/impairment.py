"""A model of a misbehaving network path, for one direction of a link.

It is pure: given a packet and the time it is offered, :meth:`Impairment.offer` says
whether it is dropped (and why) or when each copy of it arrives and with which bytes.
The simulator's links use it, and so can a real (TUN) link, since the model needs no
clock of its own and draws randomness only from the RNG it is given — in a fixed order
per packet, so a seeded run is reproducible.

The order of effects for one packet: targeted drop, random loss, queue (tail drop),
serialization at ``rate_bps``, propagation ``delay`` +- ``jitter``, ECN marking,
corruption, reordering (an extra hold-back), duplication.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PacketInfo:
    """What a targeted-drop predicate is told about a packet."""

    index: int  # 0-based count of packets offered to this direction
    data: bytes
    time: float
    src: str
    dst: str


DropPredicate = Callable[[PacketInfo], bool]


@dataclass(frozen=True)
class ImpairmentConfig:
    delay: float = 0.0  # one-way propagation delay, seconds
    jitter: float = 0.0  # uniform +- jitter added to the delay (never below zero)
    rate_bps: float | None = None  # bottleneck bandwidth; None = infinite
    queue_limit: int | None = None  # packets waiting for the transmitter (tail drop)
    loss: float = 0.0  # random loss probability
    duplicate: float = 0.0  # probability of an extra copy
    reorder: float = 0.0  # probability of holding a packet back by reorder_delay
    reorder_delay: float = 0.001
    corrupt: float = 0.0  # probability of flipping one random bit
    ecn_mark_threshold: int | None = None  # queue length at which ECT packets get CE
    drop: DropPredicate | None = None  # targeted drops (reason "targeted")

    def __post_init__(self) -> None:
        for name in ("loss", "duplicate", "reorder", "corrupt"):
            p = getattr(self, name)
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], got {p}")
        for name in ("delay", "jitter", "reorder_delay"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        if self.rate_bps is not None and self.rate_bps <= 0:
            raise ValueError("rate_bps must be > 0")
        if self.queue_limit is not None and self.queue_limit < 0:
            raise ValueError("queue_limit must be >= 0")


def drop_nth(*indices: int) -> DropPredicate:
    """Drop the packets with these 0-based indices (in this direction)."""
    wanted = frozenset(indices)
    return lambda info: info.index in wanted


def drop_matching(fn: Callable[[bytes], bool], count: int = 1) -> DropPredicate:
    """Drop the first ``count`` packets whose bytes satisfy ``fn``."""
    left = [count]

    def pred(info: PacketInfo) -> bool:
        if left[0] > 0 and fn(info.data):
            left[0] -= 1
            return True
        return False

    return pred


def _ipv4_header_checksum(header: bytearray) -> int:
    header[10:12] = b"\0\0"
    total = sum(int.from_bytes(header[i : i + 2], "big") for i in range(0, len(header), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def mark_ce(data: bytes) -> bytes:
    """Set an ECT packet's ECN field to CE (RFC 3168 §5) and fix the header checksum;
    Not-ECT packets are returned unchanged."""
    if len(data) < 20 or data[0] >> 4 != 4 or data[1] & 0b11 == 0:
        return data
    ihl = (data[0] & 0x0F) * 4
    out = bytearray(data)
    out[1] |= 0b11
    header = bytearray(out[:ihl])
    out[10:12] = _ipv4_header_checksum(header).to_bytes(2, "big")
    return bytes(out)


class Impairment:
    """One direction's impairments; keeps the transmitter's queue between packets."""

    def __init__(self, config: ImpairmentConfig, rng: random.Random) -> None:
        self.config = config
        self.rng = rng
        self.offered = 0
        self._busy_until = 0.0
        self._in_queue: deque[float] = deque()  # serialization end times still pending

    def offer(
        self, data: bytes, now: float, src: str = "", dst: str = ""
    ) -> list[tuple[float, bytes]] | str:
        cfg = self.config
        index = self.offered
        self.offered += 1
        if cfg.drop is not None and cfg.drop(PacketInfo(index, data, now, src, dst)):
            return "targeted"
        if cfg.loss and self.rng.random() < cfg.loss:
            return "loss"
        start = now
        if cfg.rate_bps is not None:
            q = self._in_queue
            while q and q[0] <= now:
                q.popleft()
            if cfg.queue_limit is not None and len(q) > cfg.queue_limit:
                return "queue_full"
            if cfg.ecn_mark_threshold is not None and len(q) >= cfg.ecn_mark_threshold:
                data = mark_ce(data)
            start = max(now, self._busy_until)
            self._busy_until = start + len(data) * 8 / cfg.rate_bps
            q.append(self._busy_until)
            start = self._busy_until
        delay = cfg.delay
        if cfg.jitter:
            delay = max(delay + self.rng.uniform(-cfg.jitter, cfg.jitter), 0.0)
        if cfg.corrupt and self.rng.random() < cfg.corrupt and data:
            bit = self.rng.randrange(len(data) * 8)
            b = bytearray(data)
            b[bit >> 3] ^= 1 << (bit & 7)
            data = bytes(b)
        if cfg.reorder and self.rng.random() < cfg.reorder:
            delay += cfg.reorder_delay
        arrive = start + delay
        copies = [(arrive, data)]
        if cfg.duplicate and self.rng.random() < cfg.duplicate:
            copies.append((arrive, data))
        return copies
