"""SYN floods and SYN cookies (RFC 4987 §3.6) as Linux answers them
(net.ipv4.tcp_syncookies)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from synack.api.runtime import SimRuntime
from synack.api.socket import socket
from synack.errors import UsageError
from synack.scenarios.testbed import Testbed
from synack.tcp import syncookie as sc
from synack.tcp.config import TCPConfig
from synack.tcp.states import State
from synack.wire.ip import PROTO_TCP, IPv4Packet, decode_ipv4, encode_ipv4
from synack.wire.options import MSS, Timestamps, WindowScale
from synack.wire.tcp import Flags, TCPSegment, decode_tcp, encode_tcp

SECRET = b"k" * 16
LOCAL, REMOTE = ("192.0.2.2", 80), ("192.0.2.1", 40000)


# --- the arithmetic (syncookies.c) ---------------------------------------------------


@given(st.integers(0, 2**32 - 1), st.integers(0, 3), st.floats(0, 1e6))
def test_a_cookie_returns_its_mss_index(isn, index, now):
    cookie = sc.make_cookie(SECRET, LOCAL, REMOTE, isn, index, now)
    assert sc.check_cookie(SECRET, LOCAL, REMOTE, isn, cookie, now) == index


def test_a_cookie_is_good_for_its_minute_and_the_next_only():
    cookie = sc.make_cookie(SECRET, LOCAL, REMOTE, 1000, 3, 59.0)
    assert sc.check_cookie(SECRET, LOCAL, REMOTE, 1000, cookie, 119.0) == 3  # next minute
    assert sc.check_cookie(SECRET, LOCAL, REMOTE, 1000, cookie, 120.0) is None  # 2 later


def test_a_cookie_is_bound_to_its_connection():
    cookie = sc.make_cookie(SECRET, LOCAL, REMOTE, 1000, 2, 5.0)
    assert sc.check_cookie(SECRET, LOCAL, REMOTE, 9000, cookie, 5.0) is None  # other ISN
    assert sc.check_cookie(SECRET, LOCAL, ("192.0.2.1", 40001), 1000, cookie, 5.0) is None
    assert sc.check_cookie(b"x" * 16, LOCAL, REMOTE, 1000, cookie, 5.0) is None
    assert sc.check_cookie(SECRET, LOCAL, REMOTE, 1000, cookie + 4096, 5.0) is None


def test_the_mss_is_rounded_down_to_linux_table():
    assert [sc.mss_index(m) for m in (None, 536, 1299, 1300, 1440, 1460, 9000)] == [
        0, 0, 0, 1, 2, 3, 3,
    ]  # fmt: skip


@given(st.integers(0, 2**32 - 1), st.one_of(st.none(), st.integers(0, 14)), st.booleans())
def test_options_ride_in_the_timestamp_which_never_runs_ahead(tsval, wscale, sack):
    ts = sc.encode_ts_options(tsval, wscale, sack, ecn=False)
    assert (tsval - ts) & 0xFFFFFFFF < 64  # at most 63 ms earlier, never later
    assert sc.decode_ts_options(ts) == (wscale, sack, False)


# --- a listener under a SYN flood ----------------------------------------------------


def _flood(tb: Testbed, n: int, port: int = 80) -> None:
    """SYNs from spoofed addresses that will never complete their handshakes."""
    for i in range(n):
        src = f"198.51.100.{i + 1}"
        syn = TCPSegment(20000 + i, port, 7919 * i, 0, Flags.SYN, 64240, options=(MSS(1460),))
        wire = encode_tcp(syn, src, tb.server.ip)
        tb.server.receive_packet(encode_ipv4(IPv4Packet(src, tb.server.ip, PROTO_TCP, wire)))


def _serve(tb: Testbed, backlog: int = 4):
    srv = socket(SimRuntime(tb.sim, tb.server))
    srv.bind(("", 80))
    srv.listen(backlog)
    _flood(tb, 20)
    return srv


def _connected_through_a_cookie(tb: Testbed) -> tuple[Any, Any]:
    """A listener on port 80 (its host set to send cookies for every SYN) and a client
    connected to it: (the listening socket, whose accept() gives the connection, and
    the client's socket)."""
    srv = socket(SimRuntime(tb.sim, tb.server))
    srv.bind(("", 80))
    srv.listen(8)
    cli = socket(SimRuntime(tb.sim, tb.client))
    cli.connect(("192.0.2.2", 80))
    return srv, cli


def test_a_flooded_listener_still_lets_a_real_client_in_with_a_cookie():
    tb = Testbed(seed=1)
    srv = _serve(tb)
    lst = tb.server.listeners[80]
    assert len(lst.syn_queue) == 5  # the queue took what it could, the rest got cookies
    assert tb.server.counters["SyncookiesSent"] == 15
    cli = socket(SimRuntime(tb.sim, tb.client))
    cli.settimeout(5.0)
    cli.connect(("192.0.2.2", 80))  # answered with a cookie: nothing kept until the ACK
    conn, _ = srv.accept()
    cli.sendall(b"hello")
    assert conn.recv(100) == b"hello"
    c = tb.server.counters
    assert c["SyncookiesSent"] == 16 and c["SyncookiesRecv"] == 1
    assert c["TCPReqQFullDoCookies"] == 16
    warnings = [n.text for n in tb.recorder.notes("server") if "SYN flooding" in n.text]
    assert warnings == ["Possible SYN flooding on port 80. Sending cookies."]  # once
    info = conn.info()
    # Window scale and SACK came back in the echoed timestamp; the MSS from the table.
    assert info["snd_wscale"] == 7 and info["rcv_wscale"] == 7
    assert info["snd_mss"] == 1460 - 12
    assert conn.handle is not None and conn.handle.conn.sack_ok


def test_without_cookies_the_flood_locks_a_real_client_out():
    tb = Testbed(seed=1, config=TCPConfig(syncookies=0))
    _serve(tb)
    cli = socket(SimRuntime(tb.sim, tb.client))
    cli.settimeout(5.0)
    with pytest.raises(TimeoutError):
        cli.connect(("192.0.2.2", 80))  # its SYNs find the queue full and are dropped
    c = tb.server.counters
    assert c["ListenDrops"] >= 3 and c.get("SyncookiesSent", 0) == 0


def test_an_ack_with_a_forged_cookie_is_reset():
    tb = Testbed(seed=1)
    _serve(tb)
    ack = TCPSegment(40000, 80, 5000, 123456, Flags.ACK, 1000)
    tb.at(0.0, lambda: tb.inject(tb.client, tb.server, ack))
    tb.run(until=1.0)
    assert tb.server.counters["SyncookiesFailed"] == 1
    replies = [
        decode_tcp(*(lambda ip: (ip.payload, ip.src, ip.dst))(decode_ipv4(p.data)))
        for p in tb.recorder.packets("send")
        if p.src == "server"
    ]
    assert any(r.flags == Flags.RST and r.seq == 123456 for r in replies)


def test_syncookies_2_keeps_no_state_for_any_syn_and_without_timestamps_loses_options():
    tb = Testbed(seed=1, config=TCPConfig(syncookies=2, timestamps=False))
    srv, cli = _connected_through_a_cookie(tb)
    conn, _ = srv.accept()
    lst = tb.server.listeners[80]
    assert tb.server.counters["SyncookiesRecv"] == 1 and not lst.syn_queue
    assert not any("SYN flooding" in n.text for n in tb.recorder.notes("server"))
    info = conn.info()
    assert info["snd_wscale"] == 0 and info["rcv_wscale"] == 0  # nowhere to keep them
    assert conn.handle is not None and not conn.handle.conn.sack_ok
    assert conn.handle.conn.state is State.ESTABLISHED
    cli.sendall(b"x" * 5000)
    got = b""
    while len(got) < 5000:
        got += conn.recv(5000)
    assert got == b"x" * 5000


def test_the_cookie_synack_carries_the_options_in_its_tsval():
    tb = Testbed(seed=1, config=TCPConfig(syncookies=2))
    _connected_through_a_cookie(tb)
    synacks = []
    for p in tb.recorder.packets("send"):
        ip = decode_ipv4(p.data)
        seg = decode_tcp(ip.payload, ip.src, ip.dst)
        if seg.syn and seg.has_ack:
            synacks.append(seg)
    (synack,) = synacks
    ts = next(o for o in synack.options if isinstance(o, Timestamps))
    assert sc.decode_ts_options(ts.val) == (7, True, False)


def test_the_syncookies_setting_is_checked():
    with pytest.raises(UsageError):
        TCPConfig(syncookies=3)


def test_the_flood_demo_shows_cookies_letting_the_client_in_and_their_absence_not():
    from synack.scenarios.synflood import run_flood

    with_cookies = run_flood(100, backlog=8)
    assert with_cookies.connected_at == pytest.approx(0.2)  # one round trip after 0.1 s
    assert with_cookies.syn_queue == 9  # backlog + 1 flood entries, the rest got cookies
    report = with_cookies.report()
    assert "Sending cookies" in report and "TcpExtSyncookiesRecv 1" in report
    without = run_flood(100, backlog=8, cookies=False)
    assert without.connected_at is None and "timed out" in (without.error or "")
    assert "Dropping request" in without.report()
    assert without.testbed.server.counters["TCPReqQFullDrop"] >= 91 + 3  # flood + retries


def test_the_counter_and_labels_count_whatever_the_secret_length():
    for secret in (b"s" * 16, b"s" * 32, b"s" * 64):
        cookie = sc.make_cookie(secret, LOCAL, REMOTE, 1000, 3, 0.0)
        assert sc.check_cookie(secret, LOCAL, REMOTE, 1000, cookie, 30.0) == 3
        assert sc.check_cookie(secret, LOCAL, REMOTE, 1000, cookie, 300.0) is None  # expired
        later = (cookie + (5 << sc.COOKIEBITS)) & 0xFFFFFFFF  # forged minute counter
        assert sc.check_cookie(secret, LOCAL, REMOTE, 1000, later, 300.0) is None


CLIENT = "203.0.113.5"  # a client that is only packets here (nothing answers for it)


def _to_server(tb: Testbed, seg: TCPSegment, src: str = CLIENT) -> None:
    wire = encode_tcp(seg, src, tb.server.ip)
    tb.server.receive_packet(encode_ipv4(IPv4Packet(src, tb.server.ip, PROTO_TCP, wire)))


def _server_sent(tb: Testbed, dst: str = CLIENT) -> list[TCPSegment]:
    out = []
    for p in tb.recorder.packets("send"):
        ip = decode_ipv4(p.data)
        if p.src == "server" and ip.dst == dst:
            out.append(decode_tcp(ip.payload, ip.src, ip.dst))
    return out


def test_an_ack_of_a_cookie_reaching_a_newer_request_still_gets_in():
    """The client's SYN got a cookie; the queue drained; its retransmitted SYN made a
    request with another ISS; then its ACK of the cookie SYN-ACK arrives.  Linux
    (tcp_check_req -> cookie_v4_check) takes it; no reset."""
    tb = Testbed(seed=1)
    lst = tb.server.listen(80, backlog=1)
    flood = [TCPSegment(2000 + i, 80, 100 * i, 0, Flags.SYN, 64240) for i in range(2)]
    for i, f in enumerate(flood):
        _to_server(tb, f, f"198.51.100.{i + 1}")
    syn = TCPSegment(40000, 80, 5000, 0, Flags.SYN, 64240, options=(MSS(1460),))
    _to_server(tb, syn)
    tb.run(until=0.01)
    (cookie_synack,) = _server_sent(tb)
    assert tb.server.counters["SyncookiesSent"] == 1
    for i, f in enumerate(flood):  # the flood's requests go away (reset by "the peer")
        rst = TCPSegment(f.src_port, 80, f.seq + 1, 0, Flags.RST, 0)
        _to_server(tb, rst, f"198.51.100.{i + 1}")
    assert not lst.syn_queue
    _to_server(tb, syn)  # retransmitted: a request now, with an ordinary ISS
    assert len(lst.syn_queue) == 1
    ack = TCPSegment(40000, 80, 5001, (cookie_synack.seq + 1) & 0xFFFFFFFF, Flags.ACK, 502)
    _to_server(tb, ack)
    tb.run(until=0.05)
    assert not any(s.rst for s in _server_sent(tb))
    assert tb.server.counters["SyncookiesRecv"] == 1 and not lst.syn_queue
    (conn,) = tb.server.connections.values()
    assert conn.state is State.ESTABLISHED and conn.iss == cookie_synack.seq


def test_a_window_scale_above_14_is_clamped_in_the_cookie():
    tb = Testbed(seed=1, config=TCPConfig(syncookies=2))
    tb.server.listen(80)
    opts = (MSS(1460), Timestamps(77, 0), WindowScale(15))
    _to_server(tb, TCPSegment(40000, 80, 5000, 0, Flags.SYN, 64240, options=opts))
    tb.run(until=0.01)
    (synack,) = _server_sent(tb)
    ts = next(o for o in synack.options if isinstance(o, Timestamps))
    assert sc.decode_ts_options(ts.val) == (14, False, False)  # RFC 7323 §2.3


def test_a_cookie_connection_counts_only_the_segments_on_the_wire():
    tb = Testbed(seed=1, config=TCPConfig(syncookies=2))
    srv, _ = _connected_through_a_cookie(tb)
    conn, _ = srv.accept()
    sent = [p for p in tb.recorder.packets("send") if p.src == "server"]
    assert tb.server.counters["OutSegs"] == len(sent) == 1  # the cookie SYN-ACK
    info = conn.info()
    assert info["segs_in"] == 1 and info["segs_out"] == 0  # the ACK; nothing sent yet
