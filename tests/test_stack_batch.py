"""Host.receiving_batch: the packets of one read batch are processed at once, and what
they make an established connection send (its ACK) and raise (its events) waits for the
end of the batch -- Linux's tcp_backlog_ack_defer -- unless a packet changes the
connection's state."""

from __future__ import annotations

import random
from typing import Any

import pytest

from synack.stack.host import Host
from synack.tcp.config import TCPConfig
from synack.wire.ip import PROTO_TCP, IPv4Packet, decode_ipv4, encode_ipv4
from synack.wire.tcp import Flags, TCPSegment, decode_tcp, encode_tcp

A, B = "192.0.2.1", "192.0.2.2"


def wire(seg: TCPSegment) -> bytes:
    return encode_ipv4(IPv4Packet(A, B, PROTO_TCP, encode_tcp(seg, A, B)))


def sent_segments(sent: list[bytes]) -> list[TCPSegment]:
    out = []
    for data in sent:
        ip = decode_ipv4(data)
        out.append(decode_tcp(ip.payload, ip.src, ip.dst))
    return out


class Server:
    """A listening host on B that records what it sends and what its application reads."""

    def __init__(self, on_data: Any = None, config: TCPConfig | None = None) -> None:
        self.host = Host(
            "h", B, clock=lambda: 0.0, config=config, secret=b"k" * 16, rng=random.Random(1)
        )
        self.sent: list[bytes] = []
        self.host.attach(self.sent.append, None)
        self.got: dict[int, list[bytes | str]] = {}

        def on_accept(h: Any) -> None:
            port = h.conn.remote[1]
            log = self.got.setdefault(port, [])

            def on_event(h: Any, e: object) -> None:
                data = h.recv()
                if data and on_data is not None:
                    on_data(port)
                if data:
                    log.append(data)
                elif h.conn.state.name == "CLOSE_WAIT" and "eof" not in log:
                    log.append("eof")

            h.on_event = on_event

        self.host.listen(80, on_accept=on_accept)

    def open(self, port: int) -> int:
        """Complete a handshake from client ``port``; the server's next sequence number."""
        self.host.receive_packet(wire(TCPSegment(port, 80, 0, 0, Flags.SYN, 65535)))
        synack = sent_segments(self.sent)[-1]
        assert synack.syn and synack.has_ack
        self.host.receive_packet(wire(TCPSegment(port, 80, 1, synack.seq + 1, Flags.ACK, 65535)))
        self.sent.clear()
        return int(synack.seq + 1)

    def data(self, port: int, seq: int, ack: int, payload: bytes, fin: bool = False) -> None:
        flags = Flags.ACK | (Flags.FIN if fin else Flags(0))
        seg = TCPSegment(port, 80, seq, ack, flags, 65535, payload=payload)
        self.host.receive_packet(wire(seg))


def test_a_batch_of_segments_gets_one_ack_and_its_events_after_the_batch() -> None:
    chunks = [bytes([i]) * 1000 for i in range(8)]

    def run(batched: bool) -> tuple[list[TCPSegment], bytes]:
        s = Server()
        ack = s.open(40000)
        if batched:
            with s.host.receiving_batch():
                for i, c in enumerate(chunks):
                    s.data(40000, 1 + 1000 * i, ack, c)
                    assert s.sent == []  # nothing sent inside the batch ...
                    assert s.got.get(40000, []) == []  # ... and nothing handed up
        else:
            for i, c in enumerate(chunks):
                s.data(40000, 1 + 1000 * i, ack, c)
        return sent_segments(s.sent), b"".join(x for x in s.got[40000] if isinstance(x, bytes))

    acks, data = run(batched=True)
    assert data == b"".join(chunks)
    assert [(a.ack, a.payload) for a in acks] == [(8001, b"")]  # one ACK for all of it
    one_by_one, data = run(batched=False)
    assert data == b"".join(chunks)
    assert len(one_by_one) >= 4 and one_by_one[-1].ack == 8001  # quick ACKs at the start


def test_a_segment_that_changes_the_state_is_served_at_once() -> None:
    s = Server()
    ack = s.open(40001)
    with s.host.receiving_batch():
        s.data(40001, 1, ack, b"x" * 500)
        assert s.sent == []
        s.data(40001, 501, ack, b"y" * 500, fin=True)  # ESTABLISHED -> CLOSE_WAIT
        # Served at once, with what the batch held back: one ACK of data and FIN.
        assert [(a.ack, a.fin) for a in sent_segments(s.sent)] == [(1002, False)]
        assert s.got[40001] == [b"x" * 500 + b"y" * 500, "eof"]
    assert len(s.sent) == 1  # nothing left for the end of the batch


def test_every_connection_is_served_when_an_application_callback_fails() -> None:
    def on_data(port: int) -> None:
        if port == 40002:
            raise RuntimeError("application bug")

    s = Server(on_data)
    acks = {p: s.open(p) for p in (40002, 40003)}
    with pytest.raises(RuntimeError, match="application bug"), s.host.receiving_batch():
        for p in (40002, 40003):
            s.data(p, 1, acks[p], b"z" * 100)
    # The other connection got its ACK and its data although the first one's callback
    # raised during the flush.
    sent = sent_segments(s.sent)
    assert {(a.dst_port, a.ack) for a in sent} >= {(40003, 101)}
    assert s.got[40003] == [b"z" * 100]


def test_backlog_ack_defer_off_acknowledges_inside_the_batch() -> None:
    """net.ipv4.tcp_backlog_ack_defer=0: every segment is served as it comes."""
    s = Server(config=TCPConfig(backlog_ack_defer=False))
    ack = s.open(40004)
    with s.host.receiving_batch():
        s.data(40004, 1, ack, b"a" * 300)
        assert [a.ack for a in sent_segments(s.sent)] == [301]  # a quick ACK, at once
        assert s.got[40004] == [b"a" * 300]
