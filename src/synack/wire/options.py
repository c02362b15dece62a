"""TCP options (RFC 9293 §3.2, RFC 7323, RFC 2018).

Options are kept as a tuple of small frozen values in wire order, so that an encoder can
reproduce Linux's exact order (``mss, sackOK, TS, nop, wscale``) and a test can assert it.
"""

from __future__ import annotations

from dataclasses import dataclass

# Option kinds (IANA "TCP Option Kind Numbers").
KIND_EOL = 0
KIND_NOP = 1
KIND_MSS = 2
KIND_WSCALE = 3
KIND_SACK_PERMITTED = 4
KIND_SACK = 5
KIND_TIMESTAMPS = 8


@dataclass(frozen=True, slots=True)
class EOL:
    """End of option list (kind 0)."""


@dataclass(frozen=True, slots=True)
class NOP:
    """No-operation padding (kind 1)."""


@dataclass(frozen=True, slots=True)
class MSS:
    """Maximum segment size (kind 2, length 4; RFC 9293 §3.7.1)."""

    value: int


@dataclass(frozen=True, slots=True)
class WindowScale:
    """Window scale shift count (kind 3, length 3; RFC 7323 §2)."""

    shift: int


@dataclass(frozen=True, slots=True)
class SackPermitted:
    """SACK-permitted (kind 4, length 2; RFC 2018 §2)."""


@dataclass(frozen=True, slots=True)
class Sack:
    """SACK blocks (kind 5; RFC 2018 §3): each block is (left edge, right edge)."""

    blocks: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class Timestamps:
    """Timestamps (kind 8, length 10; RFC 7323 §3)."""

    val: int
    ecr: int


@dataclass(frozen=True, slots=True)
class UnknownOption:
    """Any other option, kept with its raw data so it survives a decode/encode round trip."""

    kind: int
    data: bytes


TCPOption = EOL | NOP | MSS | WindowScale | SackPermitted | Sack | Timestamps | UnknownOption


def option_mss(options: tuple[TCPOption, ...]) -> int | None:
    for o in options:
        if isinstance(o, MSS):
            return o.value
    return None


def option_wscale(options: tuple[TCPOption, ...]) -> int | None:
    for o in options:
        if isinstance(o, WindowScale):
            return o.shift
    return None


def option_sack_permitted(options: tuple[TCPOption, ...]) -> bool:
    return any(isinstance(o, SackPermitted) for o in options)


def option_timestamps(options: tuple[TCPOption, ...]) -> tuple[int, int] | None:
    for o in options:
        if isinstance(o, Timestamps):
            return (o.val, o.ecr)
    return None


def option_sack_blocks(options: tuple[TCPOption, ...]) -> tuple[tuple[int, int], ...]:
    for o in options:
        if isinstance(o, Sack):
            return o.blocks
    return ()
