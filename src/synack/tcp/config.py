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
    #: Receive buffer in bytes (Linux tcp_rmem[1] = 131072).  As in Linux, about half of
    #: it is offered as window (tcp_win_from_space), the rest covers overhead; in-order
    #: data is queued while less than this is held.
    rcvbuf: int = 131072
    #: The largest receive buffer autotuning may reach (Linux tcp_rmem[2] = 6 MiB): it
    #: decides the window-scale shift unless SO_RCVBUF fixed the buffer.
    rcvbuf_max: int = 6 * 1024 * 1024
    #: SO_RCVBUF was set: the buffer is fixed and decides the shift (Linux SOCK_RCVBUF_LOCK).
    rcvbuf_locked: bool = False
    #: Cap on the initial receive window; None = derived from rcvbuf as Linux does.
    initial_rcv_wnd: int | None = None
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
    #: Linux's RTO estimator (tcp_rtt_estimator: SRTT + max(rto_min, ~4 mdev), the
    #: variance decaying once per round trip); False: RFC 6298 §2 with rto_min as floor.
    rto_linux: bool = True
    syn_retries: int = 6  # Linux net.ipv4.tcp_syn_retries: SYN sent 1 + 6 times
    synack_retries: int = 5  # Linux net.ipv4.tcp_synack_retries
    retries2: int = 15  # Linux net.ipv4.tcp_retries2 (RFC 9293 §3.8.3 R2), counted in RTOs
    time_wait: float = 60.0  # 2MSL; Linux TCP_TIMEWAIT_LEN = 60 s (RFC 9293 §3.4.2: MSL 2 min)
    fin_timeout: float = 60.0  # Linux net.ipv4.tcp_fin_timeout (orphan FIN_WAIT_2)
    #: TCP_USER_TIMEOUT (RFC 5482; Linux icsk_user_timeout, set in milliseconds through
    #: setsockopt), in seconds; 0 = off, Linux's default.  When set, how long transmitted
    #: data may stay unacknowledged (counted from the first retransmission, Linux
    #: retrans_stamp) or the peer's window stay closed (zero-window probes) before the
    #: connection is aborted with ETIMEDOUT, instead of the retries2 count; with
    #: keepalive, how long the peer may stay silent once probes go unanswered, instead of
    #: keepcnt (Linux tcp_write_timeout, tcp_probe_timer, tcp_keepalive_timer).  In
    #: connect() it counts from the SYN, and whichever of it and syn_retries ends first
    #: ends the attempt.
    user_timeout: float = 0.0

    # --- data transfer (RFC 9293 §3.8, RFC 5681, RFC 3168) ---------------------------
    #: Congestion control by name, like Linux's net.ipv4.tcp_congestion_control.
    congestion: str = "cubic"
    #: How CUBIC leaves slow start before a loss: "linux" (tcp_cubic's HyStart, ACK
    #: train and delay detection, hystart_detect = 3), "rfc9406" (HyStart++) or "off".
    hystart: str = "linux"
    #: Appropriate byte counting in slow start (RFC 3465, L = 2*SMSS).  Off like Linux,
    #: whose tcp_slow_start adds every acknowledged segment to cwnd.
    abc: bool = False
    #: Segments per emulated TSO packet at least (Linux net.ipv4.tcp_min_tso_segs); it
    #: decides where PSH falls inside a burst, as Linux marks every TSO packet with PSH.
    min_tso_segs: int = 2
    #: Largest packet handed to the link with segmentation offload (Linux
    #: dev->gso_max_size, 65536 on a device with TSO/GSO).  0 (the default here, so that
    #: traces show one line per wire packet): every segment carries at most one MSS.
    #: Otherwise new data leaves in TSO packets of up to this many octets, each of
    #: whole segments, which the link, or the host's software GSO
    #: (:mod:`synack.wire.gso`), cuts into MSS-sized packets where it must.
    gso_max_size: int = 0
    #: TCP_NODELAY: turn Nagle's algorithm off (RFC 9293 §3.7.4).
    nodelay: bool = False
    #: Pace data segments at Linux's pacing rate (synack.tcp.pacing), as Linux does under
    #: the fq qdisc or with SO_MAX_PACING_RATE set; off, as with Linux's default qdisc.
    pacing: bool = False
    #: SO_MAX_PACING_RATE in bytes/s: caps the pacing rate and, as in Linux, turns
    #: pacing on (None: no cap, and pacing only if ``pacing``).
    max_pacing_rate: float | None = None
    #: net.ipv4.tcp_pacing_ss_ratio and tcp_pacing_ca_ratio (percent of mss*cwnd/srtt).
    pacing_ss_ratio: int = 200
    pacing_ca_ratio: int = 120
    #: net.ipv4.tcp_ecn: 0 off, 1 request on active opens and accept, 2 accept only (Linux).
    ecn: int = 2
    #: net.ipv4.tcp_slow_start_after_idle (RFC 5681 §4.1).
    slow_start_after_idle: bool = True
    #: net.ipv4.tcp_backlog_ack_defer (Linux 6.8+, on): the segments of one receive
    #: batch get one ACK, sent when the batch is done (synack.stack.host.receiving_batch).
    backlog_ack_defer: bool = True
    #: Delayed-ACK timeout (Linux TCP_DELACK_MIN = 40 ms).
    delack: float = 0.04
    #: net.ipv4.tcp_dsack (RFC 2883).
    dsack: bool = True
    #: The tail loss probe (RFC 8985 §7), sent with SACK only as Linux does; off like
    #: Linux with net.ipv4.tcp_early_retrans below 3.
    tlp: bool = True
    #: Keepalive (RFC 9293 §3.8.4; SO_KEEPALIVE, TCP_KEEPIDLE/KEEPINTVL/KEEPCNT, Linux
    #: tcp_keepalive_time 7200 s, tcp_keepalive_intvl 75 s, tcp_keepalive_probes 9).
    keepalive: bool = False
    keepidle: float = 7200.0
    keepintvl: float = 75.0
    keepcnt: int = 9
    #: PAWS (RFC 7323 §5) is applied whenever timestamps are in use.

    # --- SYN floods (RFC 4987) ----------------------------------------------------------
    #: net.ipv4.tcp_syncookies: 0 off (a SYN finding the queue full is dropped), 1 SYN
    #: cookies when the SYN queue overflows (Linux's default), 2 cookies for every SYN.
    syncookies: int = 1

    # --- RFC 5961 ----------------------------------------------------------------------
    #: Minimum interval between challenge ACKs on one connection (RFC 5961 §7;
    #: Linux net.ipv4.tcp_invalid_ratelimit = 500 ms).
    challenge_ack_interval: float = 0.5

    # --- ISN (RFC 6528) ---------------------------------------------------------------
    #: ISN clock tick in seconds: RFC 9293 §3.4.1 / RFC 6528 §3 use a 4 µs timer.
    isn_tick: float = 4e-6

    def __post_init__(self) -> None:
        # Checked here, not when a connection is established (where an error could
        # only break the stack's processing of a segment).
        from synack.errors import UsageError
        from synack.tcp.congestion import ALGORITHMS
        from synack.tcp.congestion.standard import HYSTART_VARIANTS

        if self.congestion not in ALGORITHMS:
            known = ", ".join(sorted(ALGORITHMS))
            raise UsageError(f"unknown congestion control {self.congestion!r}; known: {known}")
        if self.syncookies not in (0, 1, 2):
            raise UsageError(f"syncookies must be 0, 1 or 2, not {self.syncookies!r}")
        if self.hystart not in HYSTART_VARIANTS:
            raise UsageError(f"unknown HyStart variant {self.hystart!r}; known: {HYSTART_VARIANTS}")
        if self.user_timeout < 0:  # Linux do_tcp_setsockopt: TCP_USER_TIMEOUT < 0 -> EINVAL
            raise UsageError(f"user_timeout must be >= 0, not {self.user_timeout!r}")
        if self.max_pacing_rate is not None and not self.max_pacing_rate > 0:
            raise UsageError(f"max_pacing_rate must be > 0 bytes/s, not {self.max_pacing_rate!r}")
        for name in ("pacing_ss_ratio", "pacing_ca_ratio"):
            value = getattr(self, name)
            if type(value) is not int or not 0 < value <= 1000:  # Linux: 0..1000 percent
                raise UsageError(f"{name} must be a percentage in 1..1000, not {value!r}")

    @property
    def paces(self) -> bool:
        """Whether data segments are paced: ``pacing``, or a ``max_pacing_rate`` (Linux
        sock_setsockopt: a finite SO_MAX_PACING_RATE sets SK_PACING_NEEDED)."""
        return self.pacing or self.max_pacing_rate is not None

    def with_(self, **changes: object) -> TCPConfig:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def our_wscale(self) -> int:
        """Window-scale shift to announce (RFC 7323 §2.3), as Linux picks it.

        Linux (tcp_select_initial_window) takes ilog2 of the largest buffer the socket
        could grow to (tcp_rmem[2] = 6 MiB by default) minus 15; with the defaults 7.
        """
        if self.wscale is not None:
            return self.wscale
        if self.rcvbuf_locked:
            space = self.rcvbuf // 2  # the window clamp of a fixed buffer
        else:
            space = max(self.rcvbuf_max, 212992, self.rcvbuf)  # tcp_rmem[2], rmem_max
        # Linux: rcv_wscale = ilog2(space) - 15, clamped to [0, 14] (RFC 7323 §2.3).
        return min(max(space.bit_length() - 1 - 15, 0), 14)
