"""The eleven TCP states and the transition table (RFC 9293 §3.3.2, Figure 5).

The table is data: :class:`synack.tcp.connection.Connection` changes state only by looking
up ``(state, trigger)`` here, the state diagram (``synack states``) is generated from it,
and a test checks that every listed transition occurs and no other does.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class State(Enum):
    CLOSED = "CLOSED"
    LISTEN = "LISTEN"
    SYN_SENT = "SYN_SENT"
    SYN_RECEIVED = "SYN_RECEIVED"
    ESTABLISHED = "ESTABLISHED"
    FIN_WAIT_1 = "FIN_WAIT_1"
    FIN_WAIT_2 = "FIN_WAIT_2"
    CLOSE_WAIT = "CLOSE_WAIT"
    CLOSING = "CLOSING"
    LAST_ACK = "LAST_ACK"
    TIME_WAIT = "TIME_WAIT"

    # Members are singletons compared by identity, so identity is a valid hash; Enum's own
    # hashes the name in Python, which made every set or dict lookup of a state (several
    # per segment) a Python call.
    __hash__ = object.__hash__

    def __str__(self) -> str:
        return self.value


#: States in which the connection is synchronized (RFC 9293 §3.10.7.4).
SYNCHRONIZED = frozenset(
    {
        State.ESTABLISHED,
        State.FIN_WAIT_1,
        State.FIN_WAIT_2,
        State.CLOSE_WAIT,
        State.CLOSING,
        State.LAST_ACK,
        State.TIME_WAIT,
    }
)

#: States in which the application may still send (RFC 9293 §3.10.2).
CAN_SEND = frozenset({State.ESTABLISHED, State.CLOSE_WAIT})

#: States in which a FIN from the peer can still arrive (its half is open).
PEER_OPEN = frozenset({State.SYN_RECEIVED, State.ESTABLISHED, State.FIN_WAIT_1, State.FIN_WAIT_2})


class Trigger(Enum):
    """What caused a transition: a user call, a segment, or a timer."""

    __hash__ = object.__hash__  # as State's: identity, without a Python call

    PASSIVE_OPEN = "passive OPEN"
    ACTIVE_OPEN = "active OPEN / snd SYN"
    CLOSE = "CLOSE"
    CLOSE_SND_FIN = "CLOSE / snd FIN"
    ABORT = "ABORT / snd RST"
    RCV_SYN = "rcv SYN / snd SYN,ACK"
    RCV_SYN_ACK = "rcv SYN,ACK / snd ACK"
    RCV_ACK_OF_SYN = "rcv ACK of SYN"
    RCV_FIN = "rcv FIN / snd ACK"
    RCV_ACK_OF_FIN = "rcv ACK of FIN"
    RCV_FIN_ACK_OF_FIN = "rcv FIN,ACK of FIN / snd ACK"
    RCV_RST = "rcv RST"
    RCV_DATA_AFTER_CLOSE = "rcv data after CLOSE / snd RST"
    TIMEOUT = "retransmission timeout"
    TIME_WAIT_TIMEOUT = "timeout=2MSL"
    FIN_WAIT_2_TIMEOUT = "orphan FIN_WAIT_2 timeout"


@dataclass(frozen=True, slots=True)
class Transition:
    source: State
    trigger: Trigger
    target: State
    rfc: str  # where the rule is written down


S, T = State, Trigger

#: Every transition synack makes.  The order is the order of the RFC 9293 figure.
TRANSITIONS: tuple[Transition, ...] = (
    Transition(S.CLOSED, T.PASSIVE_OPEN, S.LISTEN, "RFC 9293 §3.10.1"),
    Transition(S.CLOSED, T.ACTIVE_OPEN, S.SYN_SENT, "RFC 9293 §3.10.1"),
    Transition(S.LISTEN, T.RCV_SYN, S.SYN_RECEIVED, "RFC 9293 §3.10.7.2"),
    Transition(S.LISTEN, T.CLOSE, S.CLOSED, "RFC 9293 §3.10.4"),
    Transition(S.LISTEN, T.ABORT, S.CLOSED, "RFC 9293 §3.10.5"),
    Transition(S.SYN_SENT, T.RCV_SYN_ACK, S.ESTABLISHED, "RFC 9293 §3.10.7.3"),
    Transition(S.SYN_SENT, T.RCV_SYN, S.SYN_RECEIVED, "RFC 9293 §3.10.7.3 (simultaneous open)"),
    Transition(S.SYN_SENT, T.RCV_RST, S.CLOSED, "RFC 9293 §3.10.7.3 (connection refused)"),
    Transition(S.SYN_SENT, T.CLOSE, S.CLOSED, "RFC 9293 §3.10.4"),
    Transition(S.SYN_SENT, T.ABORT, S.CLOSED, "RFC 9293 §3.10.5"),
    Transition(S.SYN_SENT, T.TIMEOUT, S.CLOSED, "RFC 9293 §3.8.3 R2; Linux tcp_syn_retries"),
    Transition(S.SYN_RECEIVED, T.RCV_ACK_OF_SYN, S.ESTABLISHED, "RFC 9293 §3.10.7.4 fifth"),
    Transition(S.SYN_RECEIVED, T.CLOSE_SND_FIN, S.FIN_WAIT_1, "RFC 9293 §3.10.4"),
    Transition(S.SYN_RECEIVED, T.RCV_RST, S.LISTEN, "RFC 9293 §3.10.7.4 second (passive OPEN)"),
    Transition(S.SYN_RECEIVED, T.RCV_RST, S.CLOSED, "RFC 9293 §3.10.7.4 second (active OPEN)"),
    Transition(S.SYN_RECEIVED, T.ABORT, S.CLOSED, "RFC 9293 §3.10.5"),
    Transition(S.SYN_RECEIVED, T.TIMEOUT, S.CLOSED, "RFC 9293 §3.8.3; Linux tcp_synack_retries"),
    Transition(S.ESTABLISHED, T.CLOSE_SND_FIN, S.FIN_WAIT_1, "RFC 9293 §3.10.4"),
    Transition(S.ESTABLISHED, T.RCV_FIN, S.CLOSE_WAIT, "RFC 9293 §3.10.7.4 eighth"),
    Transition(S.ESTABLISHED, T.RCV_RST, S.CLOSED, "RFC 9293 §3.10.7.4 second; RFC 5961 §3.2"),
    Transition(S.ESTABLISHED, T.ABORT, S.CLOSED, "RFC 9293 §3.10.5"),
    Transition(S.ESTABLISHED, T.TIMEOUT, S.CLOSED, "RFC 9293 §3.8.3 R2"),
    Transition(S.FIN_WAIT_1, T.RCV_ACK_OF_FIN, S.FIN_WAIT_2, "RFC 9293 §3.10.7.4 fifth"),
    Transition(S.FIN_WAIT_1, T.RCV_FIN, S.CLOSING, "RFC 9293 §3.10.7.4 eighth"),
    Transition(S.FIN_WAIT_1, T.RCV_FIN_ACK_OF_FIN, S.TIME_WAIT, "RFC 9293 §3.10.7.4 eighth"),
    Transition(S.FIN_WAIT_1, T.RCV_RST, S.CLOSED, "RFC 9293 §3.10.7.4 second"),
    Transition(S.FIN_WAIT_1, T.RCV_DATA_AFTER_CLOSE, S.CLOSED, "RFC 9293 §3.10.4; Linux"),
    Transition(S.FIN_WAIT_1, T.ABORT, S.CLOSED, "RFC 9293 §3.10.5"),
    Transition(S.FIN_WAIT_1, T.TIMEOUT, S.CLOSED, "RFC 9293 §3.8.3 R2"),
    Transition(S.FIN_WAIT_2, T.RCV_FIN, S.TIME_WAIT, "RFC 9293 §3.10.7.4 eighth"),
    Transition(S.FIN_WAIT_2, T.RCV_RST, S.CLOSED, "RFC 9293 §3.10.7.4 second"),
    Transition(S.FIN_WAIT_2, T.RCV_DATA_AFTER_CLOSE, S.CLOSED, "RFC 9293 §3.10.4; Linux"),
    Transition(S.FIN_WAIT_2, T.ABORT, S.CLOSED, "RFC 9293 §3.10.5"),
    Transition(S.FIN_WAIT_2, T.FIN_WAIT_2_TIMEOUT, S.CLOSED, "Linux tcp_fin_timeout"),
    Transition(S.CLOSE_WAIT, T.CLOSE_SND_FIN, S.LAST_ACK, "RFC 9293 §3.10.4"),
    Transition(S.CLOSE_WAIT, T.RCV_RST, S.CLOSED, "RFC 9293 §3.10.7.4 second"),
    Transition(S.CLOSE_WAIT, T.ABORT, S.CLOSED, "RFC 9293 §3.10.5"),
    Transition(S.CLOSE_WAIT, T.TIMEOUT, S.CLOSED, "RFC 9293 §3.8.3 R2"),
    Transition(S.CLOSING, T.RCV_ACK_OF_FIN, S.TIME_WAIT, "RFC 9293 §3.10.7.4 fifth"),
    Transition(S.CLOSING, T.RCV_RST, S.CLOSED, "RFC 9293 §3.10.7.4 second"),
    Transition(S.CLOSING, T.TIMEOUT, S.CLOSED, "RFC 9293 §3.8.3 R2"),
    Transition(S.CLOSING, T.ABORT, S.CLOSED, "RFC 9293 §3.10.5 (no RST)"),
    Transition(S.LAST_ACK, T.RCV_ACK_OF_FIN, S.CLOSED, "RFC 9293 §3.10.7.4 fifth"),
    Transition(S.LAST_ACK, T.RCV_RST, S.CLOSED, "RFC 9293 §3.10.7.4 second"),
    Transition(S.LAST_ACK, T.TIMEOUT, S.CLOSED, "RFC 9293 §3.8.3 R2"),
    Transition(S.LAST_ACK, T.ABORT, S.CLOSED, "RFC 9293 §3.10.5 (no RST)"),
    Transition(S.TIME_WAIT, T.TIME_WAIT_TIMEOUT, S.CLOSED, "RFC 9293 §3.10.7.4 eighth"),
    Transition(S.TIME_WAIT, T.ABORT, S.CLOSED, "RFC 9293 §3.10.5 (no RST)"),
    Transition(S.TIME_WAIT, T.RCV_RST, S.CLOSED, "RFC 9293 §3.10.7.4 second; Linux rfc1337=0"),
)

#: Lookup used by the connection: (state, trigger) -> the possible targets.
TABLE: dict[tuple[State, Trigger], tuple[State, ...]] = {}
for _t in TRANSITIONS:
    TABLE[(_t.source, _t.trigger)] = (*TABLE.get((_t.source, _t.trigger), ()), _t.target)


def lookup(source: State, trigger: Trigger, prefer: State | None = None) -> State:
    """The target of ``trigger`` in ``source``; raises LookupError for an undocumented one.

    Where the RFC gives two targets (SYN_RECEIVED on RST), ``prefer`` picks one of them.
    """
    targets = TABLE.get((source, trigger))
    if not targets:
        raise LookupError(f"no transition from {source} on {trigger.value!r}")
    if prefer is not None:
        if prefer not in targets:
            raise LookupError(f"{source} on {trigger.value!r} cannot go to {prefer}")
        return prefer
    return targets[0]


def to_dot() -> str:
    """The state diagram as Graphviz DOT, generated from :data:`TRANSITIONS`."""
    lines = ["digraph tcp {", "  rankdir=TB;", "  node [shape=box, fontname=monospace];"]
    for t in TRANSITIONS:
        lines.append(f'  {t.source.value} -> {t.target.value} [label="{t.trigger.value}"];')
    lines.append("}")
    return "\n".join(lines)


def to_text() -> str:
    """The state diagram as a text table, generated from :data:`TRANSITIONS`."""
    w1 = max(len(t.source.value) for t in TRANSITIONS)
    w2 = max(len(t.trigger.value) for t in TRANSITIONS)
    w3 = max(len(t.target.value) for t in TRANSITIONS)
    out = []
    for t in TRANSITIONS:
        out.append(
            f"{t.source.value:<{w1}}  --{t.trigger.value:-<{w2}}->  {t.target.value:<{w3}}  {t.rfc}"
        )
    return "\n".join(out)
