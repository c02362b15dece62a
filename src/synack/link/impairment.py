"""A reusable model of one direction of an impaired link (no simulator required).

:meth:`Impairment.offer` takes one packet and the current time and returns either a
drop reason or the copies to deliver, each with its delivery time.  Each packet goes
through the same pipeline, always in this order:

1. **targeted drop** -- ``config.drop(PacketInfo)``; reason ``"targeted"``.  The
   packet never reaches the transmitter.
2. **queue admission** -- with ``rate_bps`` set, packets queue for a FIFO transmitter.
   The *backlog* at ``now`` is the number of packets whose serialisation has not
   finished (the one on the wire plus those waiting).  A packet arriving when
   ``queue_limit`` packets are already *waiting* (backlog - 1) is tail-dropped
   (``"queue_full"``); so a burst onto an idle link delivers ``1 + queue_limit``.
3. **ECN marking** -- if the backlog at enqueue is ``>= ecn_mark_threshold`` and the
   packet is IPv4 with ECT(0) or ECT(1), its ECN field becomes CE (RFC 3168 §5) and the
   header checksum is updated incrementally (RFC 1624 eqn. 3).  Not-ECT packets are
   left alone.  (Without ``rate_bps`` the backlog is always 0.)
4. **serialisation** -- FIFO: a packet starts when the previous one has finished and
   takes ``len * 8 / rate_bps`` seconds.  Without ``rate_bps`` it takes no time.
5. **loss** on the wire -- reason ``"loss"`` (the packet did use transmitter time).
6. **corruption** -- one uniformly chosen bit of the packet is flipped.
7. **duplication** -- an extra copy is delivered.
8. per copy: **delay** + uniform **jitter** in ``[-jitter, +jitter]`` (clamped at 0)
   and, with probability ``reorder``, **reorder_delay** extra seconds.

Randomness: each random decision kind (loss, corrupt, duplicate, reorder, jitter) has
its own stream, derived from the ``rng`` given to the constructor, and a stream is
only consulted when its probability is non-zero.  So runs are reproducible, and
turning jitter on does not change which packets are lost.
"""

from __future__ import annotations

import random
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "DropPredicate",
    "Impairment",
    "ImpairmentConfig",
    "PacketInfo",
    "drop_matching",
    "drop_nth",
    "flip_bit",
    "mark_ce",
]


@dataclass(frozen=True, slots=True)
class PacketInfo:
    """What a targeted-drop predicate sees about a packet."""

    index: int  # 0-based count of packets offered to this direction (dropped ones too)
    data: bytes
    time: float
    src: str  # sending host name
    dst: str  # receiving host name


DropPredicate = Callable[[PacketInfo], bool]


@dataclass(frozen=True)
class ImpairmentConfig:
    """How one direction of a link misbehaves.  The default is a perfect link.

    Frozen: to change a running link, build a new config (``dataclasses.replace``) and
    hand it to ``Link.set_config``; the queue state carries over.
    """

    delay: float = 0.0  # one-way propagation delay, seconds
    jitter: float = 0.0  # uniform +-jitter added to delay (total never negative)
    rate_bps: float | None = None  # bandwidth; None = infinitely fast
    queue_limit: int | None = None  # max packets waiting behind the one on the wire
    loss: float = 0.0  # probability a packet is lost
    duplicate: float = 0.0  # probability an extra copy is delivered
    reorder: float = 0.0  # probability a copy is held back by reorder_delay
    reorder_delay: float = 0.001
    corrupt: float = 0.0  # probability one bit is flipped
    ecn_mark_threshold: int | None = None  # CE-mark ECT packets at this backlog
    drop: DropPredicate | None = None  # targeted drops

    @property
    def only_delays(self) -> bool:
        """Whether this direction does nothing to a packet but delay it by ``delay``:
        then a packet carrying several segments (segmentation offload) may cross whole,
        since no decision is taken per wire packet."""
        return (
            self.rate_bps is None
            and not (self.loss or self.duplicate or self.reorder or self.corrupt or self.jitter)
            and self.drop is None
        )

    def __post_init__(self) -> None:
        for name in ("loss", "duplicate", "reorder", "corrupt"):
            p = getattr(self, name)
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], got {p!r}")
        for name in ("delay", "jitter", "reorder_delay"):
            v = getattr(self, name)
            if not v >= 0.0:
                raise ValueError(f"{name} must be >= 0, got {v!r}")
        if self.rate_bps is not None and not self.rate_bps > 0:
            raise ValueError(f"rate_bps must be > 0, got {self.rate_bps!r}")
        if self.queue_limit is not None and self.queue_limit < 0:
            raise ValueError(f"queue_limit must be >= 0, got {self.queue_limit!r}")
        if self.ecn_mark_threshold is not None and self.ecn_mark_threshold < 0:
            raise ValueError(f"ecn_mark_threshold must be >= 0, got {self.ecn_mark_threshold!r}")


def drop_nth(*indices: int) -> DropPredicate:
    """Drop the packets with these 0-based indices (counted per direction)."""
    wanted = frozenset(indices)

    def predicate(info: PacketInfo) -> bool:
        return info.index in wanted

    return predicate


def drop_matching(fn: Callable[[bytes], bool], count: int = 1) -> DropPredicate:
    """Drop the first ``count`` packets for which ``fn(data)`` is true.

    The predicate is stateful: a config shared by both directions of a link shares
    one budget of ``count`` drops.
    """
    remaining = count

    def predicate(info: PacketInfo) -> bool:
        nonlocal remaining
        if remaining > 0 and fn(info.data):
            remaining -= 1
            return True
        return False

    return predicate


def _ones_add(a: int, b: int) -> int:
    """Ones'-complement addition of two 16-bit values (end-around carry)."""
    s = a + b
    return (s & 0xFFFF) + (s >> 16)


def mark_ce(data: bytes) -> bytes:
    """Return ``data`` with its IPv4 ECN field set to CE if it was ECT(0) or ECT(1).

    Anything else (Not-ECT, already CE, not IPv4, too short) is returned unchanged.
    The header checksum is updated incrementally, RFC 1624 eqn. 3,
    ``HC' = ~(~HC + ~m + m')`` with ``m`` the 16-bit word holding the TOS octet: the
    result equals a full recomputation for a valid header, and a header whose checksum
    was already wrong stays wrong (a router must not launder a corrupted header).
    """
    if len(data) < 20 or data[0] >> 4 != 4 or (data[1] & 0b11) not in (0b01, 0b10):
        return data
    old_word = (data[0] << 8) | data[1]
    new_tos = data[1] | 0b11
    new_word = (data[0] << 8) | new_tos
    hc = (data[10] << 8) | data[11]
    s = _ones_add(_ones_add(~hc & 0xFFFF, ~old_word & 0xFFFF), new_word)
    new_hc = ~s & 0xFFFF
    out = bytearray(data)
    out[1] = new_tos
    out[10] = new_hc >> 8
    out[11] = new_hc & 0xFF
    return bytes(out)


def flip_bit(data: bytes, bit: int) -> bytes:
    """``data`` with bit number ``bit`` flipped (bit 0 is the most significant of octet 0)."""
    buf = bytearray(data)
    buf[bit >> 3] ^= 0x80 >> (bit & 7)
    return bytes(buf)


class Impairment:
    """One impaired link direction: its config, RNG streams and transmitter state.

    ``config`` may be replaced at any time (``imp.config = new``); packets already
    queued keep the times they were given, and later ones queue behind them.
    """

    def __init__(self, config: ImpairmentConfig, rng: random.Random) -> None:
        self.config = config
        # One independent stream per decision kind, derived in a fixed order.
        self._rng_loss = random.Random(rng.getrandbits(128))
        self._rng_corrupt = random.Random(rng.getrandbits(128))
        self._rng_duplicate = random.Random(rng.getrandbits(128))
        self._rng_reorder = random.Random(rng.getrandbits(128))
        self._rng_jitter = random.Random(rng.getrandbits(128))
        self.offered = 0  # packets offered so far (the next PacketInfo.index)
        self.drops: Counter[str] = Counter()  # drop reason -> count
        # Transmitter.  A busy period (back-to-back packets) starts at _period_start and
        # has carried _period_bits so far; each finish time is computed from these two
        # rather than by adding up per-packet times, so long bursts do not drift.
        self._busy_until = 0.0
        self._period_start = 0.0
        self._period_bits = 0
        self._period_rate = 0.0
        self._finishes: deque[float] = deque()  # finish times later than the last `now`

    def backlog(self, now: float) -> int:
        """Packets whose serialisation has not finished at ``now`` (on the wire + waiting)."""
        finishes = self._finishes
        while finishes and finishes[0] <= now:
            finishes.popleft()
        return len(finishes)

    def offer(
        self, data: bytes, now: float, src: str = "", dst: str = ""
    ) -> list[tuple[float, bytes]] | str:
        """Process one packet sent at ``now``: a drop reason, or the (time, bytes) copies."""
        cfg = self.config
        index = self.offered
        self.offered = index + 1

        if cfg.drop is not None and cfg.drop(PacketInfo(index, data, now, src, dst)):
            return self._dropped("targeted")

        depart = now
        if cfg.rate_bps is not None:
            backlog = self.backlog(now)
            if cfg.queue_limit is not None and backlog > cfg.queue_limit:
                return self._dropped("queue_full")
            if cfg.ecn_mark_threshold is not None and backlog >= cfg.ecn_mark_threshold:
                data = mark_ce(data)
            depart = self._serialise(len(data), now, cfg.rate_bps)
        elif cfg.ecn_mark_threshold == 0:
            data = mark_ce(data)

        if cfg.loss and self._rng_loss.random() < cfg.loss:
            return self._dropped("loss")

        if cfg.corrupt and data and self._rng_corrupt.random() < cfg.corrupt:
            data = flip_bit(data, self._rng_corrupt.randrange(len(data) * 8))

        if not (cfg.duplicate or cfg.jitter or cfg.reorder):
            return [(depart + cfg.delay, data)]  # the common, RNG-free path
        ncopies = 2 if cfg.duplicate and self._rng_duplicate.random() < cfg.duplicate else 1
        copies: list[tuple[float, bytes]] = []
        for _ in range(ncopies):
            delay = cfg.delay
            if cfg.jitter:
                delay = max(0.0, delay + self._rng_jitter.uniform(-cfg.jitter, cfg.jitter))
            if cfg.reorder and self._rng_reorder.random() < cfg.reorder:
                delay += cfg.reorder_delay
            copies.append((depart + delay, data))
        return copies

    def _serialise(self, nbytes: int, now: float, rate: float) -> float:
        """Put ``nbytes`` on the FIFO transmitter; return when its last bit leaves."""
        if now >= self._busy_until:  # idle: a new busy period starts now
            self._period_start, self._period_bits, self._period_rate = now, 0, rate
        elif rate != self._period_rate:  # rate changed mid-burst: restart the arithmetic
            self._period_start, self._period_bits, self._period_rate = self._busy_until, 0, rate
        self._period_bits += nbytes * 8
        finish = self._period_start + self._period_bits / rate
        self._busy_until = finish
        self._finishes.append(finish)
        return finish

    def _dropped(self, reason: str) -> str:
        self.drops[reason] += 1
        return reason
