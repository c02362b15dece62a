"""The application's handle on one TCP connection of a :class:`~synack.stack.host.Host`.

A low-level, callback-driven API: every call goes straight to the sans-IO connection and
then lets the host flush its output.  The blocking ``socket``-like API and the asyncio
streams are built on top of this.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from synack.tcp import events as ev
from synack.tcp.states import State

if TYPE_CHECKING:
    from synack.stack.host import Host
    from synack.stack.listener import Listener
    from synack.tcp.connection import Connection

EventCallback = Callable[["TcpHandle", ev.Event], None]


class TcpHandle:
    def __init__(self, host: Host, conn: Connection) -> None:
        self.host = host
        self.conn = conn
        self.listener: Listener | None = None
        self.on_event: EventCallback | None = None

    def __repr__(self) -> str:
        return f"<TcpHandle {self.host.name} {self.conn.describe()} {self.conn.state}>"

    @property
    def state(self) -> State:
        return self.conn.state

    @property
    def local(self) -> tuple[str, int]:
        return self.conn.local

    @property
    def remote(self) -> tuple[str, int] | None:
        return self.conn.remote

    @property
    def error(self) -> int | None:
        return self.conn.error

    @property
    def at_eof(self) -> bool:
        return self.conn.at_eof

    def deliver(self, event: ev.Event) -> None:
        if self.on_event is not None:
            self.on_event(self, event)

    # --- calls ---------------------------------------------------------------------

    def send(self, data: bytes | bytearray | memoryview) -> int:
        n = self.conn.send(data, self.host.clock())
        self.host._pump(self.conn)
        return n

    def recv(self, max_bytes: int = 1 << 30) -> bytes:
        data = self.conn.recv(max_bytes, self.host.clock())
        self.host._pump(self.conn)
        return data

    def shutdown(self) -> None:
        """Shut down the write side (SHUT_WR): send FIN, keep reading."""
        self.conn.shutdown(self.host.clock())
        self.host._pump(self.conn)

    def close(self) -> None:
        self.conn.close(self.host.clock())
        self.host._pump(self.conn)

    def configure(self, **changes: object) -> None:
        """Change options of the live connection (setsockopt), then let it act on them."""
        self.conn.configure(self.host.clock(), **changes)
        self.host._pump(self.conn)

    def abort(self) -> None:
        self.conn.abort(self.host.clock())
        self.host._pump(self.conn)
