"""poll(2) on the script's sockets: ``poll([{fd=4, events=POLLIN, revents=POLLIN}], 1, T)``.

The call waits (in virtual time) until one socket is ready or ``T`` ms pass (-1: no
limit, 0: no wait); then the result is the number of ready sockets and each pollfd's
``revents`` must equal the script's (packetdrill pollfds_check).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from synack.packetdrill import script as s
from synack.packetdrill.symbols import SYMBOLS, describe, to_int

if TYPE_CHECKING:
    from synack.packetdrill.syscalls import FdTable, Operation, SyscallResult

_POLL_NAMES = [
    (name, value)
    for name, value in SYMBOLS.items()
    if name.startswith("POLL") and name not in ("POLLRDNORM", "POLLWRNORM")
]
#: Conditions poll always reports, whatever ``events`` asks for (poll(2)).
_ALWAYS = SYMBOLS["POLLERR"] | SYMBOLS["POLLHUP"] | SYMBOLS["POLLNVAL"]


def poll_flags(mask: int) -> str:
    """``POLLIN|POLLOUT`` for a mask (packetdrill flags_to_string)."""
    names = [name for name, value in _POLL_NAMES if mask & value == value and value]
    rest = mask & ~sum(v for n, v in _POLL_NAMES if n in names)
    rest &= ~(SYMBOLS["POLLRDNORM"] | SYMBOLS["POLLWRNORM"])
    if rest:
        names.append(hex(rest))
    return "|".join(names) if names else "0"


def poll_operation(table: FdTable, args: list[s.Expr], now: float) -> Operation:
    from synack.packetdrill.syscalls import Operation, SyscallError, SyscallResult

    fds_expr = args[0]
    if not isinstance(fds_expr, s.ListExpr):
        raise SyscallError(f"poll expects a pollfd array, got {describe(fds_expr)}")
    entries: list[tuple[int, int, int]] = []
    for item in fds_expr.items:
        if not isinstance(item, s.Struct):
            raise SyscallError(f"bad pollfd {describe(item)}")
        fd, events, want = item.field("fd"), item.field("events"), item.field("revents")
        if fd is None or events is None:
            raise SyscallError(f"bad pollfd {describe(item)}")
        entries.append((to_int(fd), to_int(events), to_int(want) if want else 0))
    nfds = to_int(args[1])
    if nfds != len(entries):
        raise SyscallError(f"nfds {nfds} does not match {len(entries)}-element pollfd array")
    timeout = to_int(args[2])
    deadline = now + timeout / 1000.0 if timeout > 0 else None

    def revents() -> list[int]:
        out = []
        for fd, events, _ in entries:
            sf = table.fds.get(fd)
            if sf is None:
                out.append(SYMBOLS["POLLNVAL"])
                continue
            out.append(sf.poll_mask(SYMBOLS) & (events | _ALWAYS))
        return out

    def attempt() -> SyscallResult | None:
        got = revents()
        ready = sum(1 for r in got if r)
        timed_out = timeout == 0 or (deadline is not None and table.hooks.now() >= deadline)
        if not ready and not timed_out:
            return None
        for i, ((_, _, expected), actual) in enumerate(zip(entries, got, strict=True)):
            if actual != expected:
                return SyscallResult(
                    ready,
                    None,
                    f"Expected revents of {poll_flags(expected)} but got "
                    f"{poll_flags(actual)} for pollfd {i}",
                )
        return SyscallResult(ready)

    return Operation(attempt, deadline)
