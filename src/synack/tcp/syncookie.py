"""SYN cookies (RFC 4987 §3.6), as Linux makes them (net/ipv4/syncookies.c).

When a listener's SYN queue is full -- a SYN flood -- the SYN-ACK's sequence number
carries the connection's state instead of a queue entry: a keyed hash of the 4-tuple,
the client's ISN, a minute counter and the index of the client's MSS in a small table.
The final ACK returns it (SEG.ACK - 1); if it checks out, the connection is made then,
with nothing kept in between.  What does not fit in 32 bits -- window scale, SACK
permitted, ECN -- rides in the low 6 bits of the SYN-ACK's TSval, which the client
echoes in TSecr (cookie_init_timestamp); without timestamps those options are lost.

    ISS = H1 + ISN_c + (count << 24) + ((H2(count) + mss_index) mod 2^24)

H1 and H2 are keyed hashes of the 4-tuple (BLAKE2s here; Linux uses SipHash), count is
the time in minutes; a cookie is valid in the minute it was made and the next
(MAX_SYNCOOKIE_AGE).  Everything is a pure function of its arguments: secret and time
are given, never read.
"""

from __future__ import annotations

import hashlib
import socket
from functools import lru_cache
from typing import Any

from synack.tcp.seq import MASK

COOKIEBITS = 24
COOKIEMASK = (1 << COOKIEBITS) - 1
#: Linux MAX_SYNCOOKIE_AGE: the minute counter may have moved on by at most 1.
MAX_AGE = 2
#: Linux TCP_SYNCOOKIE_PERIOD: the counter ticks once a minute.
PERIOD = 60.0
#: Linux msstab (IPv4): the MSS values a cookie can stand for.
MSS_TABLE = (536, 1300, 1440, 1460)
#: Linux TSBITS / TSMASK and the option bits in them (TS_OPT_*).
TSBITS = 6
TSMASK = (1 << TSBITS) - 1
TS_OPT_WSCALE_MASK = 0xF
TS_OPT_SACK = 1 << 4
TS_OPT_ECN = 1 << 5
#: Linux TCP_SYNCOOKIE_VALID: how long after a SYN queue overflow a listener checks
#: ACKs for cookies (net.ipv4.tcp_syncookies = 1).
VALID = 120.0

Address = tuple[str, int]


@lru_cache(maxsize=64)
def _keyed(secret: bytes, which: bytes) -> Any:
    """BLAKE2s keyed with the secret, personalized per hash (H1, H2), nothing hashed."""
    return hashlib.blake2s(key=secret[:32], digest_size=4, person=which)


def _hash(secret: bytes, which: bytes, local: Address, remote: Address, count: int = 0) -> int:
    """A keyed hash of the 4-tuple and the minute counter; only the secret is the key,
    so the counter and the label count whatever the secret's length."""
    h = _keyed(secret, which).copy()
    h.update(
        count.to_bytes(4, "big")
        + socket.inet_aton(local[0])
        + local[1].to_bytes(2, "big")
        + socket.inet_aton(remote[0])
        + remote[1].to_bytes(2, "big")
    )
    return int.from_bytes(h.digest(), "big")


def mss_index(mss: int | None) -> int:
    """The largest table entry the client's MSS allows (cookie_v4_init_sequence)."""
    mss = 536 if mss is None else mss
    for i in range(len(MSS_TABLE) - 1, 0, -1):
        if mss >= MSS_TABLE[i]:
            return i
    return 0


def counter(now: float) -> int:
    """tcp_cookie_time(): minutes."""
    return int(now // PERIOD) & MASK


def make_cookie(
    secret: bytes, local: Address, remote: Address, client_isn: int, index: int, now: float
) -> int:
    """The ISS of a cookie SYN-ACK (secure_tcp_syn_cookie)."""
    count = counter(now)
    h1 = _hash(secret, b"c1", local, remote)
    h2 = _hash(secret, b"c2", local, remote, count)
    return (h1 + client_isn + (count << COOKIEBITS) + ((h2 + index) & COOKIEMASK)) & MASK


def check_cookie(
    secret: bytes, local: Address, remote: Address, client_isn: int, cookie: int, now: float
) -> int | None:
    """The MSS index a returned cookie (SEG.ACK - 1) carries, or None if it is not one
    of ours or is too old (check_tcp_syn_cookie).  ``client_isn`` is SEG.SEQ - 1."""
    count = counter(now)
    rest = (cookie - _hash(secret, b"c1", local, remote) - client_isn) & MASK
    diff = (count - (rest >> COOKIEBITS)) & (MASK >> COOKIEBITS)
    if diff >= MAX_AGE:
        return None
    h2 = _hash(secret, b"c2", local, remote, (count - diff) & MASK)
    index = (rest - h2) & COOKIEMASK
    return index if index < len(MSS_TABLE) else None


def encode_ts_options(tsval: int, wscale: int | None, sack: bool, ecn: bool) -> int:
    """The SYN-ACK's TSval with the options in its low bits (cookie_init_timestamp),
    never later than ``tsval`` itself."""
    options = TS_OPT_WSCALE_MASK if wscale is None else wscale
    options |= TS_OPT_SACK if sack else 0
    options |= TS_OPT_ECN if ecn else 0
    ts = (tsval & ~TSMASK & MASK) | options
    if ts > tsval and ts - tsval < 1 << 31:
        ts = (ts - (1 << TSBITS)) & MASK
    return ts


def decode_ts_options(tsecr: int) -> tuple[int | None, bool, bool] | None:
    """(window scale or None, SACK permitted, ECN) from an echoed cookie TSval, or None
    if they cannot be ours (cookie_timestamp_decode: a shift above 14)."""
    options = tsecr & TSMASK
    wscale: int | None = options & TS_OPT_WSCALE_MASK
    if wscale == TS_OPT_WSCALE_MASK:
        wscale = None
    elif wscale is not None and wscale > 14:
        return None
    return wscale, bool(options & TS_OPT_SACK), bool(options & TS_OPT_ECN)
