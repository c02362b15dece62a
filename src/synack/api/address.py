"""IPv4 socket addresses as the socket-like API takes them: ``(host, port)`` pairs."""

from __future__ import annotations

import ipaddress
import socket as _socket
from typing import Any

Address = tuple[str, int]


def parse_address(addr: Any) -> Address:
    """Validate an AF_INET address; ``""`` means any address (``"0.0.0.0"``).

    Errors are the ones Python's socket module raises: TypeError for a malformed pair,
    OverflowError for a port out of range, ``socket.gaierror`` for a name (synack
    resolves no names: addresses are IPv4 literals).
    """
    if not (isinstance(addr, tuple) and len(addr) == 2 and isinstance(addr[1], int)):
        raise TypeError("AF_INET address must be a pair (host, port)")
    host, port = addr
    if not 0 <= port <= 65535:
        raise OverflowError("port must be 0-65535.")
    if host in ("", "0.0.0.0"):
        return ("0.0.0.0", port)
    try:
        return (str(ipaddress.IPv4Address(host)), port)
    except ValueError:
        raise _socket.gaierror(_socket.EAI_NONAME, "Name or service not known") from None
