"""UDP sockets of the socket-like API (``socket(runtime, AF_INET, SOCK_DGRAM)``).

bind, connect, sendto, send, recvfrom, recv, recv_into, close, settimeout and
setblocking behave like Python's on Linux: an unbound socket is bound to an ephemeral
port by its first ``sendto``; a connected socket only receives from its peer, and an
ICMP port unreachable in answer to what it sent makes the next call raise
ConnectionRefusedError.
"""

from __future__ import annotations

import errno
import os
import socket as _socket
from typing import TYPE_CHECKING, Any

from synack.api.address import Address, parse_address
from synack.api.blocking import Blocking
from synack.stack.udp import UdpEndpoint

if TYPE_CHECKING:
    from synack.api.runtime import Runtime

__all__ = ["DatagramSocket"]


class DatagramSocket(Blocking):
    family = _socket.AF_INET
    type = _socket.SOCK_DGRAM
    proto = 0

    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime
        self._host = runtime.host
        self._ep: UdpEndpoint | None = None
        self._timeout: float | None = _socket.getdefaulttimeout()
        self._closed = False

    def __enter__(self) -> DatagramSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<synack DatagramSocket {self.getsockname()}>"

    # --- plumbing -----------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise OSError(errno.EBADF, "Bad file descriptor")

    def _endpoint(self) -> UdpEndpoint:
        if self._ep is None:
            self._ep = self._host.udp.bind(0)
        return self._ep

    def _raise_pending(self) -> None:
        if self._ep is not None:
            err = self._ep.take_error()
            if err is not None:
                raise OSError(err, os.strerror(err))

    def fileno(self) -> int:
        return -1

    # --- addresses ----------------------------------------------------------------------

    def bind(self, address: Any) -> None:
        self._check_open()
        ip, port = parse_address(address)
        if self._ep is not None:
            raise OSError(errno.EINVAL, "Invalid argument")
        if ip not in ("0.0.0.0", self._host.ip):
            raise OSError(errno.EADDRNOTAVAIL, "Cannot assign requested address")
        self._ep = self._host.udp.bind(port)

    def connect(self, address: Any) -> None:
        self._check_open()
        self._endpoint().connect(parse_address(address))

    def getsockname(self) -> Address:
        return self._ep.local if self._ep is not None else ("0.0.0.0", 0)

    def getpeername(self) -> Address:
        if self._ep is None or self._ep.remote is None:
            raise OSError(errno.ENOTCONN, os.strerror(errno.ENOTCONN))
        return self._ep.remote

    # --- data ---------------------------------------------------------------------------

    def sendto(self, data: bytes | bytearray | memoryview, address: Any) -> int:
        self._check_open()
        ep = self._endpoint()
        if ep.remote is not None:
            raise OSError(errno.EISCONN, os.strerror(errno.EISCONN))
        self._raise_pending()
        return ep.sendto(bytes(data), parse_address(address))

    def send(self, data: bytes | bytearray | memoryview) -> int:
        self._check_open()
        self._raise_pending()
        return self._endpoint().send(bytes(data))

    def recvfrom(self, bufsize: int) -> tuple[bytes, Address]:
        self._check_open()
        ep = self._endpoint()
        self._raise_pending()
        self._wait(lambda: bool(ep.queue) or ep.error is not None)
        self._raise_pending()
        got = ep.recvfrom()
        assert got is not None
        data, addr = got
        return data[:bufsize], addr  # the rest of a longer datagram is discarded

    def recv(self, bufsize: int) -> bytes:
        return self.recvfrom(bufsize)[0]

    def recv_into(self, buffer: Any, nbytes: int = 0) -> int:
        view = memoryview(buffer).cast("B")
        data = self.recv(nbytes or len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._ep is not None:
                self._ep.close()
                self._ep = None

    @property
    def endpoint(self) -> UdpEndpoint | None:
        return self._ep
