"""``ss -tan -o`` style rendering of a host's sockets, with ``ss -i``'s detail line."""

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
    for rec in host.timewait.values():  # TIME_WAIT kept as records (synack.tcp.timewait)
        rows.append(
            (
                "TIME-WAIT",
                0,
                0,
                f"{rec.local[0]}:{rec.local[1]}",
                f"{rec.remote[0]}:{rec.remote[1]}",
                rec.timer_description(now),
            )
        )
    return rows


def render_ss(host: Host, details: bool = False) -> str:
    """The table; with ``details`` each connection is followed by ``ss -i``'s line."""
    header = ("State", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port", "Timer")
    rows = [tuple(str(c) for c in r) for r in ss_rows(host)]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for r in [header, *rows]:
        lines.append("  ".join(str(c).ljust(widths[i]) for i, c in enumerate(r)).rstrip())
    if details:
        now = host.clock()
        conns = list(host.connections.values())
        first = 1 + len(host.listeners)
        # ss -i has no TCP_INFO for a timewait socket: its rows stand alone, last.
        lines = (
            lines[:first]
            + [
                line
                for conn, row in zip(conns, lines[first : first + len(conns)], strict=True)
                for line in (row, "\t" + ss_details(conn.info(now)))
            ]
            + lines[first + len(conns) :]
        )
    return "\n".join(lines)


def _ms(seconds: object) -> str:
    """Milliseconds as ss prints them (three decimals at most, no trailing zeros)."""
    value = float(seconds) if isinstance(seconds, int | float) else 0.0
    return f"{value * 1000:.3f}".rstrip("0").rstrip(".")


def ss_details(info: dict[str, object]) -> str:
    """One connection's ``ss -i`` line (iproute2 misc/ss.c tcp_show_info, in its order
    and units: times in ms, windows in segments), from ``Connection.info(now)``."""
    mss = max(int(info.get("snd_mss") or 1), 1)  # type: ignore[call-overload]
    parts = [str(info.get("congestion", ""))]
    if info.get("snd_wscale") or info.get("rcv_wscale"):
        parts.append(f"wscale:{info.get('snd_wscale')},{info.get('rcv_wscale')}")
    parts.append(f"rto:{_ms(info.get('rto'))}")
    if info.get("srtt") is not None:
        parts.append(f"rtt:{_ms(info.get('srtt'))}/{_ms(info.get('rttvar'))}")
    parts += [f"mss:{mss}", f"rcvmss:{info.get('rcv_mss')}"]
    cwnd = int(info.get("cwnd") or 0)  # type: ignore[call-overload]
    parts.append(f"cwnd:{cwnd // mss}")
    ssthresh = int(info.get("ssthresh") or 0)  # type: ignore[call-overload]
    if ssthresh < 1 << 30:  # ss leaves out the "infinite" initial ssthresh
        parts.append(f"ssthresh:{ssthresh // mss}")
    for key in ("bytes_acked", "bytes_received", "segs_out", "segs_in"):
        parts.append(f"{key}:{info.get(key)}")
    for key in ("data_segs_out", "data_segs_in"):
        if info.get(key):
            parts.append(f"{key}:{info.get(key)}")
    for key, name in (
        ("last_data_sent", "lastsnd"),
        ("last_data_recv", "lastrcv"),
        ("last_ack_recv", "lastack"),
    ):
        if key in info:
            parts.append(f"{name}:{round(float(info[key]) * 1000)}")  # type: ignore[arg-type]
    busy = info.get("busy_time")
    if isinstance(busy, float) and busy > 0:
        parts.append(f"busy:{round(busy * 1000)}ms")
        for key in ("rwnd_limited", "sndbuf_limited"):
            t = info.get(key)
            if isinstance(t, float) and t > 0:
                parts.append(f"{key}:{round(t * 1000)}ms({t / busy * 100:.1f}%)")
    if info.get("unacked"):
        parts.append(f"unacked:{-(-int(info['unacked']) // mss)}")  # type: ignore[call-overload]
    if info.get("retrans_out") or info.get("total_retrans"):
        parts.append(f"retrans:{info.get('retrans_out')}/{info.get('total_retrans')}")
    for key in ("lost", "sacked"):
        if info.get(key):
            parts.append(f"{key}:{int(info[key]) // mss}")  # type: ignore[call-overload]
    if info.get("reordering") != 3:
        parts.append(f"reordering:{info.get('reordering')}")
    if info.get("reord_seen"):
        parts.append(f"reord_seen:{info.get('reord_seen')}")
    parts.append(f"rcv_space:{info.get('rcv_space')}")
    if info.get("min_rtt") is not None:
        parts.append(f"minrtt:{_ms(info.get('min_rtt'))}")
    return " ".join(parts)
