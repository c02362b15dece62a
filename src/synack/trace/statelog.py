"""A log of connection state transitions (and, optionally, notes), one line each."""

from __future__ import annotations

from synack.trace.events import Note, StateChange, TraceEvent


def format_state_change(event: StateChange) -> str:
    """``0.000000 client 192.0.2.1:40000 > 192.0.2.2:80 CLOSED -> SYN_SENT``."""
    return f"{event.time:.6f} {event.host} {event.conn} {event.old} -> {event.new}"


def format_note(event: Note) -> str:
    """``0.000000 client note: text``."""
    return f"{event.time:.6f} {event.host} note: {event.text}"


class StateLog:
    """Observer collecting :class:`StateChange` events (and :class:`Note` with ``notes``)."""

    def __init__(self, *, notes: bool = False) -> None:
        self.notes = notes
        self.events: list[StateChange | Note] = []

    def __call__(self, event: TraceEvent) -> None:
        if isinstance(event, StateChange) or (self.notes and isinstance(event, Note)):
            self.events.append(event)

    def lines(self) -> list[str]:
        return [
            format_state_change(e) if isinstance(e, StateChange) else format_note(e)
            for e in self.events
        ]

    def render(self) -> str:
        """All lines, newline-terminated ("" when empty)."""
        return "".join(line + "\n" for line in self.lines())

    def states(self, host: str, conn: str | None = None) -> list[str]:
        """The states ``host`` (or only its connection ``conn``) went through, in order.

        Starts with the first transition's old state; a transition's old state is also
        listed when it differs from the last one listed (e.g. another connection's).
        """
        out: list[str] = []
        for e in self.events:
            if not isinstance(e, StateChange) or e.host != host:
                continue
            if conn is not None and e.conn != conn:
                continue
            if not out or out[-1] != e.old:
                out.append(e.old)
            out.append(e.new)
        return out
