"""``ss -tan -o`` style rendering of a host's sockets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from synack.tcp.states import State

if TYPE_CHECKING:
    from synack.stack.host import Host

#: ss prints these names for the states.
SS_NAMES = {
    State.LISTEN: "LISTEN",
    State.SYN_SENT: "SYN-SENT",
    State.SYN_RECEIVED: "SYN-RECV",
    State.ESTABLISHED: "ESTAB",
    State.FIN_WAIT_1: "FIN-WAIT-1",
    State.FIN_WAIT_2: "FIN-WAIT-2",
    State.CLOSE_WAIT: "CLOSE-WAIT",
    State.CLOSING: "CLOSING",
    State.LAST_ACK: "LAST-ACK",
    State.TIME_WAIT: "TIME-WAIT",
    State.CLOSED: "UNCONN",
}


def ss_rows(host: Host) -> list[tuple[str, int, int, str, str, str]]:
    now = host.clock()
    rows: list[tuple[str, int, int, str, str, str]] = []
    for port, lst in sorted(host.listeners.items()):
        # For a listener ss shows the accept queue as Recv-Q and the backlog as Send-Q.
        rows.append(("LISTEN", len(lst.accept_queue), lst.backlog, f"{host.ip}:{port}", "*:*", ""))
    for conn in host.connections.values():
        assert conn.remote is not None
        rows.append(
            (
                SS_NAMES[conn.state],
                conn.readable,
                conn.send_queue,
                f"{conn.local[0]}:{conn.local[1]}",
                f"{conn.remote[0]}:{conn.remote[1]}",
                conn.timer_description(now),
            )
        )
    return rows


def render_ss(host: Host) -> str:
    header = ("State", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port", "Timer")
    rows = [tuple(str(c) for c in r) for r in ss_rows(host)]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for r in [header, *rows]:
        lines.append("  ".join(str(c).ljust(widths[i]) for i, c in enumerate(r)).rstrip())
    return "\n".join(lines)
