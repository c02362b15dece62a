"""The real-time loop, the deadline scheduler and the TUN link, without root.

Two TunLinks joined by a datagram socketpair stand in for a TUN device (one read, one
packet), so two synack hosts talk in real time through the same code the kernel tests
use, impairments included.
"""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest

from synack.api.runtime import RealtimeRuntime
from synack.api.socket import Socket
from synack.link.impairment import ImpairmentConfig
from synack.link.realtime import ReactorScheduler, RealtimeLoop
from synack.link.tun import TunDevice
from synack.link.tunlink import TunLink
from synack.stack.host import Host
from synack.trace.recorder import Recorder


def test_timers_run_in_deadline_order_and_cancelled_ones_never() -> None:
    loop = RealtimeLoop()
    ran: list[str] = []
    now = loop.time()
    loop.call_at(now + 0.02, ran.append, "b")
    loop.call_at(now + 0.01, ran.append, "a")
    loop.call_at(now + 0.015, ran.append, "x").cancel()
    loop.call_soon(ran.append, "first")
    assert loop.run_until(lambda: len(ran) == 3, 1.0)
    assert ran == ["first", "a", "b"]
    loop.close()


def test_run_until_gives_up_at_the_timeout_without_spinning() -> None:
    loop = RealtimeLoop()
    loop.call_later(10.0, lambda: None)  # something to wait for, far away
    t0 = time.monotonic()
    assert not loop.run_until(lambda: False, 0.05)
    assert 0.04 <= time.monotonic() - t0 < 0.5
    assert loop.wakeups <= 3  # it slept in select, it did not poll
    loop.close()


def test_a_readable_descriptor_wakes_the_loop_and_another_thread_can_too() -> None:
    loop = RealtimeLoop()
    r, w = os.pipe()
    got: list[bytes] = []
    loop.add_reader(r, lambda: got.append(os.read(r, 100)))
    threading.Timer(0.02, os.write, (w, b"ping")).start()
    assert loop.run_until(lambda: bool(got), 2.0)
    assert got == [b"ping"]
    assert loop.remove_reader(r)
    flag: list[int] = []
    threading.Timer(0.02, loop.call_soon_threadsafe, (flag.append, 1)).start()
    t0 = time.monotonic()
    assert loop.run_until(lambda: bool(flag), 5.0)
    assert time.monotonic() - t0 < 1.0
    os.close(r)
    os.close(w)
    loop.close()


def test_scheduler_keeps_one_timer_when_deadlines_move_later() -> None:
    loop = RealtimeLoop()
    fired: list[float] = []
    sched = ReactorScheduler(loop, lambda: fired.append(loop.time()))
    start = loop.time()
    for i in range(50):  # an RTO pushed back by every ACK
        sched.schedule(start + 0.01 + i * 0.001)
    assert len([t for t in loop._timers if not t[2].cancelled]) == 1
    assert loop.run_until(lambda: bool(fired), 1.0)
    assert fired[0] >= start + 0.059  # it fired at the last deadline, not the first
    sched.schedule(loop.time() + 0.5)
    sched.schedule(loop.time() + 0.01)  # earlier: replaces the timer
    assert loop.run_until(lambda: len(fired) == 2, 0.3)
    sched.schedule(None)
    assert not loop.run_until(lambda: len(fired) == 3, 0.05)
    loop.close()


# --- two hosts over a socketpair, through TunLink ------------------------------------------


def _pair(
    loop: RealtimeLoop,
    impair: ImpairmentConfig | None = None,
    observers: list[Recorder] | None = None,
) -> tuple[Host, Host, TunLink, TunLink]:
    a_sock, b_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    a_sock.setblocking(False)
    b_sock.setblocking(False)
    hosts = []
    links = []
    for name, ip, sock in (("a", "192.0.2.1", a_sock), ("b", "192.0.2.2", b_sock)):
        h = Host(name, ip, clock=loop.time, observers=list(observers or []))
        dev = TunDevice(sock.detach(), f"fake-{name}")
        links.append(TunLink(dev, h, loop, outbound=impair, observers=list(observers or [])))
        hosts.append(h)
    return hosts[0], hosts[1], links[0], links[1]


def _transfer(loop: RealtimeLoop, a: Host, b: Host, data: bytes) -> bytes:
    srv = Socket(RealtimeRuntime(loop, b))
    srv.bind(("", 80))
    srv.listen()
    cli = Socket(RealtimeRuntime(loop, a))
    cli.settimeout(20)
    cli.connect((b.ip, 80))
    conn, _ = srv.accept()
    conn.settimeout(20)
    cli.sendall(data)
    cli.shutdown(socket.SHUT_WR)
    got = bytearray()
    while chunk := conn.recv(65536):
        got += chunk
    conn.close()
    cli.close()
    return bytes(got)


def test_two_hosts_talk_in_real_time_through_tun_links() -> None:
    loop = RealtimeLoop()
    rec = Recorder()
    a, b, la, lb = _pair(loop, observers=[rec])
    data = os.urandom(300_000)
    assert _transfer(loop, a, b, data) == data
    sends = rec.packets("send")
    # Each link reports its host's packets and the ones it read from the "device".
    assert {(e.src, e.dst) for e in sends} == {
        ("a", "kernel"),
        ("kernel", "a"),
        ("b", "kernel"),
        ("kernel", "b"),
    }
    # Every packet a wrote reaches b; the last ones (the close) may still be in the
    # socket when the transfer returns, so let the loop read them first.
    assert loop.run_until(lambda: la.stats["out_packets"] == lb.stats["in_packets"], 2.0)
    la.close()
    lb.close()
    loop.close()


@pytest.mark.parametrize("seed", [3, 4])
def test_impairments_wrap_the_link_and_tcp_recovers(seed: int) -> None:
    loop = RealtimeLoop()
    bad = ImpairmentConfig(loss=0.03, reorder=0.1, reorder_delay=0.002, duplicate=0.02)
    a, b, la, lb = _pair(loop, bad)
    la.set_impairments(bad, None)
    data = os.urandom(200_000)
    assert _transfer(loop, a, b, data) == data
    out_drops = la.impairment_drops[0]["loss"] + lb.impairment_drops[0]["loss"]
    assert out_drops > 0
    assert la.stats["impaired_loss"] + lb.stats["impaired_loss"] == out_drops
    loop.close()


def test_a_delayed_packet_is_written_after_its_delay() -> None:
    loop = RealtimeLoop()
    a, b, _, _ = _pair(loop, ImpairmentConfig(delay=0.05))
    t0 = loop.time()
    b.udp.bind(9)
    a.udp.bind(9).sendto(b"late", (b.ip, 9))
    ep = b.udp.endpoints[9]
    assert loop.run_until(lambda: bool(ep.queue), 1.0)
    assert loop.time() - t0 >= 0.05
    loop.close()
