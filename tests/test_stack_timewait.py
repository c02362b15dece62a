"""TIME_WAIT kept as a small record once nobody holds the connection (synack.tcp.timewait,
Linux's timewait sockets): it answers exactly as the whole connection did, frees the
connection's memory, and ends after 2 MSL."""

from __future__ import annotations

import errno
import gc
import weakref

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synack.scenarios.apps import Client
from synack.scenarios.testbed import Testbed
from synack.stack.socket import TcpHandle
from synack.tcp import events as ev
from synack.tcp.config import TCPConfig
from synack.tcp.connection import Connection
from synack.tcp.states import State
from synack.trace.events import StateChange
from synack.wire.ip import decode_ipv4
from synack.wire.tcp import Flags, TCPSegment, decode_tcp

PORT = 80


def _serve(tb: Testbed, keep: list[TcpHandle] | None) -> list[weakref.ref[TcpHandle]]:
    """A server that answers a request and closes first (so it is the one in
    TIME_WAIT); with ``keep`` the application holds its handles, else it lets them go."""
    refs: list[weakref.ref[TcpHandle]] = []

    def on_event(h: TcpHandle, e: ev.Event) -> None:
        if isinstance(e, ev.DataReceived) and h.recv():
            h.send(b"reply")
            h.close()

    def on_accept(h: TcpHandle) -> None:
        h.on_event = on_event
        refs.append(weakref.ref(h))
        if keep is not None:
            keep.append(h)

    tb.server.listen(PORT, on_accept=on_accept)
    return refs


def _exchange(keep: bool, **config: object) -> tuple[Testbed, Client, list[TcpHandle]]:
    tb = Testbed(5, delay=0.01, config=TCPConfig().with_(**config) if config else None)
    kept: list[TcpHandle] = []
    _serve(tb, kept if keep else None)
    client = Client(tb, request=b"hello").start()
    tb.run(until=1.0)
    assert bytes(client.received) == b"reply"
    return tb, client, kept


def _server_replies(tb: Testbed, after: float) -> list[TCPSegment]:
    out = []
    for e in tb.recorder.packets("send"):
        if e.src == "server" and e.time >= after:
            ip = decode_ipv4(e.data)
            out.append(decode_tcp(ip.payload, ip.src, ip.dst))
    return out


def _retransmitted_fin(client: Client) -> TCPSegment:
    assert client.handle is not None
    c = client.handle.conn
    return TCPSegment(
        c.local[1], PORT, (c.snd_nxt - 1) & 0xFFFFFFFF, c.rcv_nxt, Flags.FIN | Flags.ACK, 1000
    )


def test_a_connection_nobody_holds_waits_as_a_small_record_and_is_freed() -> None:
    tb, client, _ = _exchange(keep=False)
    assert client.handle is not None
    key = (PORT, tb.client.ip, client.handle.conn.local[1])
    assert key not in tb.server.connections and key in tb.server.timewait
    gc.collect()
    assert not [o for o in gc.get_objects() if isinstance(o, TcpHandle) and o.host is tb.server]
    # Nothing else holds the connection either (its old timer entries are inert).
    assert not [
        o for o in gc.get_objects() if isinstance(o, Connection) and o.local == (tb.server.ip, PORT)
    ]
    ss = tb.server.ss()
    assert "TIME-WAIT" in ss and "timer:(timewait,5" in ss  # about 59 s left
    assert "TIME-WAIT" in tb.server.ss(details=True)


def test_the_record_answers_a_retransmitted_fin_as_the_connection_would() -> None:
    """The peer's FIN again (its ACK of ours was lost, say): a held connection and a
    record acknowledge it with the same segment and restart the 2 MSL alike."""
    runs = []
    for keep in (True, False):
        tb, client, _ = _exchange(keep)
        tb.client.transmit = lambda data: None  # the peer answers nothing more (no RST)
        fin = _retransmitted_fin(client)
        tb.at(2.0, lambda tb=tb, fin=fin: tb.inject(tb.client, tb.server, fin))
        tb.run(until=100.0)
        (ack,) = _server_replies(tb, 2.0)
        closed = [
            round(e.time, 6)
            for e in tb.recorder.events
            if isinstance(e, StateChange) and e.host == "server" and e.new == "CLOSED"
        ]
        runs.append(((ack.flags, ack.seq, ack.ack, ack.window, ack.options), closed))
        assert not tb.server.timewait and not tb.server.connections
    assert runs[0] == runs[1]
    (flags, *_), closed = runs[0]
    assert flags == Flags.ACK
    assert closed == [pytest.approx(2.01 + 60.0)]  # 2 MSL from the FIN's arrival


def test_both_forms_end_alike_when_the_peer_resets_after_our_ack() -> None:
    """The same FIN, and the peer (which has closed) resets our ACK: both forms close
    at once on the RST."""
    timelines = []
    for keep in (True, False):
        tb, client, _ = _exchange(keep)
        fin = _retransmitted_fin(client)
        tb.at(2.0, lambda tb=tb, fin=fin: tb.inject(tb.client, tb.server, fin))
        tb.run(until=100.0)
        timelines.append(
            [
                (round(e.time, 6), e.old, e.new)
                for e in tb.recorder.events
                if isinstance(e, StateChange) and e.host == "server"
            ]
        )
    assert timelines[0] == timelines[1]
    assert timelines[0][-1] == (pytest.approx(2.03), "TIME_WAIT", "CLOSED")


def test_the_record_ends_after_two_msl_with_the_state_change_traced() -> None:
    ends = []
    for keep in (True, False):
        tb, _, _ = _exchange(keep)
        tb.run(until=100.0)
        assert not tb.server.timewait and not tb.server.connections
        ends += [
            round(e.time, 6)
            for e in tb.recorder.events
            if isinstance(e, StateChange) and e.host == "server" and e.old == "TIME_WAIT"
        ]
    assert len(ends) == 2 and ends[0] == ends[1] and ends[0] > 60.0


def test_an_rst_ends_the_record_and_a_new_syn_may_reuse_the_four_tuple() -> None:
    tb, client, _ = _exchange(keep=False)
    assert client.handle is not None
    c = client.handle.conn
    key = (PORT, tb.client.ip, c.local[1])
    rst = TCPSegment(c.local[1], PORT, c.snd_nxt, 0, Flags.RST, 0)
    tb.at(2.0, lambda: tb.inject(tb.client, tb.server, rst))
    tb.run(until=3.0)
    assert key not in tb.server.timewait  # Linux (tcp_rfc1337 = 0): the RST ends it

    tb, client, _ = _exchange(keep=False)
    assert client.handle is not None
    c = client.handle.conn
    key = (PORT, tb.client.ip, c.local[1])
    syn = TCPSegment(c.local[1], PORT, (c.snd_nxt + 100_000) & 0xFFFFFFFF, 0, Flags.SYN, 1000)
    tb.at(2.0, lambda: tb.inject(tb.client, tb.server, syn))
    tb.run(until=2.05)
    (syn_ack,) = _server_replies(tb, 2.0)
    assert syn_ack.flags == Flags.SYN | Flags.ACK and syn_ack.ack == (syn.seq + 1) & 0xFFFFFFFF
    assert key not in tb.server.timewait  # RFC 6191: a new incarnation took the 4-tuple


def test_the_four_tuple_stays_taken_while_the_record_waits() -> None:
    tb, client, _ = _exchange(keep=False)
    assert client.handle is not None
    port = client.handle.conn.local[1]
    with pytest.raises(OSError) as info:
        tb.server.connect(tb.client.ip, port, local_port=PORT)
    assert info.value.errno == errno.EADDRNOTAVAIL


def test_a_handle_the_application_keeps_keeps_the_whole_connection() -> None:
    tb, client, kept = _exchange(keep=True)
    assert not tb.server.timewait
    (h,) = kept
    assert h.state is State.TIME_WAIT and h.conn in tb.server.connections.values()
    events: list[ev.Event] = []
    h.on_event = lambda _h, e: events.append(e)
    tb.client.transmit = lambda data: None  # no RST for the ACK below
    fin = _retransmitted_fin(client)  # a segment in TIME_WAIT: still the same connection
    tb.at(2.0, lambda: tb.inject(tb.client, tb.server, fin))
    tb.run(until=30.0)
    assert not tb.server.timewait and h.conn in tb.server.connections.values()
    tb.run(until=100.0)
    assert h.state is State.CLOSED and any(isinstance(e, ev.Closed) for e in events)


def test_a_handle_let_go_later_still_becomes_a_record() -> None:
    """A socket object dropped after its connection entered TIME_WAIT: the host
    notices within a second (at its next timer) and keeps only the record."""
    tb, _, kept = _exchange(keep=True)
    assert not tb.server.timewait
    conn = kept[0].conn
    key = (PORT, conn.remote[0], conn.remote[1]) if conn.remote else None
    kept.clear()
    del conn
    tb.run(until=5.0)  # timers run: the client's, the server's 2 MSL is not due yet
    tb.server.on_timer()
    assert key in tb.server.timewait and key not in tb.server.connections


@settings(max_examples=60, deadline=None)
@given(
    segments=st.lists(
        st.tuples(
            st.integers(0, 0x1FF),  # any flags
            st.integers(-70_000, 70_000),  # sequence number, relative to RCV.NXT
            st.integers(-70_000, 70_000),  # acknowledgment number, relative to SND.NXT
            st.integers(0, 0xFFFF),
            st.binary(max_size=64),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_any_segment_for_a_record_is_handled_without_harm(
    segments: list[tuple[int, int, int, int, bytes]],
) -> None:
    """Whatever arrives for a 4-tuple in TIME_WAIT, the host answers or drops it and ends
    with the 4-tuple either still waiting, reused by a new connection, or gone."""
    tb, client, _ = _exchange(keep=False)
    assert client.handle is not None
    c = client.handle.conn
    for i, (flags, dseq, dack, window, payload) in enumerate(segments):
        seg = TCPSegment(
            c.local[1],
            PORT,
            (c.snd_nxt + dseq) & 0xFFFFFFFF,
            (c.rcv_nxt + dack) & 0xFFFFFFFF,
            Flags(flags),
            window,
            payload=payload,
        )
        tb.at(2.0 + i * 0.001, lambda seg=seg: tb.inject(tb.client, tb.server, seg))
    tb.run(until=200.0)
    assert not tb.server.timewait
    assert all(conn.state is not State.TIME_WAIT for conn in tb.server.connections.values())


def test_a_connection_only_shut_down_stays_whole_and_reports_its_end() -> None:
    """Without close() the application may still hear from the connection (here only
    through its callback): it stays a whole connection and gets Closed after 2 MSL."""
    tb = Testbed(5, delay=0.01)
    log: list[ev.Event] = []

    def on_event(h: TcpHandle, e: ev.Event) -> None:
        log.append(e)
        if isinstance(e, ev.DataReceived) and h.recv():
            h.send(b"reply")
            h.shutdown()  # no close(): the handle is dropped, the callback stays

    tb.server.listen(PORT, on_accept=lambda h: setattr(h, "on_event", on_event))
    client = Client(tb, request=b"hello").start()
    tb.run(until=1.0)
    assert bytes(client.received) == b"reply"
    assert not tb.server.timewait
    tb.run(until=100.0)
    assert isinstance(log[-1], ev.Closed)
    assert not tb.server.connections


def test_an_ece_in_time_wait_changes_nothing_whole_or_record() -> None:
    """ECN was negotiated; an ACK with ECE reaching TIME_WAIT reduces no window, for a
    whole connection as for a record."""
    for keep in (True, False):
        tb, client, _ = _exchange(keep, ecn=1)
        fin = _retransmitted_fin(client)
        ece = TCPSegment(fin.src_port, PORT, fin.seq + 1, fin.ack, Flags.ACK | Flags.ECE, 1000)
        tb.client.transmit = lambda data: None
        tb.at(2.0, lambda tb=tb, ece=ece: tb.inject(tb.client, tb.server, ece))
        tb.run(until=3.0)
        assert tb.server.counters["TCPECNReductions"] == 0, keep
