"""UDP and ICMP on a host, in the simulator: echo replies, datagrams, port unreachable."""

from __future__ import annotations

import errno

import pytest

from synack.scenarios.testbed import Testbed
from synack.wire.icmp import ECHO_REPLY, PORT_UNREACHABLE, decode_icmp
from synack.wire.ip import PROTO_ICMP, PROTO_UDP, IPv4Packet, decode_ipv4, encode_ipv4
from synack.wire.udp import UDPDatagram, decode_udp, encode_udp


def test_echo_request_gets_a_reply_with_the_same_identifier_sequence_and_data() -> None:
    tb = Testbed(1)
    tb.client.icmp.ping(tb.server.ip, ident=0x1234, seq=7, data=b"abc" * 20)
    tb.run(until=1.0)
    assert len(tb.client.icmp.replies) == 1
    src, reply = tb.client.icmp.replies[0]
    assert src == tb.server.ip
    assert (reply.type, reply.ident, reply.seq, reply.payload) == (
        ECHO_REPLY,
        0x1234,
        7,
        b"abc" * 20,
    )
    assert tb.server.icmp.counters["InEchos"] == 1
    assert tb.server.icmp.counters["OutEchoReps"] == 1


def test_a_corrupted_echo_request_is_counted_and_not_answered() -> None:
    tb = Testbed(1)
    pkt = bytearray(
        encode_ipv4(IPv4Packet(tb.client.ip, tb.server.ip, PROTO_ICMP, b"\x08\0\0\0\0\1\0\1hi"))
    )
    tb.server.receive_packet(bytes(pkt))  # checksum 0: wrong
    tb.run(until=1.0)
    assert tb.server.icmp.counters["InCsumErrors"] == 1
    assert tb.server.drops["icmp_bad_checksum"] == 1
    assert tb.server.icmp.counters["OutMsgs"] == 0


def test_udp_datagrams_are_delivered_with_their_source_and_answered() -> None:
    tb = Testbed(2)
    srv = tb.server.udp.bind(53)
    cli = tb.client.udp.bind(0)
    assert 32768 <= cli.port <= 60999
    cli.sendto(b"query", (tb.server.ip, 53))
    tb.run(until=1.0)
    data, addr = srv.recvfrom() or (b"", ("", 0))
    assert (data, addr) == (b"query", (tb.client.ip, cli.port))
    srv.sendto(b"answer", addr)
    tb.run(until=2.0)
    assert cli.recvfrom() == (b"answer", (tb.server.ip, 53))
    assert (
        tb.server.udp.counters["InDatagrams"] == 1 and tb.server.udp.counters["OutDatagrams"] == 1
    )


def test_binding_a_bound_udp_port_is_eaddrinuse() -> None:
    tb = Testbed(0)
    tb.server.udp.bind(53)
    with pytest.raises(OSError) as e:
        tb.server.udp.bind(53)
    assert e.value.errno == errno.EADDRINUSE


def test_udp_to_a_closed_port_draws_icmp_port_unreachable_quoting_it() -> None:
    tb = Testbed(3)
    cli = tb.client.udp.bind(0)
    cli.sendto(b"hello?", (tb.server.ip, 9999))
    tb.run(until=1.0)
    assert tb.server.udp.counters["NoPorts"] == 1
    sent = [decode_ipv4(e.data) for e in tb.recorder.packets("send") if e.src == "server"]
    assert len(sent) == 1 and sent[0].protocol == PROTO_ICMP
    msg = decode_icmp(sent[0].payload)
    assert (msg.type, msg.code) == (3, PORT_UNREACHABLE)
    quoted = msg.payload
    assert len(quoted) == 20 + 8  # the original header and 64 bits of its data (RFC 792)
    assert int.from_bytes(quoted[22:24], "big") == 9999


def test_a_connected_udp_endpoint_learns_of_the_refusal() -> None:
    tb = Testbed(3)
    cli = tb.client.udp.bind(0)
    cli.connect((tb.server.ip, 9999))
    cli.send(b"x")
    tb.run(until=1.0)
    assert cli.take_error() == errno.ECONNREFUSED
    assert cli.take_error() is None


def test_port_unreachables_are_rate_limited_per_destination_like_linux() -> None:
    tb = Testbed(4)
    cli = tb.client.udp.bind(0)
    for _ in range(10):
        cli.sendto(b"x", (tb.server.ip, 9999))
    tb.run(until=0.5)
    assert tb.server.icmp.counters["OutDestUnreachs"] == 6  # the burst
    assert tb.server.icmp.counters["OutRateLimitHost"] == 4
    tb.run(until=2.0)
    cli.sendto(b"x", (tb.server.ip, 9999))  # a token came back after 1 s
    tb.run(until=3.0)
    assert tb.server.icmp.counters["OutDestUnreachs"] == 7


def test_no_icmp_error_about_an_icmp_error_or_a_broadcast() -> None:
    tb = Testbed(5)
    udp = encode_udp(UDPDatagram(1000, 9999, b"x"), "255.255.255.255", tb.server.ip)
    tb.server.receive_packet(
        encode_ipv4(IPv4Packet("255.255.255.255", tb.server.ip, PROTO_UDP, udp))
    )
    tb.run(until=1.0)
    assert tb.server.udp.counters["NoPorts"] == 1
    assert tb.server.icmp.counters["OutDestUnreachs"] == 0


def test_a_full_udp_receive_queue_drops_and_counts() -> None:
    tb = Testbed(6)
    srv = tb.server.udp.bind(7, rcvbuf=1000)
    cli = tb.client.udp.bind(0)
    for _ in range(5):
        cli.sendto(b"y" * 300, (tb.server.ip, 7))
    tb.run(until=1.0)
    assert len(srv.queue) == 3
    assert tb.server.udp.counters["RcvbufErrors"] == 2


def test_udp_checksums_are_verified_unless_absent() -> None:
    tb = Testbed(7)
    srv = tb.server.udp.bind(7)
    wire = bytearray(encode_udp(UDPDatagram(5, 7, b"data"), tb.client.ip, tb.server.ip))
    zero = bytes(wire[:6]) + b"\0\0" + bytes(wire[8:])  # "no checksum" (RFC 768)
    wire[-1] ^= 1
    for payload in (bytes(wire), zero):
        tb.server.receive_packet(
            encode_ipv4(IPv4Packet(tb.client.ip, tb.server.ip, PROTO_UDP, payload))
        )
    assert tb.server.udp.counters["InCsumErrors"] == 1
    assert [d for d, _ in srv.queue] == [b"data"]
    assert decode_udp(zero, tb.client.ip, tb.server.ip).payload == b"data"
