"""synack against the Linux kernel's TCP over a TUN device, in a namespace per test.

Bulk transfers move 10 MB each way, as the issue asks (set SYNACK_INTEROP_BYTES to
change it), clean and under synack's own 2 % loss plus reordering.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import struct
import time
from typing import Any

import pytest

from interop_support import Peer, needs_netns, ns_fixture, recv_all  # noqa: F401
from synack.api.tun import TunStack
from synack.link.impairment import ImpairmentConfig
from synack.link.netns import Netns
from synack.tcp.config import TCPConfig
from synack.trace.recorder import Recorder

pytestmark = needs_netns

MB = 1_000_000
BULK = int(os.environ.get("SYNACK_INTEROP_BYTES", 10 * MB))
PORT = 5001


def payload(n: int, salt: bytes = b"") -> bytes:
    """n bytes that are different at every offset (a shifted block would be noticed)."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(salt + i.to_bytes(8, "big")).digest()
        i += 1
    return bytes(out[:n])


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def kernel_listener(ns: Netns, port: int = PORT) -> socket.socket:
    ls = ns.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((ns.kernel_ip, port))
    ls.listen()
    ls.settimeout(20)
    return ls


def kernel_client(ns: Netns, port: int = PORT) -> socket.socket:
    k = ns.socket()
    k.settimeout(20)
    k.connect((ns.synack_ip, port))
    return k


def ss_established(ns: Netns) -> str:
    return ns.run(["ss", "-tin", "state", "established"]).stdout


def kernel_tcp_info(k: socket.socket) -> dict[str, int]:
    """The kernel's TCP_INFO for its socket (struct tcp_info, linux/tcp.h)."""
    raw = k.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    options, wscales = raw[5], raw[6]
    snd_mss = struct.unpack_from("I", raw, 16)[0]
    return {
        "ts": options & 1,  # TCPI_OPT_TIMESTAMPS
        "sack": options & 2,  # TCPI_OPT_SACK
        "wscale": options & 4,  # TCPI_OPT_WSCALE
        "snd_wscale": wscales & 0x0F,
        "rcv_wscale": wscales >> 4,
        "snd_mss": snd_mss,
    }


# --- handshake ------------------------------------------------------------------------


def test_kernel_client_negotiates_mss_wscale_sack_and_timestamps(ns: Netns) -> None:
    with TunStack(ns) as st:
        conn, k = _connected_pair(ns, st)
        assert conn.getpeername() == k.getsockname()
        # The kernel's view (ss, and TCP_INFO, since this ss does not print ts/sack):
        # timestamps and SACK on, our window scale (7) as its send shift, and an MSS of
        # 1460 less the 12 bytes of the timestamp option.
        view = ss_established(ns)
        assert re.search(r"wscale:7,\d+", view) and "mss:1448" in view, view
        ki = kernel_tcp_info(k)
        assert ki["ts"] and ki["sack"] and ki["wscale"], ki
        assert ki["snd_wscale"] == 7 and ki["snd_mss"] == 1448, ki
        info = conn.info()
        assert info["state"] == "ESTABLISHED"
        assert info["snd_mss"] == 1448
        kernel_shift = int(re.search(r"wscale:7,(\d+)", view).group(1))  # type: ignore[union-attr]
        assert info["snd_wscale"] == kernel_shift and info["rcv_wscale"] == 7
        k.close()
        conn.close()


def test_synack_client_negotiates_options_with_a_kernel_server(ns: Netns) -> None:
    ls = kernel_listener(ns)
    with TunStack(ns) as st:
        peer = Peer(lambda: ls.accept()[0])
        c = st.stream()
        c.settimeout(10)
        c.connect((ns.kernel_ip, PORT))
        k = peer.result(st)
        view = ss_established(ns)
        assert re.search(r"wscale:7,\d+", view) and "mss:1448" in view, view
        ki = kernel_tcp_info(k)
        assert ki["ts"] and ki["sack"] and ki["snd_wscale"] == 7, ki
        assert c.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG) == 1448
        k.close()
        c.close()
    ls.close()


def test_kernel_client_connects_through_a_syn_cookie(ns: Netns) -> None:
    """tcp_syncookies=2 on synack's side: the kernel's SYN gets a stateless cookie
    SYN-ACK; its ACK brings the cookie (and, in TSecr, the window scale and SACK) back,
    and the connection carries data with the options the kernel offered."""
    with TunStack(ns, config=TCPConfig(syncookies=2)) as st:
        conn, k = _connected_pair(ns, st)
        assert st.host.counters["SyncookiesRecv"] == 1
        ki = kernel_tcp_info(k)
        assert ki["ts"] and ki["sack"] and ki["snd_wscale"] == 7, ki
        info = conn.info()
        assert info["snd_wscale"] == ki["rcv_wscale"] and info["rcv_wscale"] == 7
        data = payload(200_000, b"cookie")
        sender = Peer(lambda: (k.sendall(data), k.shutdown(socket.SHUT_WR)))
        conn.settimeout(20)
        assert recv_all(conn) == data
        sender.result(st)
        k.close()
        conn.close()


# --- bulk transfer ---------------------------------------------------------------------


def _kernel_sends(ns: Netns, data: bytes) -> None:
    k = kernel_client(ns)
    k.sendall(data)
    k.close()


@pytest.mark.parametrize(
    "ns", [(1500, True), (1500, False)], indirect=True, ids=["offload", "no-offload"]
)
def test_kernel_to_synack_bulk_is_byte_exact(ns: Netns) -> None:
    data = payload(BULK, b"k2s")
    with TunStack(ns) as st:
        srv = st.stream()
        srv.bind(("", PORT))
        srv.listen()
        srv.settimeout(20)
        peer = Peer(_kernel_sends, ns, data)
        conn, _ = srv.accept()
        conn.settimeout(20)
        got = recv_all(conn)
        peer.result(st)
        assert len(got) == len(data) and sha(got) == sha(data)
        conn.close()
        # With offload the kernel sends TSO packets of many segments (received whole);
        # without, synack's GRO joins the wire packets read in one batch.
        assert (st.link.stats["in_gso_packets"] > 0) == ns.offload
        assert (st.link.stats["gro_packets"] > 0) == (not ns.offload)


@pytest.mark.parametrize(
    "ns", [(1500, True), (1500, False)], indirect=True, ids=["offload", "no-offload"]
)
def test_synack_to_kernel_bulk_is_byte_exact(ns: Netns) -> None:
    data = payload(BULK, b"s2k")
    ls = kernel_listener(ns)
    with TunStack(ns) as st:
        peer = Peer(lambda: recv_all(ls.accept()[0]))
        c = st.stream()
        c.settimeout(20)
        c.connect((ns.kernel_ip, PORT))
        c.sendall(data)
        c.close()
        got = peer.result(st, 60)
        assert len(got) == len(data) and sha(got) == sha(data)
        assert (st.link.stats["out_gso_packets"] > 0) == ns.offload
    ls.close()


@pytest.mark.parametrize("seed", [1, 2])
def test_bulk_both_ways_is_byte_exact_under_loss_and_reordering(ns: Netns, seed: int) -> None:
    """2% loss and 5% reordering (3 ms) in each direction, applied by synack's link."""
    bad = ImpairmentConfig(loss=0.02, reorder=0.05, reorder_delay=0.003)
    up, down = payload(BULK, b"up"), payload(BULK, b"down")

    def kernel_side() -> bytes:
        k = kernel_client(ns)
        k.settimeout(60)
        sender = Peer(lambda: (k.sendall(up), k.shutdown(socket.SHUT_WR)))
        got = recv_all(k)
        while not sender.done():
            time.sleep(0.01)
        k.close()
        return got

    with TunStack(ns, outbound=bad, inbound=bad, seed=seed) as st:
        srv = st.stream()
        srv.bind(("", PORT))
        srv.listen()
        srv.settimeout(20)
        peer = Peer(kernel_side)
        conn, _ = srv.accept()
        conn.settimeout(60)
        conn.sendall(down)
        conn.shutdown(socket.SHUT_WR)
        got_up = recv_all(conn)
        got_down = peer.result(st, 90)
        conn.close()
        assert sha(got_up) == sha(up) and sha(got_down) == sha(down)
        out_drops, in_drops = st.link.impairment_drops
        assert out_drops["loss"] > 0 and in_drops["loss"] > 0  # the impairment did act


# --- closing -------------------------------------------------------------------------------


def _connected_pair(ns: Netns, st: TunStack) -> tuple[Any, socket.socket]:
    """synack listens on PORT and a kernel client connects: (synack's accepted socket,
    the kernel's socket)."""
    srv = st.stream()
    srv.bind(("", PORT))
    srv.listen()
    srv.settimeout(10)
    peer = Peer(kernel_client, ns)
    conn, _ = srv.accept()
    conn.settimeout(10)
    srv.close()
    return conn, peer.result(st)


def test_synack_closes_first_and_ends_in_time_wait(ns: Netns) -> None:
    with TunStack(ns) as st:
        conn, k = _connected_pair(ns, st)
        handle = conn.handle  # type: ignore[attr-defined]
        conn.close()  # type: ignore[attr-defined]
        assert Peer(lambda: k.recv(10)).result(st) == b""  # the kernel saw our FIN
        k.close()
        st.loop.run_until(lambda: handle.state.value == "TIME_WAIT", 5)
        assert handle.state.value == "TIME_WAIT"


def test_kernel_closes_first_and_synack_finishes_from_last_ack(ns: Netns) -> None:
    with TunStack(ns) as st:
        conn, k = _connected_pair(ns, st)
        handle = conn.handle  # type: ignore[attr-defined]
        k.close()
        assert conn.recv(10) == b""  # type: ignore[attr-defined]
        assert handle.state.value == "CLOSE_WAIT"
        conn.close()  # type: ignore[attr-defined]
        st.loop.run_until(lambda: handle.state.value == "CLOSED", 5)
        assert handle.state.value == "CLOSED"
        assert "TIME-WAIT" in ns.run(["ss", "-tan"]).stdout  # the kernel holds TIME_WAIT


def test_simultaneous_close_goes_through_closing(ns: Netns) -> None:
    """With 100 ms each way, both FINs are in flight before either arrives."""
    slow = ImpairmentConfig(delay=0.1)
    rec = Recorder()
    with TunStack(ns, outbound=slow, inbound=slow, observers=[rec]) as st:
        conn, k = _connected_pair(ns, st)
        handle = conn.handle  # type: ignore[attr-defined]
        k.shutdown(socket.SHUT_WR)  # the kernel's FIN leaves now, arrives in 100 ms
        conn.shutdown(socket.SHUT_WR)  # type: ignore[attr-defined]
        st.loop.run_until(lambda: handle.state.value == "TIME_WAIT", 5)
        states = [c.new for c in rec.state_changes()]
        assert "CLOSING" in states and states[-1] == "TIME_WAIT", states
        k.close()
        conn.close()  # type: ignore[attr-defined]


def test_half_close_then_the_other_side_keeps_sending(ns: Netns) -> None:
    data = payload(200_000, b"half")
    with TunStack(ns) as st:
        conn, k = _connected_pair(ns, st)
        conn.shutdown(socket.SHUT_WR)  # type: ignore[attr-defined]

        def kernel() -> bytes:
            first = k.recv(10)  # EOF from synack's FIN
            k.sendall(data)
            k.close()
            return first

        peer = Peer(kernel)
        got = recv_all(conn)
        assert peer.result(st) == b""
        assert sha(got) == sha(data)
        conn.close()  # type: ignore[attr-defined]


def test_kernel_half_closes_and_synack_keeps_sending(ns: Netns) -> None:
    data = payload(200_000, b"half2")
    with TunStack(ns) as st:
        conn, k = _connected_pair(ns, st)
        k.shutdown(socket.SHUT_WR)
        assert conn.recv(10) == b""  # type: ignore[attr-defined]
        peer = Peer(recv_all, k)
        conn.sendall(data)  # type: ignore[attr-defined]
        conn.close()  # type: ignore[attr-defined]
        assert sha(peer.result(st)) == sha(data)
        k.close()


# --- resets --------------------------------------------------------------------------------


def test_connect_to_a_closed_port_is_refused_both_ways(ns: Netns) -> None:
    with TunStack(ns) as st:
        c = st.stream()
        c.settimeout(10)
        with pytest.raises(ConnectionRefusedError):
            c.connect((ns.kernel_ip, 9))  # nobody listens in the kernel
        c.close()

        def kernel() -> None:
            k = ns.socket()
            k.settimeout(10)
            k.connect((ns.synack_ip, 9))  # nobody listens on synack

        with pytest.raises(ConnectionRefusedError):
            Peer(kernel).result(st)
        assert st.host.counters["OutRsts"] >= 1


def test_synack_abort_mid_transfer_resets_the_kernel(ns: Netns) -> None:
    with TunStack(ns) as st:
        conn, k = _connected_pair(ns, st)
        conn.sendall(payload(100_000))  # type: ignore[attr-defined]
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # type: ignore[attr-defined]
        conn.close()  # type: ignore[attr-defined]  # RST

        def kernel() -> int:
            got = 0
            while data := k.recv(65536):
                got += len(data)
            return got

        with pytest.raises(ConnectionResetError):
            Peer(kernel).result(st)


def test_kernel_abort_mid_transfer_resets_synack(ns: Netns) -> None:
    with TunStack(ns) as st:
        conn, k = _connected_pair(ns, st)
        Peer(k.sendall, payload(50_000)).result(st)
        k.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        k.close()  # RST mid-stream
        got = b""
        with pytest.raises(ConnectionResetError):
            while data := conn.recv(65536):  # type: ignore[attr-defined]
                got += data
        assert conn.recv(10) == b""  # type: ignore[attr-defined]  # reported once, then EOF
