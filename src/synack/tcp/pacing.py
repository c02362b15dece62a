"""Pacing: spreading a window's segments over the round trip instead of sending them
back to back, as Linux does when something asks it to pace.

Linux computes a pacing rate for every TCP socket (tcp_update_pacing_rate, on every ACK):
the current rate ``mss * cwnd / srtt`` times a ratio, 200 % in slow start (while cwnd is
below half of ssthresh) and 120 % after (net.ipv4.tcp_pacing_ss_ratio and
tcp_pacing_ca_ratio), capped by SO_MAX_PACING_RATE.  Packets leave at that rate only when
a pacer asks for it: the fq qdisc, or TCP's own internal pacing, which a finite
SO_MAX_PACING_RATE (or BBR) turns on (tcp_needs_internal_pacing).  Internal pacing stamps
each packet with its earliest departure time, ``tcp_wstamp_ns``:

* after a packet of ``len`` octets (TCP header and payload) leaves, the next may leave
  ``len / rate`` later (tcp_update_skb_after_send), less a credit of up to half of that
  when the packet itself left late ("take into account OS jitter");
* the first 10 data segments are not paced ("Original sch_fq does not pace first 10
  MSS");
* before each packet, tcp_write_xmit and tcp_xmit_retransmit_queue stop while the
  departure time lies in the future and arm a timer for it (tcp_pacing_check).

Pure ACKs and control segments are never held back.  Linux paces each skb it sends,
a TSO packet of several segments included; synack likewise paces each segment it hands
to the link: a TSO packet when ``TCPConfig.gso_max_size`` is set, else every MSS-sized
segment (the same rate, in smaller steps).  A flow whose window arrives as one
clump (a short path, a fast link) then crosses a slower bottleneck as evenly spaced
packets rather than as a queue, and a receiver's delayed ACKs pair up segments that
arrive one after another instead of waiting for the clump's odd last segment.

Off by default (``TCPConfig.pacing``), as Linux with its default qdisc (pfifo_fast or
fq_codel) and no SO_MAX_PACING_RATE does not pace.
"""

from __future__ import annotations

#: Linux net.ipv4.tcp_pacing_ss_ratio and tcp_pacing_ca_ratio, in percent.
SS_RATIO = 200
CA_RATIO = 120
#: Data segments sent before pacing starts (tcp_update_skb_after_send: data_segs_out >= 10).
UNPACED_SEGMENTS = 10


def pacing_rate(
    mss: int,
    cwnd: int,
    ssthresh: int,
    packets_out: int,
    srtt: float | None,
    *,
    ss_ratio: int = SS_RATIO,
    ca_ratio: int = CA_RATIO,
    max_rate: float | None = None,
) -> float:
    """Linux's sk_pacing_rate in bytes per second (tcp_update_pacing_rate): ``mss`` times
    the larger of cwnd in segments and the segments in flight, over srtt, at ``ss_ratio``
    percent while cwnd (octets) is below half of ``ssthresh``, else ``ca_ratio``; at most
    ``max_rate``.  0 before the first RTT sample (Linux's is then unbounded)."""
    if not srtt or srtt <= 0:
        return 0.0 if max_rate is None else max_rate
    ratio = ss_ratio if cwnd < ssthresh // 2 else ca_ratio
    rate = mss * max(cwnd // max(mss, 1), packets_out) * ratio / 100 / srtt
    return rate if max_rate is None else min(rate, max_rate)


def next_departure(wstamp: float, now: float, size: int, rate: float) -> float:
    """A packet of ``size`` octets leaves now, when Linux's departure stamp was
    ``wstamp``: the earliest departure of the next packet.  The packet itself is stamped
    ``max(wstamp, now)`` (__tcp_transmit_skb); the next may leave ``size / rate`` later,
    less the credit of a late packet, at most half the gap (tcp_update_skb_after_send).
    ``rate`` 0 means unpaced: the next may leave at once."""
    sent_at = max(wstamp, now)
    if rate <= 0:
        return sent_at
    gap = size / rate
    return sent_at + gap - min(gap / 2, sent_at - wstamp)
