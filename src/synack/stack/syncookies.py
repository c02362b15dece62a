"""A listener under a SYN flood: SYN cookies (RFC 4987 §3.6) as Linux uses them
(net.ipv4.tcp_syncookies; tcp_conn_request, cookie_v4_check).

With ``syncookies`` 1 (Linux's default) a SYN that finds the SYN queue full is answered
with a cookie SYN-ACK and nothing is kept; with 2 every SYN is.  An ACK that matches no
connection is checked for a cookie while the listener has overflowed in the last two
minutes (always with 2); a good one makes the connection at once, a bad one gets the
listener's usual reset.  The cookie arithmetic is :mod:`synack.tcp.syncookie`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from synack.tcp import syncookie as sc
from synack.tcp.config import TCPConfig
from synack.tcp.connection import Connection
from synack.wire.options import MSS, SackPermitted, TCPOption, Timestamps, WindowScale
from synack.wire.tcp import Flags, TCPSegment

if TYPE_CHECKING:
    from synack.stack.host import Host
    from synack.stack.listener import Listener


def wants_cookie(lst: Listener, config: TCPConfig) -> bool:
    """tcp_conn_request: "syncookies == 2 || inet_csk_reqsk_queue_is_full(sk)"."""
    return config.syncookies == 2 or (config.syncookies == 1 and not lst.has_room())


def send_cookie_syn_ack(host: Host, lst: Listener, seg: TCPSegment, src: str, now: float) -> None:
    """Answer ``seg`` (a SYN) with a SYN-ACK whose ISS is a cookie, keeping nothing."""
    config = lst.config or host.config
    if config.syncookies == 1 and not lst.synflood_warned:
        lst.synflood_warned = True  # Linux logs this once per listener
        host.note(f"Possible SYN flooding on port {lst.port}. Sending cookies.")
    host.counters["TCPReqQFullDoCookies"] += 1  # tcp_syn_flood_action, any setting
    local, remote = (host.ip, seg.dst_port), (src, seg.src_port)
    iss = sc.make_cookie(host.secret, local, remote, seg.seq, sc.mss_index(seg.mss), now)
    # The SYN-ACK is the one a listener's child would send with that ISS (Linux
    # allocates a request socket for it too, then frees it): options, window, ECN.
    child = Connection(local, config=config, secret=host.secret, counters={}, name=host.name)
    child.become_listener_child()
    child.set_iss(iss)
    child.receive_segment(seg, now, remote)
    (syn_ack,) = (s for s in child.segments_to_send(now) if s.syn)
    agreement = child.agreement
    if agreement is not None and agreement.timestamps:
        # cookie_init_timestamp: what the cookie cannot hold goes in TSval's low bits.
        options: list[TCPOption] = []
        for o in syn_ack.options:
            if isinstance(o, Timestamps):
                # The peer's shift, clamped to 14 as the handshake clamps it (RFC 7323
                # §2.3): more would spill into the SACK and ECN bits.
                peer = seg.wscale
                wscale = min(peer, 14) if config.window_scaling and peer is not None else None
                ecn = child.ecn_ok
                o = Timestamps(sc.encode_ts_options(o.val, wscale, agreement.sack, ecn), o.ecr)
            options.append(o)
        syn_ack.options = tuple(options)
    lst.last_overflow = now  # tcp_synq_overflow
    host.counters["SyncookiesSent"] += 1
    host._send_raw(syn_ack, src)


def cookie_check_due(lst: Listener, config: TCPConfig, now: float) -> bool:
    """Whether an ACK to this listener may carry a cookie (tcp_synq_no_recent_overflow)."""
    if config.syncookies == 2:
        return True
    last = lst.last_overflow
    return config.syncookies == 1 and last is not None and now - last < sc.VALID


def cookie_index(host: Host, seg: TCPSegment, src: str, now: float) -> int | None:
    """The MSS index of the cookie ``seg`` acknowledges, or None if it carries none."""
    local, remote = (host.ip, seg.dst_port), (src, seg.src_port)
    client_isn = (seg.seq - 1) & 0xFFFFFFFF
    return sc.check_cookie(host.secret, local, remote, client_isn, (seg.ack - 1) & 0xFFFFFFFF, now)


def accept_cookie_ack(host: Host, lst: Listener, seg: TCPSegment, src: str, now: float) -> bool:
    """The final ACK of a cookie handshake: make the connection and give it the ACK.
    False when it carries no valid cookie (the caller resets it, as Linux does)."""
    remote = (src, seg.src_port)
    client_isn = (seg.seq - 1) & 0xFFFFFFFF
    iss = (seg.ack - 1) & 0xFFFFFFFF
    index = cookie_index(host, seg, src, now)
    if index is None:
        host.counters["SyncookiesFailed"] += 1
        return False
    host.counters["SyncookiesRecv"] += 1
    config = lst.config or host.config
    options: list[TCPOption] = [MSS(sc.MSS_TABLE[index])]
    flags = Flags.SYN
    ts = seg.timestamps
    if ts is not None and config.timestamps:
        # (A TSecr of 0 is a cookie timestamp too: shift 0, no SACK, no ECN.)
        decoded = sc.decode_ts_options(ts[1])
        if decoded is None:
            return False
        wscale, sack, ecn = decoded
        options.append(Timestamps(ts[0], 0))
        if sack and config.sack:
            options.append(SackPermitted())
        if wscale is not None and config.window_scaling:
            options.append(WindowScale(wscale))
        if ecn:
            flags |= Flags.ECE | Flags.CWR
    if len(lst.accept_queue) > lst.backlog:  # sk_acceptq_is_full in tcp_v4_syn_recv_sock
        host.counters["ListenOverflows"] += 1
        host.counters["ListenDrops"] += 1
        host.drop("tcp_listen_queue_full")
        return True  # dropped, not reset
    opts = tuple(options)
    syn = TCPSegment(seg.src_port, seg.dst_port, client_isn, 0, flags, seg.window, 0, opts)
    conn = host.adopt_child(lst, seg.dst_port, src, seg.src_port, config)
    conn.open_from_cookie(syn, iss, now, remote)
    conn.receive_segment(seg, now, remote)
    host._pump(conn)
    return True
