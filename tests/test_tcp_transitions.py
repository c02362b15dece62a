"""The transition table is the truth: every listed transition can be made, and the
connection makes no transition that is not listed."""

import pytest

from synack.tcp.states import TABLE, TRANSITIONS, State, Trigger, lookup, to_dot, to_text
from synack.wire.tcp import Flags
from tcp_harness import A_ADDR, B_ADDR, Peer, handshake, seg

S, A, R, F = Flags.SYN, Flags.ACK, Flags.RST, Flags.FIN


def _syn_received(**cfg):
    b = Peer.make(B_ADDR, **cfg)
    b.conn.listen()
    b.recv_segment(seg(S, 1000, src=40000, dst=80), 0.0, A_ADDR)
    return b


def _active_syn_received():
    a = Peer.make(A_ADDR)
    a.conn.connect(B_ADDR, 0.0)
    a.flush(0.0)
    a.recv_segment(seg(S, 5000), 0.1)
    return a


def _fin_wait_1():
    a, b = handshake()
    a.conn.close(1.0)
    (fin,) = a.flush(1.0)
    return a, b, fin


def _fin_wait_2():
    a, b, fin = _fin_wait_1()
    (ack,) = b.recv_ack(fin, 1.0)
    a.recv_segment(ack, 1.0)
    return a, b


def _close_wait():
    a, b, fin = _fin_wait_1()
    b.recv_segment(fin, 1.0)
    return b, a


def _closing():
    a, b = handshake()
    a.conn.close(1.0)
    b.conn.close(1.0)
    (fb,) = b.flush(1.0)
    a.flush(1.0)
    a.recv_segment(fb, 1.0)
    return a, b


def _last_ack():
    b, a = _close_wait()
    b.conn.close(2.0)
    b.flush(2.0)
    return b, a


def _time_wait():
    a, b = _fin_wait_2()
    b.conn.close(2.0)
    (fin,) = b.flush(2.0)
    a.recv_segment(fin, 2.0)
    return a, b


def _rst(p: Peer, other: Peer) -> None:
    p.recv_segment(seg(R, p.conn.rcv_nxt), 5.0)


def _expire(p: Peer) -> None:
    while p.state not in (State.CLOSED,) and p.conn.get_timer() is not None:
        p.timer(p.conn.get_timer())


FLOWS = {
    (State.CLOSED, Trigger.PASSIVE_OPEN, State.LISTEN): lambda: Peer.make().conn.listen(),
    (State.CLOSED, Trigger.ACTIVE_OPEN, State.SYN_SENT): lambda: Peer.make().conn.connect(
        B_ADDR, 0.0
    ),
    (State.LISTEN, Trigger.RCV_SYN, State.SYN_RECEIVED): _syn_received,
    (State.LISTEN, Trigger.CLOSE, State.CLOSED): lambda: (
        (p := Peer.make()).conn.listen(),
        p.conn.close(0.0),
    ),
    (State.LISTEN, Trigger.ABORT, State.CLOSED): lambda: (
        (p := Peer.make()).conn.listen(),
        p.conn.abort(0.0),
    ),
    (State.SYN_SENT, Trigger.RCV_SYN_ACK, State.ESTABLISHED): handshake,
    (State.SYN_SENT, Trigger.RCV_SYN, State.SYN_RECEIVED): _active_syn_received,
    (State.SYN_SENT, Trigger.RCV_RST, State.CLOSED): lambda: (
        (p := Peer.make()).conn.connect(B_ADDR, 0.0),
        p.recv_segment(seg(R | A, 0, (p.conn.iss + 1) & 0xFFFFFFFF), 0.1),
    ),
    (State.SYN_SENT, Trigger.CLOSE, State.CLOSED): lambda: (
        (p := Peer.make()).conn.connect(B_ADDR, 0.0),
        p.conn.close(0.1),
    ),
    (State.SYN_SENT, Trigger.ABORT, State.CLOSED): lambda: (
        (p := Peer.make()).conn.connect(B_ADDR, 0.0),
        p.conn.abort(0.1),
    ),
    (State.SYN_SENT, Trigger.TIMEOUT, State.CLOSED): lambda: _expire(
        (p := Peer.make(), p.conn.connect(B_ADDR, 0.0))[0]
    ),
    (State.SYN_RECEIVED, Trigger.RCV_ACK_OF_SYN, State.ESTABLISHED): handshake,
    (State.SYN_RECEIVED, Trigger.CLOSE_SND_FIN, State.FIN_WAIT_1): lambda: (
        _syn_received().conn.close(0.5)
    ),
    (State.SYN_RECEIVED, Trigger.RCV_RST, State.LISTEN): lambda: _syn_received().recv_segment(
        seg(R, 1001, src=40000, dst=80), 0.1
    ),
    (State.SYN_RECEIVED, Trigger.RCV_RST, State.CLOSED): lambda: (
        _active_syn_received().recv_segment(seg(R, 5001), 0.2)
    ),
    (State.SYN_RECEIVED, Trigger.ABORT, State.CLOSED): lambda: _syn_received().conn.abort(0.5),
    (State.SYN_RECEIVED, Trigger.TIMEOUT, State.CLOSED): lambda: _expire(_syn_received()),
    (State.ESTABLISHED, Trigger.CLOSE_SND_FIN, State.FIN_WAIT_1): _fin_wait_1,
    (State.ESTABLISHED, Trigger.RCV_FIN, State.CLOSE_WAIT): _close_wait,
    (State.ESTABLISHED, Trigger.RCV_RST, State.CLOSED): lambda: _rst(*handshake()),
    (State.ESTABLISHED, Trigger.ABORT, State.CLOSED): lambda: handshake()[0].conn.abort(1.0),
    (State.ESTABLISHED, Trigger.TIMEOUT, State.CLOSED): lambda: (
        (a := handshake(retries2=1)[0]).conn.send(b"x", 1.0),
        a.flush(1.0),
        _expire(a),
    ),
    (State.FIN_WAIT_1, Trigger.RCV_ACK_OF_FIN, State.FIN_WAIT_2): _fin_wait_2,
    (State.FIN_WAIT_1, Trigger.RCV_FIN, State.CLOSING): _closing,
    (State.FIN_WAIT_1, Trigger.RCV_FIN_ACK_OF_FIN, State.TIME_WAIT): lambda: (
        (x := _fin_wait_1()),
        x[1].conn.receive_segment(x[2], 1.0),
        x[1].conn.close(1.0),
        x[0].recv_segment(x[1].flush(1.0)[0], 1.1),
    ),
    (State.FIN_WAIT_1, Trigger.RCV_RST, State.CLOSED): lambda: _rst(*_fin_wait_1()[:2]),
    (State.FIN_WAIT_1, Trigger.RCV_DATA_AFTER_CLOSE, State.CLOSED): lambda: (
        (x := _fin_wait_1()),
        x[1].conn.send(b"late", 1.0),
        x[0].recv_segment(x[1].flush(1.0)[0], 1.1),
    ),
    (State.FIN_WAIT_1, Trigger.ABORT, State.CLOSED): lambda: _fin_wait_1()[0].conn.abort(2.0),
    (State.FIN_WAIT_1, Trigger.TIMEOUT, State.CLOSED): lambda: _expire(_fin_wait_1_short_retries()),
    (State.FIN_WAIT_2, Trigger.RCV_FIN, State.TIME_WAIT): _time_wait,
    (State.FIN_WAIT_2, Trigger.RCV_RST, State.CLOSED): lambda: _rst(*_fin_wait_2()),
    (State.FIN_WAIT_2, Trigger.RCV_DATA_AFTER_CLOSE, State.CLOSED): lambda: (
        (x := _fin_wait_2()),
        x[1].conn.send(b"late", 2.0),
        x[0].recv_segment(x[1].flush(2.0)[0], 2.1),
    ),
    (State.FIN_WAIT_2, Trigger.ABORT, State.CLOSED): lambda: _fin_wait_2()[0].conn.abort(2.0),
    (State.FIN_WAIT_2, Trigger.FIN_WAIT_2_TIMEOUT, State.CLOSED): lambda: _expire(_fin_wait_2()[0]),
    (State.CLOSE_WAIT, Trigger.CLOSE_SND_FIN, State.LAST_ACK): _last_ack,
    (State.CLOSE_WAIT, Trigger.RCV_RST, State.CLOSED): lambda: _rst(*_close_wait()),
    (State.CLOSE_WAIT, Trigger.ABORT, State.CLOSED): lambda: _close_wait()[0].conn.abort(2.0),
    (State.CLOSE_WAIT, Trigger.TIMEOUT, State.CLOSED): lambda: (
        (x := _close_wait()),
        x[0].conn.send(b"x", 2.0),
        x[0].flush(2.0),
        _expire(x[0]),
    ),
    (State.CLOSING, Trigger.RCV_ACK_OF_FIN, State.TIME_WAIT): lambda: (
        (x := _closing()),
        x[0].recv_segment(seg(A, x[0].conn.rcv_nxt, x[0].conn.snd_nxt), 1.2),
    ),
    (State.CLOSING, Trigger.RCV_RST, State.CLOSED): lambda: _rst(*_closing()),
    (State.CLOSING, Trigger.ABORT, State.CLOSED): lambda: _closing()[0].conn.abort(2.0),
    (State.CLOSING, Trigger.TIMEOUT, State.CLOSED): lambda: _expire(_closing()[0]),
    (State.LAST_ACK, Trigger.RCV_ACK_OF_FIN, State.CLOSED): lambda: (
        (x := _last_ack()),
        x[0].recv_segment(seg(A, x[0].conn.rcv_nxt, x[0].conn.snd_nxt), 2.1),
    ),
    (State.LAST_ACK, Trigger.RCV_RST, State.CLOSED): lambda: _rst(*_last_ack()),
    (State.LAST_ACK, Trigger.ABORT, State.CLOSED): lambda: _last_ack()[0].conn.abort(3.0),
    (State.LAST_ACK, Trigger.TIMEOUT, State.CLOSED): lambda: _expire(_last_ack()[0]),
    (State.TIME_WAIT, Trigger.TIME_WAIT_TIMEOUT, State.CLOSED): lambda: _expire(_time_wait()[0]),
    (State.TIME_WAIT, Trigger.ABORT, State.CLOSED): lambda: _time_wait()[0].conn.abort(3.0),
    (State.TIME_WAIT, Trigger.RCV_RST, State.CLOSED): lambda: _rst(*_time_wait()),
}


def _fin_wait_1_short_retries():
    a, _ = handshake(retries2=2)
    a.conn.close(1.0)
    a.flush(1.0)
    return a


def _observed_after(flow):
    from tcp_harness import CREATED, OBSERVED

    OBSERVED.clear()
    CREATED.clear()
    flow()
    for p in CREATED:
        p.flush(0.0)  # drain events the flow left unread
    return set(OBSERVED)


@pytest.mark.parametrize(
    "transition",
    TRANSITIONS,
    ids=[f"{t.source.value}-{t.trigger.name}-{t.target.value}" for t in TRANSITIONS],
)
def test_every_documented_transition_occurs(transition):
    key = (transition.source, transition.trigger, transition.target)
    assert key in FLOWS, "no flow exercises this transition"
    observed = _observed_after(FLOWS[key])
    assert key in observed, f"expected {key}, saw {sorted(observed, key=str)}"


def test_every_observed_transition_is_documented():
    from tcp_harness import OBSERVED

    documented = {(t.source, t.trigger, t.target) for t in TRANSITIONS}
    seen: set = set()
    for flow in FLOWS.values():
        seen |= _observed_after(flow)
    assert seen, "the flows made no transitions"
    assert seen <= documented
    OBSERVED.clear()


def test_lookup_refuses_an_undocumented_transition():
    with pytest.raises(LookupError):
        lookup(State.TIME_WAIT, Trigger.RCV_SYN)
    with pytest.raises(LookupError):
        lookup(State.SYN_RECEIVED, Trigger.RCV_RST, prefer=State.ESTABLISHED)


def test_diagram_is_generated_from_the_table():
    dot = to_dot()
    text = to_text()
    for t in TRANSITIONS:
        assert f"{t.source.value} -> {t.target.value}" in dot
        assert t.trigger.value in text
    assert len(text.splitlines()) == len(TRANSITIONS)
    assert {s for (s, _) in TABLE} | {t.target for t in TRANSITIONS} == set(State)
