"""The scenario catalog: the classic TCP stories, each a runnable, checked simulation.

The expected ``segments`` use the summary format of :func:`synack.scenarios.base.summarize`
(``C>S S. seq=0 ack=1``: sender>receiver, tcpdump flag letters, seq and ack relative to the
ISNs) and ``states`` list each host's states in order.  Both are what RFC 9293 (and Linux,
where the RFC leaves room) says must happen.
"""

from __future__ import annotations

import errno

from synack.errors import DecodeError
from synack.link.impairment import ImpairmentConfig, PacketInfo, drop_nth
from synack.scenarios.apps import Client, Server
from synack.scenarios.base import Scenario, Setup
from synack.scenarios.testbed import Testbed
from synack.stack.socket import TcpHandle
from synack.tcp import events as ev
from synack.tcp.config import TCPConfig
from synack.wire.ip import decode_ipv4
from synack.wire.tcp import Flags, TCPSegment, decode_tcp

D = 0.05  # one-way delay of the scenario link (RTT 100 ms)

#: "ping", "pong", then the client closes first and the server 200 ms later.
_PING_PONG_FOUR_SEGMENT_CLOSE = (
    "C>S S seq=0",
    "S>C S. seq=0 ack=1",
    "C>S . seq=1 ack=1",
    "C>S P. seq=1:5 ack=1",
    "S>C P. seq=1:5 ack=5",
    "C>S F. seq=5 ack=5",
    "S>C . seq=5 ack=6",
    "S>C F. seq=5 ack=6",
    "C>S . seq=6 ack=6",
)
_PING_PONG_STATES = {
    "client": (
        "CLOSED", "SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT", "CLOSED",
    ),
    "server": ("LISTEN", "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED"),
}  # fmt: skip


def _handshake(tb: Testbed) -> None:
    Server(tb).start()
    Client(tb, close_after=None, expect_reply=False).start()


def _normal_close(tb: Testbed) -> None:
    Server(tb, reply=b"pong", close_after=0.2).start()
    Client(tb, request=b"ping").start()


def _three_segment_close(tb: Testbed) -> None:
    Server(tb, reply=b"pong", close_after=0.0).start()
    Client(tb, request=b"ping").start()


def _half_close(tb: Testbed) -> None:
    def reply_later(h: TcpHandle) -> None:
        def on_event(h: TcpHandle, e: ev.Event) -> None:
            if isinstance(e, ev.DataReceived):
                h.recv()
            elif isinstance(e, ev.PeerClosed):
                # In CLOSE_WAIT the server can still send: the client only shut down
                # its writing half.
                h.send(b"first part of the answer")

                def finish() -> None:
                    h.send(b"second part")
                    h.close()

                tb.sim.call_later(0.3, finish)

        h.on_event = on_event

    srv = Server(tb, close_after=None)
    srv.on_connection = reply_later
    srv.start()
    Client(tb, request=b"request; no more from me", shutdown_after_request=True).start()


def _simultaneous_open(tb: Testbed) -> None:
    tb.at(0.0, lambda: tb.client.connect(tb.server.ip, 5001, local_port=5000))
    tb.at(0.0, lambda: tb.server.connect(tb.client.ip, 5000, local_port=5001))


def _simultaneous_close(tb: Testbed) -> None:
    handles: list[TcpHandle] = []
    srv = Server(tb, close_after=None)
    srv.on_connection = handles.append
    srv.start()
    cli = Client(tb, close_after=None, expect_reply=False).start()

    def both_close() -> None:
        assert cli.handle is not None
        cli.handle.close()
        handles[0].close()

    tb.at(0.5, both_close)


def _tcp(data: bytes) -> TCPSegment | None:
    try:
        ip = decode_ipv4(data)
        return decode_tcp(ip.payload, ip.src, ip.dst)
    except DecodeError:
        return None


class _DropLastAck:
    """Drops the client's pure ACK that follows the server's FIN."""

    def __init__(self) -> None:
        self.fin_seen = False
        self.done = False

    def __call__(self, info: PacketInfo) -> bool:
        seg = _tcp(info.data)
        if seg is None:
            return False
        if seg.fin:
            self.fin_seen = True
            return False
        if self.fin_seen and not self.done and seg.flags == Flags.ACK:
            self.done = True
            return True
        return False


def _lost_last_ack_setup(tb: Testbed) -> None:
    Server(tb, reply=b"pong", close_after=0.0).start()
    Client(tb, request=b"ping").start()
    tb.link.set_config(tb.client.name, ImpairmentConfig(delay=D, drop=_DropLastAck()))


def _refused(tb: Testbed) -> None:
    Client(tb, port=81).start()  # nothing listens on 81


def _connect_timeout(tb: Testbed) -> None:
    # The server host is down: every packet towards it is lost.
    tb.link.set_config(tb.client.name, ImpairmentConfig(delay=D, loss=1.0))
    Client(tb).start()


def _old_duplicate_syn(tb: Testbed) -> None:
    """RFC 9293 §3.5 Figure 8.  The client's real SYN is held up (here: lost) while an
    old duplicate SYN from an earlier incarnation of the same 4-tuple arrives."""
    Server(tb, close_after=None).start()
    Client(tb, local_port=40000, iss=100, close_after=None, expect_reply=False).start()
    tb.link.set_config(tb.client.name, ImpairmentConfig(delay=D, drop=drop_nth(0)))
    old = TCPSegment(40000, 80, 90, 0, Flags.SYN, 64240)
    tb.at(0.01, lambda: tb.inject(tb.client, tb.server, old))


def _half_open(tb: Testbed) -> None:
    """RFC 9293 §3.5 Figure 10 (with RFC 5961's challenge ACK in place of the RST)."""
    Server(tb, close_after=None).start()
    Client(tb, local_port=40000, iss=1000, close_after=None, expect_reply=False).start()
    tb.at(1.0, tb.client.restart)
    tb.at(2.0, lambda: tb.client.connect(tb.server.ip, 80, local_port=40000, iss=5000))


def _time_wait_reuse(tb: Testbed) -> None:
    Server(tb, close_after=0.0).start()
    Client(tb, local_port=40000, close_after=0.0, expect_reply=False).start()

    def again() -> None:
        try:
            tb.client.connect(tb.server.ip, 80, local_port=40000)
        except OSError as e:
            tb.client.note(
                f"connect from port 40000 again: {errno.errorcode.get(e.errno or 0, '?')} ({e})"
            )

    tb.at(1.0, again)  # refused: the 4-tuple is in TIME_WAIT
    tb.at(62.0, Client(tb, local_port=40000, close_after=None, expect_reply=False).start_now)


def _fin_wait_2_timeout(tb: Testbed) -> None:
    Server(tb, close_after=None).start()  # never closes: stays in CLOSE_WAIT
    Client(tb, close_after=0.0, expect_reply=False).start()


def _wraparound(tb: Testbed) -> None:
    Server(tb, reply=b"an answer across the wrap too", close_after=0.0).start(iss=2**32 - 10)
    Client(tb, request=b"bytes that cross 2**32", iss=2**32 - 5).start()


def _data_on_third(tb: Testbed) -> None:
    Server(tb, reply=b"HTTP/1.0 200 OK\r\n\r\nhi", close_after=0.0).start()
    Client(tb, request=b"GET / HTTP/1.0\r\n\r\n", send_early=True).start()


def _lost(direction: str, index: int) -> Setup:
    def setup(tb: Testbed) -> None:
        Server(tb, close_after=None).start()
        Client(tb, close_after=None, expect_reply=False).start()
        host = tb.client if direction == "c2s" else tb.server
        tb.link.set_config(host.name, ImpairmentConfig(delay=D, drop=drop_nth(index)))

    return setup


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "handshake",
        "the three-way handshake",
        "SYN, SYN-ACK, ACK.  Each SYN takes one sequence number, so the first data byte is "
        "ISN+1 and the ACKs read 1.",
        _handshake,
        until=1.0,
        segments=("C>S S seq=0", "S>C S. seq=0 ack=1", "C>S . seq=1 ack=1"),
        states={
            "client": ("CLOSED", "SYN_SENT", "ESTABLISHED"),
            "server": ("LISTEN", "SYN_RECEIVED", "ESTABLISHED"),
        },
    ),
    Scenario(
        "normal-close",
        "the four-segment close",
        (
            "The client closes first (FIN_WAIT_1); the server acknowledges the FIN at once and "
            "closes 200 ms later, so its FIN is a segment of its own: four segments, and the "
            "client waits 2MSL (60 s) in TIME_WAIT."
        ),
        _normal_close,
        until=70.0,
        segments=_PING_PONG_FOUR_SEGMENT_CLOSE,
        states=_PING_PONG_STATES,
    ),
    Scenario(
        "three-segment-close",
        "the close in three segments",
        (
            "The server's application closes as soon as it reads end-of-file, before the ACK of "
            "the client's FIN has left, so the ACK rides on the server's FIN. The client goes "
            "FIN_WAIT_1 straight to TIME_WAIT."
        ),
        _three_segment_close,
        until=70.0,
        segments=(
            "C>S S seq=0",
            "S>C S. seq=0 ack=1",
            "C>S . seq=1 ack=1",
            "C>S P. seq=1:5 ack=1",
            "S>C P. seq=1:5 ack=5",
            "C>S F. seq=5 ack=5",
            "S>C F. seq=5 ack=6",
            "C>S . seq=6 ack=6",
        ),
        states={
            "client": ("CLOSED", "SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "TIME_WAIT", "CLOSED"),
            "server": ("LISTEN", "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED"),
        },
    ),
    Scenario(
        "half-close",
        "half-close: data keeps flowing to the side that sent FIN",
        (
            "The client sends its request with FIN (shutdown of its writing half). In CLOSE_WAIT "
            "the server still sends two parts of its answer, which the client in FIN_WAIT_2 "
            "acknowledges and reads; then the server closes."
        ),
        _half_close,
        until=70.0,
        segments=(
            "C>S S seq=0",
            "S>C S. seq=0 ack=1",
            "C>S . seq=1 ack=1",
            "C>S FP. seq=1:25 ack=1",
            "S>C P. seq=1:25 ack=26",
            "C>S . seq=26 ack=25",
            "S>C P. seq=25:36 ack=26",
            "S>C F. seq=36 ack=26",
            "C>S . seq=26 ack=36",
            "C>S . seq=26 ack=37",
        ),
        states={
            "client": (
                "CLOSED",
                "SYN_SENT",
                "ESTABLISHED",
                "FIN_WAIT_1",
                "FIN_WAIT_2",
                "TIME_WAIT",
                "CLOSED",
            ),
            "server": ("LISTEN", "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED"),
        },
    ),
    Scenario(
        "simultaneous-open",
        "simultaneous open",
        (
            "Both ends send a SYN at the same time (RFC 9293 §3.5 Figure 7). Each goes SYN_SENT "
            "-> SYN_RECEIVED and answers with SYN-ACK; each SYN-ACK completes the other side's "
            "handshake: four segments, no LISTEN."
        ),
        _simultaneous_open,
        until=5.0,
        segments=(
            "C>S S seq=0",
            "S>C S seq=0",
            "S>C S. seq=0 ack=1",
            "C>S S. seq=0 ack=1",
        ),
        states={
            "client": ("CLOSED", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED"),
            "server": ("CLOSED", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED"),
        },
    ),
    Scenario(
        "simultaneous-close",
        "simultaneous close through CLOSING",
        (
            "Both applications close at the same instant (RFC 9293 §3.6 Figure 13). Each FIN "
            "crosses the other; each side goes FIN_WAIT_1 -> CLOSING, then TIME_WAIT when its FIN"
            " is acknowledged."
        ),
        _simultaneous_close,
        until=70.0,
        segments=(
            "C>S S seq=0",
            "S>C S. seq=0 ack=1",
            "C>S . seq=1 ack=1",
            "C>S F. seq=1 ack=1",
            "S>C F. seq=1 ack=1",
            "S>C . seq=2 ack=2",
            "C>S . seq=2 ack=2",
        ),
        states={
            "client": (
                "CLOSED",
                "SYN_SENT",
                "ESTABLISHED",
                "FIN_WAIT_1",
                "CLOSING",
                "TIME_WAIT",
                "CLOSED",
            ),
            "server": (
                "LISTEN",
                "SYN_RECEIVED",
                "ESTABLISHED",
                "FIN_WAIT_1",
                "CLOSING",
                "TIME_WAIT",
                "CLOSED",
            ),
        },
    ),
    Scenario(
        "lost-syn",
        "lost SYN",
        "The first SYN is lost; the client retransmits it after the initial RTO of 1 s.",
        _lost("c2s", 0),
        until=5.0,
        segments=(
            "C>S S seq=0 LOST",
            "C>S S seq=0",
            "S>C S. seq=0 ack=1",
            "C>S . seq=1 ack=1",
        ),
        states={
            "client": ("CLOSED", "SYN_SENT", "ESTABLISHED"),
            "server": ("LISTEN", "SYN_RECEIVED", "ESTABLISHED"),
        },
    ),
    Scenario(
        "lost-synack",
        "lost SYN-ACK",
        (
            "The SYN-ACK is lost. The client retransmits its SYN after 1 s, which the server "
            "answers with the SYN-ACK again; the server's own RTO fires too, so a second copy "
            "follows and is acknowledged."
        ),
        _lost("s2c", 0),
        until=5.0,
        segments=(
            "C>S S seq=0",
            "S>C S. seq=0 ack=1 LOST",
            "C>S S seq=0",
            "S>C S. seq=0 ack=1",
            "S>C S. seq=0 ack=1",
            "C>S . seq=1 ack=1",
            "C>S . seq=1 ack=1",
        ),
        states={
            "client": ("CLOSED", "SYN_SENT", "ESTABLISHED"),
            "server": ("LISTEN", "SYN_RECEIVED", "ESTABLISHED"),
        },
    ),
    Scenario(
        "lost-third-ack",
        "lost third ACK",
        (
            "The ACK that completes the handshake is lost: the client is ESTABLISHED, the server "
            "still in SYN_RECEIVED. The server retransmits its SYN-ACK after 1 s and the client "
            "acknowledges it again."
        ),
        _lost("c2s", 1),
        until=5.0,
        segments=(
            "C>S S seq=0",
            "S>C S. seq=0 ack=1",
            "C>S . seq=1 ack=1 LOST",
            "S>C S. seq=0 ack=1",
            "C>S . seq=1 ack=1",
        ),
        states={
            "client": ("CLOSED", "SYN_SENT", "ESTABLISHED"),
            "server": ("LISTEN", "SYN_RECEIVED", "ESTABLISHED"),
        },
    ),
    Scenario(
        "lost-last-ack",
        "lost last ACK of the close",
        (
            "The client's final ACK is lost. The server, in LAST_ACK, retransmits its FIN after "
            "the RTO; the client re-ACKs it from TIME_WAIT (and restarts the 2MSL timer)."
        ),
        _lost_last_ack_setup,
        until=70.0,
        segments=(
            "C>S S seq=0",
            "S>C S. seq=0 ack=1",
            "C>S . seq=1 ack=1",
            "C>S P. seq=1:5 ack=1",
            "S>C P. seq=1:5 ack=5",
            "C>S F. seq=5 ack=5",
            "S>C F. seq=5 ack=6",
            "C>S . seq=6 ack=6 LOST",
            "S>C F. seq=5 ack=6",
            "C>S . seq=6 ack=6",
        ),
        states={
            "client": ("CLOSED", "SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "TIME_WAIT", "CLOSED"),
            "server": ("LISTEN", "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED"),
        },
    ),
    Scenario(
        "refused",
        "connect to a closed port",
        (
            "Nothing listens on port 81: the server's stack answers the SYN with "
            "<SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK> (RFC 9293 §3.10.7.1) and connect() fails with "
            "ECONNREFUSED."
        ),
        _refused,
        until=5.0,
        segments=(
            "C>S S seq=0",
            "S>C R. seq=0 ack=1",
        ),
        states={
            "client": ("CLOSED", "SYN_SENT", "CLOSED"),
            "server": (),
        },
    ),
    Scenario(
        "connect-timeout",
        "connect timeout",
        (
            "The server is unreachable. The SYN is retransmitted with exponential backoff after "
            "1, 2, 4, 8, 16 and 32 s (Linux tcp_syn_retries = 6); 64 s after the last one "
            "connect() fails with ETIMEDOUT, at 127 s."
        ),
        _connect_timeout,
        until=200.0,
        segments=(
            "C>S S seq=0 LOST",
            "C>S S seq=0 LOST",
            "C>S S seq=0 LOST",
            "C>S S seq=0 LOST",
            "C>S S seq=0 LOST",
            "C>S S seq=0 LOST",
            "C>S S seq=0 LOST",
        ),
        states={
            "client": ("CLOSED", "SYN_SENT", "CLOSED"),
            "server": (),
        },
    ),
    Scenario(
        "old-duplicate-syn",
        "recovery from an old duplicate SYN",
        (
            "RFC 9293 §3.5 Figure 8. The client's SYN (ISN 100) is held up (here: lost) while an "
            "old duplicate SYN (seq 90) from an earlier incarnation arrives. The server's SYN-ACK"
            " acknowledges 91, which the client in SYN_SENT knows is wrong: it answers RST seq=91"
            " and the server drops that half-made connection. The client's retransmitted SYN then"
            " opens the real one."
        ),
        _old_duplicate_syn,
        until=5.0,
        segments=(
            "C>S S seq=0 LOST",
            "C>S INJ S seq=-10",
            "S>C S. seq=0 ack=-9",
            "C>S R seq=-9",
            "C>S S seq=0",
            "S>C S. seq=0 ack=1",
            "C>S . seq=1 ack=1",
        ),
        states={
            "client": ("CLOSED", "SYN_SENT", "ESTABLISHED"),
            "server": ("LISTEN", "SYN_RECEIVED", "CLOSED", "LISTEN", "SYN_RECEIVED", "ESTABLISHED"),
        },
    ),
    Scenario(
        "half-open",
        "half-open connection discovery",
        (
            "RFC 9293 §3.5 Figure 10, with RFC 5961. The client crashes and restarts, losing its "
            "connection; the server's is still ESTABLISHED. The client's new SYN (same ports) "
            "meets a challenge ACK; the client, in SYN_SENT, answers that unacceptable ACK with "
            "RST; the RST matches exactly, so the server aborts. The client's SYN retransmission "
            "then succeeds."
        ),
        _half_open,
        until=10.0,
        segments=(
            "C>S S seq=0",
            "S>C S. seq=0 ack=1",
            "C>S . seq=1 ack=1",
            "C>S S seq=0",
            "S>C . seq=1 ack=-3999",
            "C>S R seq=-3999",
            "C>S S seq=0",
            "S>C S. seq=0 ack=1",
            "C>S . seq=1 ack=1",
        ),
        states={
            "client": ("CLOSED", "SYN_SENT", "ESTABLISHED", "CLOSED", "SYN_SENT", "ESTABLISHED"),
            "server": (
                "LISTEN",
                "SYN_RECEIVED",
                "ESTABLISHED",
                "CLOSED",
                "LISTEN",
                "SYN_RECEIVED",
                "ESTABLISHED",
            ),
        },
    ),
    Scenario(
        "time-wait-reuse",
        "TIME_WAIT blocks reuse of a 4-tuple",
        (
            "The client closes first and holds the 4-tuple in TIME_WAIT. Connecting again from "
            "the same port to the same server fails (EADDRNOTAVAIL, as on Linux); once TIME_WAIT "
            "ends (60 s), the same connect succeeds."
        ),
        _time_wait_reuse,
        until=70.0,
        segments=(
            "C>S S seq=0",
            "S>C S. seq=0 ack=1",
            "C>S . seq=1 ack=1",
            "C>S F. seq=1 ack=1",
            "S>C F. seq=1 ack=2",
            "C>S . seq=2 ack=2",
            "C>S S seq=0",
            "S>C S. seq=0 ack=1",
            "C>S . seq=1 ack=1",
        ),
        states={
            "client": (
                "CLOSED",
                "SYN_SENT",
                "ESTABLISHED",
                "FIN_WAIT_1",
                "TIME_WAIT",
                "CLOSED",
                "SYN_SENT",
                "ESTABLISHED",
            ),
            "server": (
                "LISTEN",
                "SYN_RECEIVED",
                "ESTABLISHED",
                "CLOSE_WAIT",
                "LAST_ACK",
                "CLOSED",
                "LISTEN",
                "SYN_RECEIVED",
                "ESTABLISHED",
            ),
        },
    ),
    Scenario(
        "fin-wait-2-timeout",
        "the FIN_WAIT_2 orphan timeout",
        (
            "The client closes; the server acknowledges the FIN but its application never closes "
            "(CLOSE_WAIT forever). The client's orphaned connection waits in FIN_WAIT_2 for "
            "tcp_fin_timeout (60 s) and is then deleted without a segment."
        ),
        _fin_wait_2_timeout,
        until=70.0,
        segments=(
            "C>S S seq=0",
            "S>C S. seq=0 ack=1",
            "C>S . seq=1 ack=1",
            "C>S F. seq=1 ack=1",
            "S>C . seq=1 ack=2",
        ),
        states={
            "client": ("CLOSED", "SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSED"),
            "server": ("LISTEN", "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT"),
        },
    ),
    Scenario(
        "syn-cookie",
        "a handshake by SYN cookie, as under a SYN flood",
        (
            "With net.ipv4.tcp_syncookies=2 (1, Linux's default, does this once the SYN queue "
            "overflows) the server keeps nothing after its SYN-ACK: its ISN is a cookie (RFC "
            "4987 §3.6), a keyed hash of the 4-tuple, the client's ISN, the minute and the "
            "client's MSS, and the window scale and SACK ride in the low bits of its TSval. The "
            "client's ACK brings both back; the connection is made only then. The wire shows "
            "an ordinary handshake."
        ),
        _normal_close,  # the same exchange; only the server's handshake differs
        until=70.0,
        segments=_PING_PONG_FOUR_SEGMENT_CLOSE,
        states=_PING_PONG_STATES,
        testbed_args={"config": TCPConfig(syncookies=2)},
    ),
    Scenario(
        "wraparound",
        "sequence numbers wrapping past 2^32",
        (
            "Both ISNs are pinned just below 2^32 so the data crosses the wrap: the client's ISN "
            "is 2^32-5 and the server's 2^32-10. Every comparison is modulo 2^32 (RFC 9293 §3.4),"
            " so nothing changes on the wire but the numbers."
        ),
        _wraparound,
        until=70.0,
        segments=(
            "C>S S seq=0",
            "S>C S. seq=0 ack=1",
            "C>S . seq=1 ack=1",
            "C>S P. seq=1:23 ack=1",
            "S>C P. seq=1:30 ack=23",
            "C>S F. seq=23 ack=30",
            "S>C F. seq=30 ack=24",
            "C>S . seq=24 ack=31",
        ),
        states={
            "client": ("CLOSED", "SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "TIME_WAIT", "CLOSED"),
            "server": ("LISTEN", "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED"),
        },
    ),
    Scenario(
        "data-on-third-segment",
        "data on the third segment of the handshake",
        (
            "The client writes its request before the handshake completes (in SYN_SENT the data "
            "is queued, RFC 9293 §3.10.2); when the SYN-ACK arrives the request rides on the ACK "
            "that completes the handshake."
        ),
        _data_on_third,
        until=70.0,
        segments=(
            "C>S S seq=0",
            "S>C S. seq=0 ack=1",
            "C>S P. seq=1:19 ack=1",
            "S>C P. seq=1:22 ack=19",
            "C>S F. seq=19 ack=22",
            "S>C F. seq=22 ack=20",
            "C>S . seq=20 ack=23",
        ),
        states={
            "client": ("CLOSED", "SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "TIME_WAIT", "CLOSED"),
            "server": ("LISTEN", "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED"),
        },
    ),
)
