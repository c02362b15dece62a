"""StateLog: collecting and rendering connection state transitions."""

from __future__ import annotations

from synack.trace.events import Note, PacketEvent, StateChange
from synack.trace.statelog import StateLog, format_state_change

CLIENT_CONN = "192.0.2.1:40000 > 192.0.2.2:80"
SERVER_CONN = "192.0.2.2:80 > 192.0.2.1:40000"
FIRST = StateChange(0.0, "client", CLIENT_CONN, "CLOSED", "SYN_SENT")
EVENTS = [
    FIRST,
    PacketEvent(0.0, "send", "client", "server", b"", 1),
    StateChange(0.05, "server", SERVER_CONN, "LISTEN", "SYN_RECEIVED"),
    Note(0.05, "server", "accept queue 1/128"),
    StateChange(0.1, "client", CLIENT_CONN, "SYN_SENT", "ESTABLISHED"),
    StateChange(0.15, "server", SERVER_CONN, "SYN_RECEIVED", "ESTABLISHED"),
]


def fed(log: StateLog) -> StateLog:
    for e in EVENTS:
        log(e)
    return log


def test_state_change_line_format() -> None:
    assert format_state_change(FIRST) == (
        "0.000000 client 192.0.2.1:40000 > 192.0.2.2:80 CLOSED -> SYN_SENT"
    )


def test_lines_are_state_changes_in_order_and_skip_other_events() -> None:
    assert fed(StateLog()).lines() == [
        "0.000000 client 192.0.2.1:40000 > 192.0.2.2:80 CLOSED -> SYN_SENT",
        "0.050000 server 192.0.2.2:80 > 192.0.2.1:40000 LISTEN -> SYN_RECEIVED",
        "0.100000 client 192.0.2.1:40000 > 192.0.2.2:80 SYN_SENT -> ESTABLISHED",
        "0.150000 server 192.0.2.2:80 > 192.0.2.1:40000 SYN_RECEIVED -> ESTABLISHED",
    ]


def test_notes_are_included_only_when_asked() -> None:
    lines = fed(StateLog(notes=True)).lines()
    assert len(lines) == 5
    assert lines[2] == "0.050000 server note: accept queue 1/128"


def test_render_is_newline_terminated_and_empty_when_nothing_happened() -> None:
    log = fed(StateLog())
    assert log.render() == "\n".join(log.lines()) + "\n"
    assert StateLog().render() == ""


def test_states_lists_a_hosts_path_through_the_state_machine() -> None:
    log = fed(StateLog())
    assert log.states("client") == ["CLOSED", "SYN_SENT", "ESTABLISHED"]
    assert log.states("server") == ["LISTEN", "SYN_RECEIVED", "ESTABLISHED"]
    assert log.states("nobody") == []


def test_states_can_follow_one_connection() -> None:
    log = fed(StateLog())
    log(StateChange(0.2, "client", "192.0.2.1:40001 > 192.0.2.2:80", "CLOSED", "SYN_SENT"))
    assert log.states("client") == ["CLOSED", "SYN_SENT", "ESTABLISHED", "CLOSED", "SYN_SENT"]
    assert log.states("client", CLIENT_CONN) == ["CLOSED", "SYN_SENT", "ESTABLISHED"]
