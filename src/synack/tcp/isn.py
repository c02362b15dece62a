"""Initial sequence numbers (RFC 6528 §3, RFC 9293 §3.4.1).

    ISN = M + F(localip, localport, remoteip, remoteport, secretkey)

M is a timer that ticks every 4 microseconds; F is a keyed hash (here BLAKE2s with the
secret as key, truncated to 32 bits).  The secret and the time are given, never read: the
core stays deterministic under a seeded simulator.

Keying BLAKE2s costs a compression of its own, so the keyed state is made once per
secret and copied for each 4-tuple; the digests are the same as keying afresh.
"""

from __future__ import annotations

import hashlib
import socket
from functools import lru_cache
from typing import Any

from synack.tcp.seq import MASK


@lru_cache(maxsize=64)
def _keyed(secret: bytes) -> Any:
    """A BLAKE2s state keyed with ``secret`` (its first 32 bytes), nothing hashed yet."""
    return hashlib.blake2s(key=secret[:32], digest_size=4)


@lru_cache(maxsize=64)
def _ts_secret(secret: bytes) -> bytes:
    return secret[::-1] + b"ts"


def isn_offset(secret: bytes, local: tuple[str, int], remote: tuple[str, int]) -> int:
    """F(): the per-4-tuple offset of RFC 6528 §3."""
    h = _keyed(secret).copy()
    h.update(
        socket.inet_aton(local[0])
        + local[1].to_bytes(2, "big")
        + socket.inet_aton(remote[0])
        + remote[1].to_bytes(2, "big")
    )
    return int.from_bytes(h.digest(), "big")


def rfc6528_isn(
    secret: bytes,
    local: tuple[str, int],
    remote: tuple[str, int],
    now: float,
    tick: float = 4e-6,
) -> int:
    """The ISN for a new connection on this 4-tuple at time ``now`` (seconds)."""
    m = int(now / tick)
    return (m + isn_offset(secret, local, remote)) & MASK


def ts_offset(secret: bytes, local: tuple[str, int], remote: tuple[str, int]) -> int:
    """A per-connection random offset for TSval, as Linux randomizes it (RFC 7323 §5.4)."""
    return isn_offset(_ts_secret(secret), local, remote)
