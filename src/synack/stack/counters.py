"""Counters named like Linux's TCP MIB (``nstat``/``netstat -s``) and drop reasons."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from synack.stack.host import Host

#: The RFC 1213 / Linux TCP MIB counters every host reports, in ``nstat`` order.
TCP_MIB = (
    "ActiveOpens",
    "PassiveOpens",
    "AttemptFails",
    "EstabResets",
    "CurrEstab",
    "InSegs",
    "OutSegs",
    "RetransSegs",
    "InErrs",
    "OutRsts",
)


def render_counters(host: Host) -> str:
    """Every counter of a host in ``nstat`` style: Tcp, TcpExt, Udp, Icmp, then drops."""
    from synack.stack.icmp import ICMP_MIB
    from synack.stack.udp import UDP_MIB

    lines = [f"Tcp{name:<16} {host.counters.get(name, 0)}" for name in TCP_MIB]
    extra = sorted(k for k in host.counters if k not in TCP_MIB)
    lines += [f"TcpExt{name:<13} {host.counters[name]}" for name in extra]
    lines += [f"Udp{n:<16} {host.udp.counters.get(n, 0)}" for n in UDP_MIB]
    lines += [f"Icmp{n:<15} {host.icmp.counters.get(n, 0)}" for n in ICMP_MIB]
    lines += [f"Drop {reason:<20} {n}" for reason, n in sorted(host.drops.items())]
    return "\n".join(lines)
