"""packetdrill for synack: run Linux's TCP conformance scripts against synack.

A packetdrill script mixes socket calls with segments injected into the stack (``<``)
and segments expected from it (``>``), each at a time.  :func:`parse_script` reads the
language as packetdrill's own lexer and parser do; :func:`run_file` runs a script against
one synack :class:`~synack.stack.host.Host` in virtual time and returns a
:class:`ScriptResult` whose failure, if any, reads as packetdrill's (script line,
expected and actual packet, time).  ``synack packetdrill SCRIPT...`` is the command.
"""

from __future__ import annotations

from synack.packetdrill.errors import ParseError, ScriptFailure, Unsupported
from synack.packetdrill.options import RunOptions
from synack.packetdrill.parser import parse_file, parse_script
from synack.packetdrill.result import ScriptResult, summary
from synack.packetdrill.suite import list_scripts, run_file

__all__ = [
    "ParseError",
    "RunOptions",
    "ScriptFailure",
    "ScriptResult",
    "Unsupported",
    "list_scripts",
    "parse_file",
    "parse_script",
    "run_file",
    "summary",
]
