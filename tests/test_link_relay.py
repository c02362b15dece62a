"""synack.link.relay: two kernels joined through synack's impairment model.

Each test makes two namespaces of its own (A holds 192.0.2.1, B 192.0.2.2, each with the
other behind its TUN device) and deletes them after; the kernels' traffic crosses only
the relay."""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from interop_support import needs_netns, unique_name
from synack.link.impairment import ImpairmentConfig
from synack.link.netns import Netns
from synack.link.relay import Relay
from synack.link.tun import TunDevice

pytestmark = needs_netns

A_IP, B_IP = "192.0.2.1", "192.0.2.2"


@pytest.fixture(name="pair")
def pair_fixture() -> Iterator[tuple[Netns, Netns]]:
    with (
        Netns(unique_name(), kernel_ip=A_IP, synack_ip=B_IP, offload=False) as a,
        Netns(unique_name(), kernel_ip=B_IP, synack_ip=A_IP, offload=False) as b,
    ):
        yield a, b


def devices(a: Netns, b: Netns) -> tuple[TunDevice, TunDevice]:
    assert a.tun is not None and b.tun is not None
    return a.tun, b.tun


def relay_while(relay: Relay, work: threading.Thread, limit: float = 60.0) -> None:
    work.start()
    relay.run_for(limit, stop=lambda: not work.is_alive())
    work.join(5)
    assert not work.is_alive(), "the kernels did not finish"


def test_a_kernel_to_kernel_transfer_crosses_a_lossy_reordering_relay_intact(
    pair: tuple[Netns, Netns],
) -> None:
    a, b = pair
    lossy = ImpairmentConfig(delay=0.002, loss=0.02, reorder=0.02, reorder_delay=0.003)
    relay = Relay(*devices(a, b), lossy, lossy)
    payload = os.urandom(2_000_000)
    got: list[bytes] = []
    lst = b.socket()
    lst.bind((B_IP, 5001))
    lst.listen()

    def kernels() -> None:
        c = a.socket()
        c.settimeout(30)
        c.connect((B_IP, 5001))
        s, _ = lst.accept()
        s.settimeout(30)
        sender = threading.Thread(target=lambda: (c.sendall(payload), c.shutdown(socket.SHUT_WR)))
        sender.start()
        while chunk := s.recv(1 << 16):
            got.append(chunk)
        sender.join()
        s.close()
        c.close()

    try:
        relay_while(relay, threading.Thread(target=kernels))
    finally:
        lst.close()
        relay.close()
    assert hashlib.sha256(b"".join(got)).digest() == hashlib.sha256(payload).digest()
    assert relay.drops(0)["loss"] > 0  # the data direction did lose packets
    assert relay.stats["in_0"] > 1000 and relay.stats["out_1"] > 0


def test_the_relay_keeps_to_the_delay_it_is_given(pair: tuple[Netns, Netns]) -> None:
    """A TCP handshake across a 15 ms one-way delay takes 30 ms, within a few ms: the
    loop polls near each delivery instead of sleeping in whole milliseconds."""
    a, b = pair
    delay = ImpairmentConfig(delay=0.015)
    relay = Relay(*devices(a, b), delay, delay)
    lst = b.socket()
    lst.bind((B_IP, 5002))
    lst.listen()
    times: list[float] = []

    def kernels() -> None:
        for _ in range(5):
            c = a.socket()
            t0 = time.monotonic()
            c.connect((B_IP, 5002))  # returns when the SYN-ACK is back: one RTT
            times.append(time.monotonic() - t0)
            c.close()
            lst.accept()[0].close()

    try:
        relay_while(relay, threading.Thread(target=kernels))
    finally:
        lst.close()
        relay.close()
    best = min(times)
    assert 0.030 <= best < 0.034, times


def test_a_device_with_offload_is_refused(pair: tuple[Netns, Netns]) -> None:
    a, b = pair
    with Netns(unique_name()) as c:
        assert c.tun is not None and c.tun.offload
        with pytest.raises(ValueError, match="without offload"):
            Relay(devices(a, b)[0], c.tun)
