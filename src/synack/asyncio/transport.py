"""An :class:`asyncio.Transport` over one synack TCP connection.

The transport turns the connection's events into protocol calls and the protocol's
writes into ``send`` calls:

* DataReceived / PeerClosed -> ``data_received`` / ``eof_received`` (not while reading
  is paused: the bytes then stay in the connection's receive buffer, its window closes,
  and the peer is flow-controlled -- that is what ``pause_reading`` means on TCP);
* SendBufferSpace -> bytes waiting in the transport's own buffer move into the send
  buffer; the protocol is paused above the high-water mark and resumed below the low one
  (``StreamWriter.drain`` relies on this);
* ConnectionError / Closed -> ``connection_lost(exc)``.

``close`` sends FIN once the buffered bytes are in the send buffer (Linux's close: an
unread receive buffer makes it a RST instead); ``abort`` sends RST at once.  Either way
``connection_lost`` follows at the next loop iteration, and the connection finishes its
close on its own (FIN_WAIT, TIME_WAIT) without the protocol.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from synack.stack.socket import TcpHandle
from synack.tcp import events as ev
from synack.tcp.states import State

__all__ = ["SynackTransport"]

_READ_CHUNK = 256 * 1024
_SEND_CHUNK = 1 << 20


class SynackTransport(asyncio.Transport):
    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        handle: TcpHandle,
        protocol: asyncio.BaseProtocol,
        extra: dict[str, Any] | None = None,
    ) -> None:
        info = {"peername": handle.remote, "sockname": handle.local, "synack_handle": handle}
        super().__init__({**info, **(extra or {})})
        self._loop = loop
        self._handle = handle
        self._protocol = protocol
        self._buffer = bytearray()
        self._high = 64 * 1024
        self._low = 16 * 1024
        self._protocol_paused = False
        self._reading = True
        self._started = False
        self._closing = False
        self._eof_requested = False
        self._eof_sent = False
        self._eof_delivered = False
        self._lost = False
        self._exc: Exception | None = None
        handle.on_event = self._on_event

    def __repr__(self) -> str:
        return f"<SynackTransport {self._handle!r}>"

    # --- start --------------------------------------------------------------------------

    def start(self) -> None:
        """Tell the protocol it is connected, then hand it what has arrived already."""
        self._started = True
        try:
            self._protocol.connection_made(self)
        except Exception as e:
            self._fatal(e, "connection_made failed")
            return
        if self._handle.state is State.CLOSED:
            self._deliver()
            err = self._handle.error
            self._lose(OSError(err, os.strerror(err)) if err else None)
            return
        self._deliver()
        self._flush()

    # --- events from the connection -----------------------------------------------------

    def _on_event(self, handle: TcpHandle, event: ev.Event) -> None:
        if isinstance(event, ev.DataReceived | ev.PeerClosed):
            self._deliver()
        elif isinstance(event, ev.SendBufferSpace):
            self._flush()
        elif isinstance(event, ev.ConnectionError):
            self._exc = OSError(event.errno, os.strerror(event.errno))
        elif isinstance(event, ev.Closed):
            self._deliver()
            self._lose(self._exc)

    def _deliver(self) -> None:
        if not self._started or not self._reading or self._lost:
            return
        h = self._handle
        proto = self._protocol
        assert isinstance(proto, asyncio.Protocol)
        try:
            while self._reading and not self._lost:
                data = h.recv(_READ_CHUNK)
                if not data:
                    break
                proto.data_received(data)
            if self._reading and h.at_eof and not self._eof_delivered and not self._lost:
                self._eof_delivered = True
                if not proto.eof_received():
                    self.close()
        except Exception as e:
            self._fatal(e, "protocol callback failed")

    # --- reading ------------------------------------------------------------------------

    def is_reading(self) -> bool:
        return self._reading and not self._lost

    def pause_reading(self) -> None:
        self._reading = False

    def resume_reading(self) -> None:
        if not self._reading:
            self._reading = True
            self._loop.call_soon(self._deliver)

    # --- writing ------------------------------------------------------------------------

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._eof_requested:
            raise RuntimeError("Cannot call write() after write_eof()")
        if self._lost or self._closing or not data:
            return
        if not self._buffer:
            # Fast path: straight into the TCP send buffer.
            try:
                n = self._handle.send(bytes(data))
            except OSError as e:
                self._fatal(e, "write failed")
                return
            if n == len(data):
                return
            data = memoryview(data)[n:]
        self._buffer += data
        self._maybe_pause_protocol()

    def writelines(self, list_of_data: Any) -> None:
        self.write(b"".join(list_of_data))

    def _flush(self) -> None:
        buf = self._buffer
        h = self._handle
        try:
            while buf:
                chunk = bytes(buf[:_SEND_CHUNK])
                n = h.send(chunk)
                del buf[:n]
                if n < len(chunk):
                    break
        except OSError as e:
            self._fatal(e, "write failed")
            return
        if not buf:
            if self._eof_requested and not self._eof_sent:
                self._eof_sent = True
                self._shutdown()
            if self._closing and not self._lost:
                self._close_connection()
        self._maybe_resume_protocol()

    def _shutdown(self) -> None:
        try:
            self._handle.shutdown()
        except OSError as e:
            self._fatal(e, "shutdown failed")

    def _maybe_pause_protocol(self) -> None:
        if not self._protocol_paused and len(self._buffer) > self._high:
            self._protocol_paused = True
            try:
                self._protocol.pause_writing()
            except Exception as e:
                self._fatal(e, "pause_writing failed")

    def _maybe_resume_protocol(self) -> None:
        if self._protocol_paused and len(self._buffer) <= self._low:
            self._protocol_paused = False
            try:
                self._protocol.resume_writing()
            except Exception as e:
                self._fatal(e, "resume_writing failed")

    def get_write_buffer_size(self) -> int:
        return len(self._buffer)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return (self._low, self._high)

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        if high is None:
            high = 64 * 1024 if low is None else 4 * low
        if low is None:
            low = high // 4
        if not high >= low >= 0:
            raise ValueError(f"high ({high!r}) must be >= low ({low!r}) must be >= 0")
        self._high, self._low = high, low
        self._maybe_pause_protocol()

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        if self._closing or self._eof_requested:
            return
        self._eof_requested = True
        if not self._buffer:
            self._eof_sent = True
            self._shutdown()

    # --- closing ------------------------------------------------------------------------

    def is_closing(self) -> bool:
        return self._closing or self._lost

    def close(self) -> None:
        if self._closing or self._lost:
            return
        self._closing = True
        self._reading = False
        if not self._buffer:
            self._close_connection()

    def _close_connection(self) -> None:
        self._handle.close()
        self._lose(None)

    def abort(self) -> None:
        if self._lost:
            return
        self._closing = True
        self._buffer.clear()
        self._handle.abort()
        self._lose(None)

    def _fatal(self, exc: Exception, message: str) -> None:
        if not isinstance(exc, OSError):
            self._loop.call_exception_handler(
                {"message": message, "exception": exc, "transport": self}
            )
        if not self._lost:
            self._closing = True
            self._buffer.clear()
            self._handle.abort()
            self._lose(exc)

    def _lose(self, exc: Exception | None) -> None:
        if self._lost:
            return
        self._lost = True
        self._handle.on_event = None
        if self._protocol_paused:
            self._protocol_paused = False
        if self._started:
            self._loop.call_soon(self._protocol.connection_lost, exc)

    # --- the rest of the Transport interface ---------------------------------------------

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._protocol

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._protocol = protocol

    @property
    def handle(self) -> TcpHandle:
        return self._handle
