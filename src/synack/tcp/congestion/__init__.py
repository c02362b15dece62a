"""Pluggable congestion control, chosen per connection by name (Linux TCP_CONGESTION).

``make("cubic", mss, initial_cwnd, now)`` builds one; :data:`ALGORITHMS` lists them and
:data:`DEFAULT` is CUBIC, Linux's default (net.ipv4.tcp_congestion_control).
"""

from __future__ import annotations

from synack.tcp.congestion.base import CongestionControl
from synack.tcp.congestion.cubic import Cubic
from synack.tcp.congestion.reno import Reno
from synack.tcp.congestion.standard import StandardCongestionControl

ALGORITHMS: dict[str, type[CongestionControl]] = {cls.name: cls for cls in (Reno, Cubic)}

DEFAULT = "cubic"


def make(name: str, mss: int, initial_cwnd: int, now: float = 0.0) -> CongestionControl:
    """A new controller for algorithm ``name``; ``initial_cwnd`` in bytes (RFC 6928 IW).

    Raises ``ValueError`` naming the known algorithms for an unknown name (Linux
    answers setsockopt(TCP_CONGESTION) with ENOENT)."""
    try:
        cls = ALGORITHMS[name]
    except KeyError:
        known = ", ".join(sorted(ALGORITHMS))
        raise ValueError(f"unknown congestion control {name!r}; known: {known}") from None
    return cls(mss, initial_cwnd, now)


__all__ = [
    "ALGORITHMS",
    "DEFAULT",
    "CongestionControl",
    "Cubic",
    "Reno",
    "StandardCongestionControl",
    "make",
]
