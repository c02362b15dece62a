"""asyncio programs on synack in the simulator's virtual time."""

from __future__ import annotations

import asyncio
import time

import pytest

import synack.asyncio as sa
from synack.api.runtime import SimulationStalled
from synack.api.services import echo, http_handler, pattern
from synack.scenarios.testbed import Testbed


def run(tb: Testbed, coro):  # type: ignore[no-untyped-def]
    return sa.run(coro, sa.SimEventLoop(tb.sim, [tb.client, tb.server]))


def test_unmodified_asyncio_streams_echo_through_synack_in_virtual_time() -> None:
    tb = Testbed(1, delay=0.1)
    payload = bytes(range(256)) * 2000

    async def main() -> tuple[bytes, float, float]:
        server = await asyncio.start_server(echo, "192.0.2.2", 7)  # routed to synack
        reader, writer = await asyncio.open_connection("192.0.2.2", 7)
        start = asyncio.get_running_loop().time()
        writer.write(payload)
        await writer.drain()
        writer.write_eof()
        got = await reader.read()
        elapsed = asyncio.get_running_loop().time() - start
        writer.close()
        await writer.wait_closed()
        await asyncio.sleep(60.0)  # a minute of virtual time
        server.close()
        await server.wait_closed()
        return got, elapsed, asyncio.get_running_loop().time()

    wall = time.monotonic()
    got, elapsed, end = run(tb, main())
    assert got == payload
    assert elapsed >= 0.2  # at least one round trip of 200 ms
    assert end > 60.0 and time.monotonic() - wall < 10
    assert tb.client.connections == {}  # TIME_WAIT ran out within the sleep


def test_refused_connection_raises_connection_refused_error() -> None:
    tb = Testbed(2)

    async def main() -> None:
        await sa.open_connection("192.0.2.2", 1234, stack=tb.client)

    with pytest.raises(ConnectionRefusedError):
        run(tb, main())


def test_peer_reset_reaches_the_reader_as_connection_reset_error() -> None:
    tb = Testbed(3)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readexactly(5)
        writer.transport.abort()

    async def main() -> None:
        await sa.start_server(handler, port=9, stack=tb.server)
        reader, writer = await sa.open_connection("192.0.2.2", 9, stack=tb.client)
        writer.write(b"hello")
        await reader.read(10)

    with pytest.raises(ConnectionResetError):
        run(tb, main())


def test_http_service_answers_get_with_generated_bytes() -> None:
    tb = Testbed(4, delay=0.01)

    async def main() -> bytes:
        await asyncio.start_server(http_handler(), "192.0.2.2", 80)
        reader, writer = await asyncio.open_connection("192.0.2.2", 80)
        writer.write(b"GET /bytes/300000 HTTP/1.1\r\nHost: x\r\n\r\n")
        head = await reader.readuntil(b"\r\n\r\n")
        assert b"200 OK" in head and b"Content-Length: 300000" in head
        body = await reader.read()
        writer.close()
        return body

    assert run(tb, main()) == pattern(300_000)


def test_paused_reading_closes_the_window_and_flow_controls_the_sender() -> None:
    tb = Testbed(5, delay=0.01)
    sent = 3_000_000

    async def main() -> tuple[int, int]:
        accepted: asyncio.Queue[asyncio.StreamReader] = asyncio.Queue()

        async def keep(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await accepted.put(reader)

        await asyncio.start_server(keep, "192.0.2.2", 5000, limit=1024)
        _, writer = await asyncio.open_connection("192.0.2.2", 5000)
        reader = await accepted.get()
        writer.write(b"z" * sent)
        await asyncio.sleep(5.0)  # nobody reads: buffers fill, the window closes
        stuck = writer.transport.get_write_buffer_size()
        total = 0
        while total < sent:
            total += len(await reader.read(65536))
        await writer.drain()
        return stuck, total

    stuck, total = run(tb, main())
    assert stuck > 0  # the sender was held back, not flooded
    assert total == sent


def test_waiting_on_nothing_raises_instead_of_hanging() -> None:
    tb = Testbed(6)

    async def main() -> None:
        await asyncio.get_running_loop().create_future()

    with pytest.raises(SimulationStalled):
        run(tb, main())


def test_drain_waits_while_the_send_buffer_is_full_and_the_peer_does_not_read() -> None:
    """SO_SNDBUF bounds what the stack holds; beyond the transport's high-water mark
    drain() waits until the peer's reading makes room (issue: flow control end to end)."""
    tb = Testbed(2, delay=0.01)
    big = b"x" * 3_000_000  # far more than sndbuf + the peer's receive buffer
    times: dict[str, float] = {}

    async def slow_reader(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5.0)  # let the sender fill every buffer first
        times["reading"] = asyncio.get_running_loop().time()
        got = 0
        while chunk := await reader.read(65536):
            got += len(chunk)
        times["got"] = got
        writer.close()

    async def main() -> None:
        server = await asyncio.start_server(slow_reader, "192.0.2.2", 9)
        reader, writer = await asyncio.open_connection("192.0.2.2", 9)
        writer.write(big)
        await writer.drain()
        times["drained"] = asyncio.get_running_loop().time()
        writer.write_eof()
        await reader.read()
        writer.close()
        server.close()

    run(tb, main())
    assert times["drained"] > times["reading"]  # drain() waited for the reader
    assert times["got"] == len(big)
