"""Small applications the scenarios run on their hosts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from synack.scenarios.testbed import Testbed
from synack.stack.host import Host
from synack.stack.socket import TcpHandle
from synack.tcp import events as ev


class Writer:
    """Writes a message that may not fit the send buffer at once: the rest goes out as
    SendBufferSpace events report room, and an action (close, shutdown) can wait for the
    last byte to be written."""

    def __init__(self) -> None:
        self.pending: dict[TcpHandle, bytearray] = {}
        self.after: dict[TcpHandle, Callable[[], None]] = {}

    def write(self, h: TcpHandle, data: bytes) -> None:
        buf = self.pending.setdefault(h, bytearray())
        buf += data
        self.flush(h)

    def flush(self, h: TcpHandle) -> None:
        buf = self.pending.get(h)
        if buf:
            room = h.conn.sndbuf.free  # offer only what fits: no copy of the whole rest
            if room:
                n = h.send(bytes(memoryview(buf)[:room]))
                del buf[:n]
        if not buf and h in self.after:
            self.after.pop(h)()

    def then(self, h: TcpHandle, action: Callable[[], None]) -> None:
        """Run ``action`` once everything written to ``h`` is in its send buffer."""
        if self.pending.get(h):
            self.after[h] = action
        else:
            action()


@dataclass
class Server:
    """Listens on a port; answers each request with ``reply``; closes its side
    ``close_after`` seconds after the peer's FIN (0: at once, merging ACK and FIN;
    None: never, leaving the connection in CLOSE_WAIT)."""

    tb: Testbed
    port: int = 80
    reply: bytes | None = None
    close_after: float | None = 0.0
    request_size: int | None = None  # reply once this many bytes arrived (default: any)
    received: bytearray = field(default_factory=bytearray)
    handles: list[TcpHandle] = field(default_factory=list)
    on_connection: Callable[[TcpHandle], None] | None = None
    writer: Writer = field(default_factory=Writer)

    def start(self, host: Host | None = None, iss: int | None = None) -> Server:
        (host or self.tb.server).listen(self.port, on_accept=self._accept, iss=iss)
        return self

    def _accept(self, h: TcpHandle) -> None:
        self.handles.append(h)
        h.on_event = self._event
        if self.on_connection is not None:
            self.on_connection(h)

    def _event(self, h: TcpHandle, e: ev.Event) -> None:
        if isinstance(e, ev.DataReceived):
            data = h.recv()
            before = len(self.received)
            self.received += data
            want = self.request_size or 1
            if data and self.reply is not None and before < want <= len(self.received):
                self.writer.write(h, self.reply)
        elif isinstance(e, ev.SendBufferSpace):
            self.writer.flush(h)
        elif isinstance(e, ev.PeerClosed):
            if self.close_after == 0.0:
                self.writer.then(h, h.close)
            elif self.close_after is not None:
                self.tb.sim.call_later(self.close_after, lambda: self.writer.then(h, h.close))


@dataclass
class Client:
    """Connects; sends ``request`` once connected; closes ``close_after`` seconds after
    the reply (or after connecting, if no reply is expected)."""

    tb: Testbed
    port: int = 80
    request: bytes | None = None
    expect_reply: bool = True
    close_after: float | None = 0.0
    shutdown_after_request: bool = False
    expect_bytes: int | None = None  # close only once this many bytes have arrived
    send_early: bool = False  # write the request in SYN_SENT, before the handshake ends
    local_port: int | None = None
    iss: int | None = None
    received: bytearray = field(default_factory=bytearray)
    handle: TcpHandle | None = None
    error: str | None = None
    writer: Writer = field(default_factory=Writer)

    def start(self, at: float = 0.0) -> Client:
        self.tb.at(at, self._connect)
        return self

    def start_now(self) -> None:
        self._connect()

    def _connect(self) -> None:
        self.handle = self.tb.client.connect(
            self.tb.server.ip, self.port, local_port=self.local_port, iss=self.iss
        )
        self.handle.on_event = self._event
        if self.send_early and self.request is not None:
            self.writer.write(self.handle, self.request)

    def _close_later(self, h: TcpHandle) -> None:
        if self.close_after == 0.0:
            self.writer.then(h, h.close)
        elif self.close_after is not None:
            self.tb.sim.call_later(self.close_after, lambda: self.writer.then(h, h.close))

    def _event(self, h: TcpHandle, e: ev.Event) -> None:
        if isinstance(e, ev.Connected):
            if self.request is not None and not self.send_early:
                self.writer.write(h, self.request)
                if self.shutdown_after_request:
                    self.writer.then(h, h.shutdown)
            if not self.expect_reply:
                self._close_later(h)
        elif isinstance(e, ev.DataReceived):
            data = h.recv()
            self.received += data
            enough = self.expect_bytes is None or len(self.received) >= self.expect_bytes
            if data and enough and self.expect_reply and not self.shutdown_after_request:
                self._close_later(h)
        elif isinstance(e, ev.SendBufferSpace):
            self.writer.flush(h)
        elif isinstance(e, ev.PeerClosed) and self.shutdown_after_request:
            h.close()
        elif isinstance(e, ev.ConnectionError):
            self.error = e.reason
