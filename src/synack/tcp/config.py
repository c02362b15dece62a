"""Tunable constants of a TCP connection, each with its source.

Defaults follow Linux (the reference peer), so that synack and the kernel agree on the
wire; every one can be changed per stack or per connection.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class TCPConfig:
    # --- segment size and windows --------------------------------------------------
    #: MSS we announce: interface MTU 1500 - 20 (IPv4) - 20 (TCP) (RFC 9293 §3.7.1).
    mss: int = 1460
    #: MSS assumed when the peer sends none (RFC 9293 §3.7.1, RFC 6691: 536 for IPv4).
    default_peer_mss: int = 536
    #: Receive buffer in bytes (Linux tcp_rmem[1] = 131072).
    rcvbuf: int = 131072
    #: Largest receive window we announce before autotuning (Linux: 64240 = 44 * 1460).
    initial_rcv_wnd: int = 64240
    #: Send buffer in bytes (Linux tcp_wmem[1] = 16384; the kernel grows it, we keep it fixed).
    sndbuf: int = 1 << 20
    #: Initial congestion window in segments (RFC 6928; Linux TCP_INIT_CWND = 10).
    initial_cwnd_segments: int = 10

    # --- options (RFC 7323, RFC 2018); Linux sysctls of the same name -----------------
    window_scaling: bool = True  # net.ipv4.tcp_window_scaling
    timestamps: bool = True  # net.ipv4.tcp_timestamps
    sack: bool = True  # net.ipv4.tcp_sack
    #: Our window-scale shift; None = derived from rcvbuf as Linux does (tcp_select_initial_window).
    wscale: int | None = None

    # --- timers (RFC 6298, Linux include/net/tcp.h) -----------------------------------
    rto_initial: float = 1.0  # RFC 6298 §2.1; Linux TCP_TIMEOUT_INIT
    rto_min: float = 0.2  # Linux TCP_RTO_MIN (RFC 6298 §2.4 says 1 s; Linux uses 200 ms)
    rto_max: float = 120.0  # Linux TCP_RTO_MAX; RFC 6298 §2.5 allows a maximum >= 60 s
    syn_retries: int = 6  # Linux net.ipv4.tcp_syn_retries: SYN sent 1 + 6 times
    synack_retries: int = 5  # Linux net.ipv4.tcp_synack_retries
    retries2: int = 15  # Linux net.ipv4.tcp_retries2 (RFC 9293 §3.8.3 R2), counted in RTOs
    time_wait: float = 60.0  # 2MSL; Linux TCP_TIMEWAIT_LEN = 60 s (RFC 9293 §3.4.2: MSL 2 min)
    fin_timeout: float = 60.0  # Linux net.ipv4.tcp_fin_timeout (orphan FIN_WAIT_2)

    # --- data transfer (RFC 9293 §3.8, RFC 5681, RFC 3168) ---------------------------
    #: Congestion control by name, like Linux's net.ipv4.tcp_congestion_control.
    congestion: str = "cubic"
    #: TCP_NODELAY: turn Nagle's algorithm off (RFC 9293 §3.7.4).
    nodelay: bool = False
    #: net.ipv4.tcp_ecn: 0 off, 1 request on active opens and accept, 2 accept only (Linux).
    ecn: int = 2
    #: net.ipv4.tcp_slow_start_after_idle (RFC 5681 §4.1).
    slow_start_after_idle: bool = True
    #: Delayed-ACK timeout (Linux TCP_DELACK_MIN = 40 ms).
    delack: float = 0.04
    #: net.ipv4.tcp_dsack (RFC 2883).
    dsack: bool = True
    #: Keepalive (RFC 9293 §3.8.4; SO_KEEPALIVE, TCP_KEEPIDLE/KEEPINTVL/KEEPCNT, Linux
    #: tcp_keepalive_time 7200 s, tcp_keepalive_intvl 75 s, tcp_keepalive_probes 9).
    keepalive: bool = False
    keepidle: float = 7200.0
    keepintvl: float = 75.0
    keepcnt: int = 9
    #: PAWS (RFC 7323 §5) is applied whenever timestamps are in use.

    # --- RFC 5961 ----------------------------------------------------------------------
    #: Minimum interval between challenge ACKs on one connection (RFC 5961 §7;
    #: Linux net.ipv4.tcp_invalid_ratelimit = 500 ms).
    challenge_ack_interval: float = 0.5

    # --- ISN (RFC 6528) ---------------------------------------------------------------
    #: ISN clock tick in seconds: RFC 9293 §3.4.1 / RFC 6528 §3 use a 4 µs timer.
    isn_tick: float = 4e-6

    def with_(self, **changes: object) -> TCPConfig:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def our_wscale(self) -> int:
        """Window-scale shift to announce (RFC 7323 §2.3), as Linux picks it.

        Linux (tcp_select_initial_window) takes the smallest shift such that the
        largest buffer the socket could grow to (tcp_rmem[2] = 6 MiB by default) fits in a
        16-bit window; with the defaults that is 7.
        """
        if self.wscale is not None:
            return self.wscale
        space = max(self.rcvbuf, 6 * 1024 * 1024)
        shift = 0
        while space > 0xFFFF and shift < 14:
            space >>= 1
            shift += 1
        return shift
