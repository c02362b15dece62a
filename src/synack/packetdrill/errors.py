"""Errors of the packetdrill interpreter, each tied to a script line as packetdrill does."""

from __future__ import annotations

from synack.errors import SynackError


class PacketdrillError(SynackError):
    """Base class: something went wrong with a script (parse or run)."""


class LexError(PacketdrillError):
    def __init__(self, path: str, line: int, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        super().__init__(f"{path}:{line}: syntax error: {message}")


class ParseError(PacketdrillError):
    """A syntax or semantic error, printed as packetdrill's bison parser prints it."""

    def __init__(self, path: str, line: int, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        super().__init__(f"{path}:{line}: {message}")


class ScriptFailure(PacketdrillError):
    """The stack did not do what the script said, at ``line``.

    ``text`` is the whole report (first line ``path:line: ...``, then the script and
    actual packet dumps and the segment diff); ``kind`` is a short category used in the
    summary (``packet``, ``timing``, ``syscall``, ``code``, ``unsupported``...).
    """

    def __init__(self, path: str, line: int, kind: str, text: str) -> None:
        self.path = path
        self.line = line
        self.kind = kind
        self.text = text
        super().__init__(text)


class Unsupported(PacketdrillError):
    """The script needs something synack (or this interpreter) does not have."""
