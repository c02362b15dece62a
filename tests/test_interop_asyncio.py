"""asyncio streams on synack over a TUN device, against kernel sockets."""

from __future__ import annotations

import asyncio
import hashlib
import socket
import threading

import synack.asyncio as sa
from interop_support import needs_netns, ns_fixture, recv_all  # noqa: F401
from synack.api.services import echo
from synack.link.netns import Netns

pytestmark = needs_netns


def test_kernel_client_and_synack_asyncio_echo_server(ns: Netns) -> None:
    payload = hashlib.sha256(b"seed").digest() * 20_000  # 640 kB
    loop = sa.tun_event_loop(ns)

    def kernel() -> bytes:
        k = ns.socket()
        k.settimeout(20)
        k.connect((ns.synack_ip, 7))
        sender = threading.Thread(target=lambda: (k.sendall(payload), k.shutdown(socket.SHUT_WR)))
        sender.start()
        got = recv_all(k)
        sender.join()
        k.close()
        return got

    async def main() -> bytes:
        server = await asyncio.start_server(echo, ns.synack_ip, 7)  # unmodified asyncio
        got = await asyncio.wait_for(asyncio.to_thread(kernel), 30)
        server.close()
        return got

    try:
        assert sa.run(main(), loop) == payload
    finally:
        loop.tun_link.close()  # type: ignore[attr-defined]


def test_synack_asyncio_client_to_a_kernel_server(ns: Netns) -> None:
    listener = ns.socket()
    listener.bind((ns.kernel_ip, 8000))
    listener.listen()
    listener.settimeout(20)

    def kernel() -> None:
        c, _ = listener.accept()
        c.sendall(recv_all(c).upper())
        c.close()

    loop = sa.tun_event_loop(ns)

    async def main() -> bytes:
        server = asyncio.create_task(asyncio.to_thread(kernel))
        reader, writer = await asyncio.open_connection(ns.kernel_ip, 8000)
        writer.write(b"hello kernel" * 1000)
        writer.write_eof()
        got = await asyncio.wait_for(reader.read(), 20)
        writer.close()
        await server
        return got

    try:
        assert sa.run(main(), loop) == b"HELLO KERNEL" * 1000
    finally:
        loop.tun_link.close()  # type: ignore[attr-defined]
        listener.close()
