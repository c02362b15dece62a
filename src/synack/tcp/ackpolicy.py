"""When to acknowledge: delayed ACKs with quick-ACK mode, as Linux does (RFC 9293
§3.8.6.3, RFC 1122 §4.2.3.2, RFC 5681 §4.2).

* At the start of a connection (and after idle) the receiver is in quick-ACK mode: each
  data segment is acknowledged at once, for up to 16 segments (Linux TCP_MAX_QUICKACKS,
  bounded by rcv_wnd / (2 * rcv_mss)).
* Otherwise an ACK is sent for every second full-sized segment, or when the delayed-ACK
  timer (40 ms, Linux TCP_DELACK_MIN / TCP_ATO_MIN) expires.
* Out-of-order data, and data that fills a gap, is acknowledged at once (RFC 5681 §4.2).
* Once the application answers quickly (an interactive, "ping-pong" exchange), quick-ACK
  mode is left, so replies carry the ACK (Linux inet_csk_enter_pingpong_mode).
"""

from __future__ import annotations

#: Linux TCP_MAX_QUICKACKS.
MAX_QUICKACKS = 16
#: Linux TCP_DELACK_MIN / TCP_ATO_MIN: the delayed-ACK timeout.
DELACK_TIMEOUT = 0.04
#: Linux TCP_DELACK_MAX.
DELACK_MAX = 0.2


class AckPolicy:
    # Slots: thousands of connections (TIME_WAIT) each keep one; no per-object dict.
    __slots__ = (
        "deadline",
        "last_rcv",
        "pingpong",
        "quick",
        "rcv_mss",
        "started",
        "timeout",
        "unacked",
    )

    def __init__(self, delack_timeout: float = DELACK_TIMEOUT) -> None:
        self.timeout = delack_timeout
        self.quick = 0
        self.started = False  # first data seen (Linux: icsk_ack.ato != 0)
        self.pingpong = False
        self.rcv_mss = 536  # Linux tcp_initialize_rcv_mss: at most TCP_MSS_DEFAULT at first
        self.unacked = 0  # bytes received since the last ACK we sent
        self.deadline: float | None = None
        self.last_rcv = -1.0

    def enter_quickack(self, rcv_wnd: int) -> None:
        """Linux tcp_incr_quickack: grant quick ACKs for the next segments."""
        n = rcv_wnd // (2 * max(self.rcv_mss, 1))
        self.quick = max(self.quick, min(max(n, 2), MAX_QUICKACKS))

    def on_data(
        self, length: int, advmss: int, rcv_wnd: int, now: float, gso_size: int = 0
    ) -> None:
        """In-order data arrived (Linux tcp_event_data_recv + tcp_measure_rcv_mss).  A
        segment received with offload (``gso_size``) measures by its segment size."""
        size = gso_size or length
        if size >= self.rcv_mss:
            self.rcv_mss = min(size, advmss)
        if not self.started:
            self.started = True
            self.enter_quickack(rcv_wnd)
        self.unacked += length
        self.last_rcv = now

    def ack_now(self) -> bool:
        """Whether the ACK owed for in-order data should go out at once."""
        if self.quick > 0 and not self.pingpong:
            return True
        return self.unacked > self.rcv_mss  # more than one full frame (Linux __tcp_ack_snd_check)

    def schedule(self, now: float) -> None:
        """Start the delayed-ACK timer.  Before any data has arrived Linux's ACK timeout
        (icsk_ack.ato) is still zero, so the ACK of, say, a bare FIN leaves at once."""
        if self.deadline is None:
            self.deadline = now + (self.timeout if self.started else 0.0)

    def ack_sent(self) -> None:
        """Any segment carrying our current ACK left (Linux tcp_event_ack_sent)."""
        if self.quick > 0 and self.unacked:
            self.quick -= 1
        self.unacked = 0
        self.deadline = None

    def data_sent(self, now: float) -> None:
        """We sent data: a reply soon after receiving means an interactive exchange
        (Linux tcp_event_data_sent)."""
        if self.last_rcv >= 0 and now - self.last_rcv < self.timeout:
            self.pingpong = True
