"""asyncio connections and servers on a synack host, and the stream helpers on top.

:func:`open_connection` and :func:`start_server` mirror :func:`asyncio.open_connection`
and :func:`asyncio.start_server` and return the real :class:`asyncio.StreamReader` /
:class:`asyncio.StreamWriter` (built the way asyncio builds them, over a
:class:`~synack.asyncio.transport.SynackTransport`), so stream code runs unchanged.
The synack host is given with ``stack=``, or taken from the running loop when it is a
:class:`~synack.asyncio.loop.SynackEventLoop` that knows hosts.
"""

from __future__ import annotations

import asyncio
import errno
import os
from collections.abc import Awaitable, Callable
from typing import Any

from synack.api.address import parse_address
from synack.asyncio.transport import SynackTransport
from synack.stack.host import Host
from synack.stack.listener import Listener
from synack.stack.socket import TcpHandle
from synack.tcp import events as ev
from synack.tcp.config import TCPConfig

__all__ = [
    "SynackServer",
    "create_connection",
    "create_server",
    "open_connection",
    "start_server",
]

ProtocolFactory = Callable[[], asyncio.BaseProtocol]
ClientConnected = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None] | None]
_LIMIT = 2**16  # asyncio.streams._DEFAULT_LIMIT


def _pick_host(stack: Host | None, ip: str | None = None) -> Host:
    if stack is not None:
        return stack
    from synack.asyncio.loop import SynackEventLoop

    loop = asyncio.get_running_loop()
    if isinstance(loop, SynackEventLoop):
        return loop.pick_host(ip)
    raise ValueError("no synack host: pass stack=Host, or run on a SynackEventLoop")


async def create_connection(
    protocol_factory: ProtocolFactory,
    host: str,
    port: int,
    *,
    stack: Host | None = None,
    local_port: int | None = None,
    config: TCPConfig | None = None,
) -> tuple[SynackTransport, asyncio.BaseProtocol]:
    """Connect to ``(host, port)`` from a synack host; like ``loop.create_connection``."""
    loop = asyncio.get_running_loop()
    ip, port = parse_address((host, port))
    h = _pick_host(stack).connect(ip, port, local_port=local_port, config=config)
    done: asyncio.Future[None] = loop.create_future()

    def on_event(handle: TcpHandle, event: ev.Event) -> None:
        if done.done():
            return
        if isinstance(event, ev.Connected):
            done.set_result(None)
        elif isinstance(event, ev.Closed):
            code = handle.error or errno.ECONNREFUSED
            done.set_exception(OSError(code, os.strerror(code)))

    h.on_event = on_event
    try:
        await done
    except asyncio.CancelledError:
        h.on_event = None
        h.abort()
        raise
    protocol = protocol_factory()
    transport = SynackTransport(loop, h, protocol)
    transport.start()
    return transport, protocol


class SynackServer(asyncio.AbstractServer):
    """A listening port on a synack host, as ``loop.create_server`` returns it."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, host: Host, protocol_factory: ProtocolFactory
    ) -> None:
        self._loop = loop
        self.host = host
        self._factory = protocol_factory
        self.listener: Listener | None = None
        self._closed: asyncio.Future[None] = loop.create_future()
        self.transports: list[SynackTransport] = []

    @property
    def port(self) -> int:
        assert self.listener is not None
        return self.listener.port

    @property
    def sockets(self) -> tuple[()]:
        return ()  # no kernel sockets: the port is synack's

    def _accept(self, handle: TcpHandle) -> None:
        transport = SynackTransport(self._loop, handle, self._factory())
        self.transports = [t for t in self.transports if not t.is_closing()]
        self.transports.append(transport)
        transport.start()

    def close(self) -> None:
        if self.listener is not None and not self.listener.closed:
            self.listener.close()
        if not self._closed.done():
            self._closed.set_result(None)

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def is_serving(self) -> bool:
        return not self._closed.done()

    async def start_serving(self) -> None:
        return None  # serving starts with listen

    async def serve_forever(self) -> None:
        try:
            await asyncio.shield(self._closed)
        except asyncio.CancelledError:
            self.close()
            raise

    async def wait_closed(self) -> None:
        await asyncio.shield(self._closed)

    async def __aenter__(self) -> SynackServer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
        await self.wait_closed()


async def create_server(
    protocol_factory: ProtocolFactory,
    host: str | None = None,
    port: int = 0,
    *,
    stack: Host | None = None,
    backlog: int = 100,
    config: TCPConfig | None = None,
) -> SynackServer:
    """Listen on ``port`` (0: an ephemeral one) of a synack host; like ``loop.create_server``."""
    loop = asyncio.get_running_loop()
    ip = parse_address((host or "", port))[0]
    target = _pick_host(stack, None if ip == "0.0.0.0" else ip)
    if port == 0:
        free = target.ports.allocate(lambda p: p in target.listeners or target.local_port_used(p))
        if free is None:
            raise OSError(errno.EADDRINUSE, os.strerror(errno.EADDRINUSE))
        port = free
    server = SynackServer(loop, target, protocol_factory)
    server.listener = target.listen(port, backlog, on_accept=server._accept, config=config)
    return server


async def open_connection(
    host: str,
    port: int,
    *,
    stack: Host | None = None,
    limit: int = _LIMIT,
    **kwargs: Any,
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Like :func:`asyncio.open_connection`, on a synack host."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=limit, loop=loop)
    protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
    transport, _ = await create_connection(lambda: protocol, host, port, stack=stack, **kwargs)
    writer = asyncio.StreamWriter(transport, protocol, reader, loop)
    return reader, writer


async def start_server(
    client_connected_cb: ClientConnected,
    host: str | None = None,
    port: int = 0,
    *,
    stack: Host | None = None,
    limit: int = _LIMIT,
    **kwargs: Any,
) -> SynackServer:
    """Like :func:`asyncio.start_server`, on a synack host."""
    loop = asyncio.get_running_loop()

    def factory() -> asyncio.StreamReaderProtocol:
        reader = asyncio.StreamReader(limit=limit, loop=loop)
        return asyncio.StreamReaderProtocol(reader, client_connected_cb, loop=loop)

    return await create_server(factory, host, port, stack=stack, **kwargs)
