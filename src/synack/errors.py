"""The package's own exception types."""

from __future__ import annotations


class SynackError(Exception):
    """Base class of every error synack raises on purpose."""


class DecodeError(SynackError):
    """A packet or header could not be parsed.

    ``reason`` is a short, stable, machine-readable drop reason (it becomes a counter
    name, e.g. ``"ip_bad_checksum"``); the message says the same for a human.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


class UsageError(SynackError, ValueError):
    """The API was misused (bad argument, call in the wrong state)."""
