"""ICMP echo and UDP between the kernel and synack over a TUN device."""

from __future__ import annotations

import socket
import struct

import pytest

from interop_support import Peer, needs_netns, needs_tool, ns_fixture  # noqa: F401
from synack.api.tun import TunStack
from synack.link.netns import Netns

pytestmark = needs_netns


def _allow_ping_sockets() -> None:
    # net.ipv4.ping_group_range is per namespace; /proc/sys/net follows the opener's.
    with open("/proc/sys/net/ipv4/ping_group_range", "w") as f:
        f.write("0 2147483647")


def _kernel_ping_socket(ns: Netns) -> socket.socket:
    """An unprivileged-style ICMP socket: the kernel writes the header and checksum."""
    ns.call(_allow_ping_sockets)
    s = ns.socket(socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
    s.settimeout(5)
    return s


def test_kernel_pings_synack_and_gets_the_same_data_back(ns: Netns) -> None:
    with TunStack(ns) as st:

        def kernel() -> list[tuple[int, int, bytes]]:
            s = _kernel_ping_socket(ns)
            replies = []
            for seq in range(3):
                data = f"synack ping {seq}".encode() * 10
                s.sendto(struct.pack("!BBHHH", 8, 0, 0, 0, seq) + data, (ns.synack_ip, 0))
                reply = s.recv(2048)
                mtype, _code, _csum, _ident, rseq = struct.unpack_from("!BBHHH", reply)
                replies.append((mtype, rseq, reply[8:]))
            s.close()
            return replies

        replies = Peer(kernel).result(st)
        assert [(t, q) for t, q, _ in replies] == [(0, 0), (0, 1), (0, 2)]
        assert [d for _, _, d in replies] == [f"synack ping {i}".encode() * 10 for i in range(3)]
        assert st.host.icmp.counters["InEchos"] == 3
        assert st.host.icmp.counters["OutEchoReps"] == 3


@needs_tool("ping")
def test_ping_command_reaches_synack(ns: Netns) -> None:
    with TunStack(ns) as st:
        peer = Peer(ns.run, ["ping", "-c", "2", "-i", "0.2", "-W", "2", ns.synack_ip])
        out = peer.result(st).stdout
        assert "2 received" in out, out


def test_kernel_udp_echo_through_synack(ns: Netns) -> None:
    with TunStack(ns) as st:
        srv = st.datagram()
        srv.bind(("", 7))
        k = ns.socket(socket.SOCK_DGRAM)
        k.settimeout(5)
        k.bind((ns.kernel_ip, 40000))
        k.sendto(b"hello over udp", (ns.synack_ip, 7))
        srv.settimeout(5)
        data, addr = srv.recvfrom(2048)
        assert (data, addr) == (b"hello over udp", (ns.kernel_ip, 40000))
        srv.sendto(data.upper(), addr)
        assert Peer(k.recvfrom, 2048).result(st) == (b"HELLO OVER UDP", (ns.synack_ip, 7))
        k.close()
        srv.close()


def test_udp_to_a_closed_synack_port_is_refused_in_the_kernel(ns: Netns) -> None:
    """synack answers with ICMP port unreachable; a connected kernel socket reports it."""
    with TunStack(ns) as st:

        def kernel() -> None:
            k = ns.socket(socket.SOCK_DGRAM)
            k.settimeout(5)
            k.connect((ns.synack_ip, 9999))
            k.send(b"anyone?")
            try:
                k.recv(100)
            finally:
                k.close()

        with pytest.raises(ConnectionRefusedError):
            Peer(kernel).result(st)
        assert st.host.udp.counters["NoPorts"] == 1
        assert st.host.icmp.counters["OutDestUnreachs"] == 1


def test_synack_udp_to_a_closed_kernel_port_is_refused(ns: Netns) -> None:
    with TunStack(ns) as st:
        u = st.datagram()
        u.connect((ns.kernel_ip, 9999))
        u.settimeout(5)
        u.send(b"anyone?")
        with pytest.raises(ConnectionRefusedError):
            u.recv(100)
        assert st.host.icmp.counters["InDestUnreachs"] == 1
