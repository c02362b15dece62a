"""``%{ }%`` code blocks: Linux's struct tcp_info from synack's Connection.info(), and
the blocks' Python run against it.

packetdrill records ``getsockopt(TCP_INFO)`` of the socket under test when a code event
happens and, after the script, runs all blocks with ``python3`` and variables named as
the struct's fields (``tcpi_snd_cwnd``...).  Here the same names are filled from
``Connection.info()`` in Linux's units (segments, not bytes, for cwnd/ssthresh/unacked;
microseconds for RTT and RTO).  Fields synack does not track are left out, so a block
that reads one fails naming it, rather than passing on a made-up value.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

from synack.packetdrill.symbols import TCP_STATES
from synack.tcp.connection import Connection

#: ~0ULL, what Linux reports for a pacing rate without bound.
_U64_MAX = (1 << 64) - 1
#: Linux TCP_INFINITE_SSTHRESH: tcpi_snd_ssthresh before any loss.
TCP_INFINITE_SSTHRESH = 0x7FFFFFFF
#: tcpi_ca_state values (include/uapi/linux/tcp.h tcp_ca_state).
CA_STATES = {"open": 0, "disorder": 1, "cwr": 2, "recovery": 3, "loss": 4}
#: tcpi_options bits (include/uapi/linux/tcp.h).
TCPI_OPT_TIMESTAMPS, TCPI_OPT_SACK, TCPI_OPT_WSCALE, TCPI_OPT_ECN = 1, 2, 4, 8
#: Linux tp->reordering default (net.ipv4.tcp_reordering = 3).
REORDERING = 3

CONSTANTS: dict[str, int] = {
    "TCP_ESTABLISHED": 1,
    "TCP_SYN_SENT": 2,
    "TCP_SYN_RECV": 3,
    "TCP_FIN_WAIT1": 4,
    "TCP_FIN_WAIT2": 5,
    "TCP_TIME_WAIT": 6,
    "TCP_CLOSE": 7,
    "TCP_CLOSE_WAIT": 8,
    "TCP_LAST_ACK": 9,
    "TCP_LISTEN": 10,
    "TCP_CLOSING": 11,
    "TCP_CA_Open": 0,
    "TCP_CA_Disorder": 1,
    "TCP_CA_CWR": 2,
    "TCP_CA_Recovery": 3,
    "TCP_CA_Loss": 4,
    "TCPI_OPT_TIMESTAMPS": TCPI_OPT_TIMESTAMPS,
    "TCPI_OPT_SACK": TCPI_OPT_SACK,
    "TCPI_OPT_WSCALE": TCPI_OPT_WSCALE,
    "TCPI_OPT_ECN": TCPI_OPT_ECN,
    "TCPI_OPT_ECN_SEEN": 16,
    "TCPI_OPT_SYN_DATA": 32,
    "TCPI_OPT_USEC_TS": 64,
    "TCPI_OPT_TFO_CHILD": 128,
    "TCP_INFINITE_SSTHRESH": TCP_INFINITE_SSTHRESH,
}


def _num(info: dict[str, object], key: str) -> float:
    value = info.get(key)
    return float(value) if isinstance(value, int | float) else 0.0


def tcp_info(conn: Connection, now: float | None = None) -> dict[str, int]:
    """The tcpi_* fields synack can fill, in Linux's units (``now``: the clock, for the
    times since the last data and ACK and the busy-time chronographs)."""
    info = conn.info(now)
    mss = max(int(_num(info, "snd_mss")), 1)
    a = conn.agreement
    options = 0
    if a is not None:
        options |= TCPI_OPT_TIMESTAMPS if a.timestamps else 0
        options |= TCPI_OPT_SACK if a.sack else 0
        options |= TCPI_OPT_WSCALE if a.snd_wscale or a.rcv_wscale else 0
    options |= TCPI_OPT_ECN if info.get("ecn") else 0
    ssthresh = int(_num(info, "ssthresh"))
    srtt = info.get("srtt")
    out = {
        "tcpi_state": TCP_STATES[conn.state.name],
        "tcpi_ca_state": CA_STATES.get(str(info.get("ca_state")), 0),
        "tcpi_retransmits": int(_num(info, "retransmits")),
        "tcpi_backoff": conn.rto.backoff,
        "tcpi_options": options,
        "tcpi_snd_wscale": int(_num(info, "snd_wscale")),
        "tcpi_rcv_wscale": int(_num(info, "rcv_wscale")),
        "tcpi_rto": round(_num(info, "rto") * 1e6),
        "tcpi_ato": round(conn.config.delack * 1e6),
        "tcpi_snd_mss": mss,
        "tcpi_advmss": conn.config.mss,
        "tcpi_unacked": math.ceil(_num(info, "unacked") / mss),
        "tcpi_sacked": int(_num(info, "sacked")) // mss,
        "tcpi_lost": int(_num(info, "lost")) // mss,
        "tcpi_snd_cwnd": int(_num(info, "cwnd")) // mss,
        "tcpi_snd_ssthresh": TCP_INFINITE_SSTHRESH if ssthresh >= 1 << 30 else ssthresh // mss,
        "tcpi_reordering": int(_num(info, "reordering")) if "reordering" in info else REORDERING,
        "tcpi_retrans": int(_num(info, "retrans_out")),
        "tcpi_total_retrans": int(_num(info, "total_retrans")),
        "tcpi_rcv_space": int(_num(info, "rcv_space")),
        "tcpi_snd_wnd": int(_num(info, "snd_wnd")),
        "tcpi_rcv_wnd": int(_num(info, "rcv_wnd")),
        "tcpi_bytes_acked": int(_num(info, "bytes_acked")),
        "tcpi_bytes_received": int(_num(info, "bytes_received")),
        "tcpi_segs_in": int(_num(info, "segs_in")),
        "tcpi_segs_out": int(_num(info, "segs_out")),
        "tcpi_data_segs_in": int(_num(info, "data_segs_in")),
        "tcpi_data_segs_out": int(_num(info, "data_segs_out")),
        "tcpi_delivered": int(_num(info, "delivered")),
        "tcpi_rcv_mss": int(_num(info, "rcv_mss")),
    }
    out["tcpi_reord_seen"] = int(_num(info, "reord_seen"))
    # Linux reports ~0 (unbounded) before the first RTT sample, and without a cap.
    rate = _num(info, "pacing_rate")
    out["tcpi_pacing_rate"] = round(rate) if rate > 0 else _U64_MAX
    cap = conn.config.max_pacing_rate
    out["tcpi_max_pacing_rate"] = round(cap) if cap is not None else _U64_MAX
    min_rtt = info.get("min_rtt")
    if isinstance(min_rtt, int | float):
        out["tcpi_min_rtt"] = round(min_rtt * 1e6)
    if now is not None:
        for name in ("last_data_sent", "last_data_recv", "last_ack_recv"):
            out[f"tcpi_{name}"] = round(_num(info, name) * 1e3)  # milliseconds
        for name in ("busy_time", "rwnd_limited", "sndbuf_limited"):
            out[f"tcpi_{name}"] = round(_num(info, name) * 1e6)  # microseconds
    if isinstance(srtt, int | float):
        out["tcpi_rtt"] = round(srtt * 1e6)
        out["tcpi_rttvar"] = round(_num(info, "rttvar") * 1e6)
    return out


_SAFE_BUILTINS = {
    name: getattr(builtins, name)
    for name in (
        "abs", "all", "any", "bool", "float", "int", "len", "max", "min", "print", "range",
        "round", "str", "sum", "AssertionError", "True", "False", "None",
    )
}  # fmt: skip


def run_code(
    text: str, values: dict[str, int], label: str, kept: dict[str, Any] | None = None
) -> str | None:
    """Run one block with the recorded values; None if it passed, else the error text.

    ``kept`` holds the names earlier blocks of the script assigned: packetdrill runs
    all of a script's blocks in one Python program, so ``cwnd = 58`` in one block is
    ``cwnd`` in the next (cubic-bulk-166k).  The block's own assignments are added."""
    namespace: dict[str, Any] = {
        "__builtins__": _SAFE_BUILTINS,
        **CONSTANTS,
        **(kept or {}),
        **values,
    }
    # packetdrill writes the blocks one after another into one Python file, so a block
    # ending in a line continuation ("...;\\" before "}%") runs on into the next line.
    text = text.rstrip()
    if text.endswith("\\"):
        text = text[:-1]
    try:
        exec(compile(text, label, "exec"), namespace)
        if kept is not None:
            kept.update(
                (k, v)
                for k, v in namespace.items()
                if k != "__builtins__" and k not in CONSTANTS and k not in values
            )
    except AssertionError as e:
        return f"AssertionError: {e}" if str(e) else "AssertionError"
    except NameError as e:
        name = getattr(e, "name", None) or str(e)
        if str(name).startswith("tcpi_"):
            return f"{name} is not provided by synack (Connection.info() has no such field)"
        return f"NameError: {e}"
    except Exception as e:
        return f"{type(e).__name__}: {e}"
    return None
