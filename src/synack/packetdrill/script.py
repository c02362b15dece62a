"""The parsed form of a packetdrill script: options, events and their actions.

A script is a list of header options (``--name=value``), an optional init command
(a backquoted shell command before the first event), timed events and an optional
cleanup command after the last one.  An event is a time and one action: a packet
(``<`` inbound, ``>`` outbound), a system call, a shell command or a ``%{ }%`` code
block.  Times are kept in microseconds, as packetdrill keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from synack.wire.options import TCPOption
from synack.wire.tcp import Flags

# --- times ------------------------------------------------------------------------------


class TimeType(Enum):
    ABSOLUTE = "absolute"  # 0.100
    RELATIVE = "relative"  # +.1
    ANY = "any"  # *  (outbound packets only)
    ABSOLUTE_RANGE = "absolute range"  # 0.1~0.2  (outbound packets only)
    RELATIVE_RANGE = "relative range"  # +.1~+.2  (outbound packets only)


@dataclass(frozen=True, slots=True)
class EventTime:
    type: TimeType
    usecs: int = 0
    end_usecs: int | None = None  # the end of a range


# --- syscall expressions ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ellipsis_:
    """``...``: any value (an address, a buffer)."""


@dataclass(frozen=True, slots=True)
class Int:
    value: int
    hex: bool = False


@dataclass(frozen=True, slots=True)
class Word:
    """A symbol such as ``SOCK_STREAM`` or ``EPIPE``, resolved when the call runs."""

    name: str


@dataclass(frozen=True, slots=True)
class Str:
    value: str
    ellipsis: bool = False  # "abc"... : a prefix


@dataclass(frozen=True, slots=True)
class BinOp:
    op: str  # "|"
    lhs: Expr
    rhs: Expr


@dataclass(frozen=True, slots=True)
class Field:
    """``name=value`` or ``name(arg)=value`` inside braces (or a ``WORD=expr``)."""

    name: str
    value: Expr
    arg: Expr | None = None


@dataclass(frozen=True, slots=True)
class ListExpr:
    """``[a, b]``: an array (``[1]`` is a pointer to the int 1 in socket options)."""

    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Struct:
    """``{...}``: a structure (sockaddr, pollfd, linger, iovec, msghdr...)."""

    items: tuple[Expr, ...]

    def field(self, name: str) -> Expr | None:
        for item in self.items:
            if isinstance(item, Field) and item.name == name:
                return item.value
        return None


@dataclass(frozen=True, slots=True)
class Call:
    """``htons(8080)``, ``inet_addr("1.2.3.4")``."""

    name: str
    args: tuple[Expr, ...]


Expr = Ellipsis_ | Int | Word | Str | BinOp | Field | ListExpr | Struct | Call


# --- actions ------------------------------------------------------------------------------

#: Flag letters of a packet line and the bits they set (packetdrill tcp_packet.c:
#: ``.FSRPEWAU`` plus an AccECN ACE digit 0-7).
FLAG_LETTERS: dict[str, Flags] = {
    "F": Flags.FIN,
    "S": Flags.SYN,
    "R": Flags.RST,
    "P": Flags.PSH,
    ".": Flags.ACK,
    "U": Flags.URG,
    "E": Flags.ECE,
    "W": Flags.CWR,
    "A": Flags.NS,  # AccECN's AE bit is the former NS bit (RFC 9768)
}


@dataclass(slots=True)
class PacketSpec:
    """One ``<`` or ``>`` line."""

    direction: str  # "<" inbound, ">" outbound
    protocol: str = "tcp"  # "tcp", "udp" or "icmp"
    flags_text: str = ""
    seq: int = 0
    payload_len: int = 0
    ack: int = 0
    window: int | None = None  # None: not checked (outbound only)
    urg: int = 0
    options: tuple[TCPOption, ...] | None = ()  # None: <...>, options not checked
    src_port: int | None = None
    dst_port: int | None = None
    tos_check: str = "none"  # "none", "ecn", "ect01", "tos"
    tos_value: int = 0
    ttl: int = 0  # 0: not checked
    flow_label: int = 0
    icmp_type: str = ""
    icmp_code: str = ""
    icmp_mtu: int | None = None
    icmp_id: int = 0
    echoed: tuple[str, int, int] | None = None  # (protocol, seq, payload) in an ICMP

    @property
    def inbound(self) -> bool:
        return self.direction == "<"

    @property
    def flags(self) -> Flags:
        bits = Flags(0)
        for ch in self.flags_text:
            if ch in FLAG_LETTERS:
                bits |= FLAG_LETTERS[ch]
        ace = self.ace
        if ace is not None:
            bits |= (Flags.ECE if ace & 1 else Flags(0)) | (Flags.CWR if ace & 2 else Flags(0))
            bits |= Flags.NS if ace & 4 else Flags(0)
        return bits

    @property
    def ace(self) -> int | None:
        """The AccECN ACE digit, if the flags give one (then E, W, A are not checked)."""
        for ch in self.flags_text:
            if ch.isdigit():
                return int(ch)
        return None

    @property
    def end_seq(self) -> int:
        return (self.seq + self.payload_len) & 0xFFFFFFFF


@dataclass(slots=True)
class SyscallSpec:
    name: str
    args: tuple[Expr, ...]
    result: Expr
    errno: str | None = None
    note: str | None = None
    end_usecs: int | None = None  # None: a non-blocking call (no "...")

    @property
    def blocking(self) -> bool:
        return self.end_usecs is not None


@dataclass(slots=True)
class CommandSpec:
    text: str


@dataclass(slots=True)
class CodeSpec:
    text: str


Action = PacketSpec | SyscallSpec | CommandSpec | CodeSpec


@dataclass(slots=True)
class Event:
    line: int
    time: EventTime
    action: Action


@dataclass(slots=True)
class Script:
    path: str
    options: list[tuple[str, str | None]] = field(default_factory=list)
    init_command: CommandSpec | None = None
    init_line: int = 0
    events: list[Event] = field(default_factory=list)
    cleanup_command: CommandSpec | None = None
    cleanup_line: int = 0
