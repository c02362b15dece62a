"""Initial sequence numbers (RFC 6528 §3, RFC 9293 §3.4.1).

    ISN = M + F(localip, localport, remoteip, remoteport, secretkey)

M is a timer that ticks every 4 microseconds; F is a keyed hash (here BLAKE2s with the
secret as key, truncated to 32 bits).  The secret and the time are given, never read: the
core stays deterministic under a seeded simulator.
"""

from __future__ import annotations

import hashlib
import socket
import struct

from synack.tcp.seq import MASK


def isn_offset(secret: bytes, local: tuple[str, int], remote: tuple[str, int]) -> int:
    """F(): the per-4-tuple offset of RFC 6528 §3."""
    msg = (
        socket.inet_aton(local[0])
        + struct.pack("!H", local[1])
        + socket.inet_aton(remote[0])
        + struct.pack("!H", remote[1])
    )
    digest = hashlib.blake2s(msg, key=secret[:32], digest_size=4).digest()
    return int.from_bytes(digest, "big")


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
    return isn_offset(secret[::-1] + b"ts", local, remote)
