"""Events a connection hands to its user (frozen values, as in h11 and aioquic)."""

from __future__ import annotations

from dataclasses import dataclass

from synack.tcp.states import State, Trigger


@dataclass(frozen=True, slots=True)
class Event:
    """Base class of connection events."""


@dataclass(frozen=True, slots=True)
class StateChanged(Event):
    old: State
    new: State
    trigger: Trigger


@dataclass(frozen=True, slots=True)
class Connected(Event):
    """The handshake completed: the connection is ESTABLISHED."""


@dataclass(frozen=True, slots=True)
class DataReceived(Event):
    """New in-order bytes are waiting in the receive buffer (read them with ``recv``)."""

    length: int


@dataclass(frozen=True, slots=True)
class PeerClosed(Event):
    """The peer sent FIN: after the buffered bytes, the stream is at its end."""


@dataclass(frozen=True, slots=True)
class SendBufferSpace(Event):
    """Bytes were acknowledged; ``send`` can take this many more."""

    free: int


@dataclass(frozen=True, slots=True)
class ConnectionError(Event):
    """The connection failed: ``errno`` is ECONNREFUSED, ECONNRESET, ETIMEDOUT..."""

    errno: int
    reason: str


@dataclass(frozen=True, slots=True)
class Closed(Event):
    """The connection reached CLOSED: the TCB can be deleted."""
