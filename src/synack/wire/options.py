"""TCP options (RFC 9293 §3.2, RFC 7323, RFC 2018).

Options are kept as a tuple of small frozen values in wire order, so that an encoder can
reproduce Linux's exact order (``mss, sackOK, TS, nop, wscale``) and a test can assert it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from synack.errors import DecodeError, UsageError

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
        if type(o) is MSS:  # the option kinds are a closed set: exact types
            return o.value
    return None


def option_wscale(options: tuple[TCPOption, ...]) -> int | None:
    for o in options:
        if type(o) is WindowScale:  # the option kinds are a closed set: exact types
            return o.shift
    return None


def option_sack_permitted(options: tuple[TCPOption, ...]) -> bool:
    return any(type(o) is SackPermitted for o in options)


def option_timestamps(options: tuple[TCPOption, ...]) -> tuple[int, int] | None:
    for o in options:
        if type(o) is Timestamps:
            return (o.val, o.ecr)
    return None


def option_sack_blocks(options: tuple[TCPOption, ...]) -> tuple[tuple[int, int], ...]:
    for o in options:
        if type(o) is Sack:
            return o.blocks
    return ()


# --- encoding -------------------------------------------------------------------------

_MSS = struct.Struct("!BBH")
_WSCALE = struct.Struct("!BBB")
_TIMESTAMPS = struct.Struct("!BBII")
_SACK_BLOCK = struct.Struct("!II")

# Fixed lengths of the options whose length is not variable (RFC 9293 §3.2, RFC 7323
# §2.2 and §3.2, RFC 2018 §2).
_FIXED_LENGTH = {KIND_MSS: 4, KIND_WSCALE: 3, KIND_SACK_PERMITTED: 2, KIND_TIMESTAMPS: 10}


def _encode_one(o: TCPOption) -> bytes:
    cls = type(o)  # the common kinds by exact type first (isinstance chains are slow)
    if cls is NOP:
        return b"\x01"
    if cls is MSS:
        return _MSS.pack(KIND_MSS, 4, o.value)  # type: ignore[union-attr]
    if cls is SackPermitted:
        return b"\x04\x02"
    if cls is Timestamps:
        return _TIMESTAMPS.pack(KIND_TIMESTAMPS, 10, o.val, o.ecr)  # type: ignore[union-attr]
    if cls is WindowScale:
        return _WSCALE.pack(KIND_WSCALE, 3, o.shift)  # type: ignore[union-attr]
    if isinstance(o, NOP):
        return b"\x01"
    if isinstance(o, EOL):
        return b"\x00"
    if isinstance(o, MSS):
        return _MSS.pack(KIND_MSS, 4, o.value)
    if isinstance(o, WindowScale):
        return _WSCALE.pack(KIND_WSCALE, 3, o.shift)
    if isinstance(o, SackPermitted):
        return b"\x04\x02"
    if isinstance(o, Timestamps):
        return _TIMESTAMPS.pack(KIND_TIMESTAMPS, 10, o.val, o.ecr)
    if isinstance(o, Sack):
        # RFC 2018 §3: length 2 + 8n, at least one block.
        if not o.blocks:
            raise UsageError("a SACK option needs at least one block")
        body = b"".join(_SACK_BLOCK.pack(left, right) for left, right in o.blocks)
        return bytes((KIND_SACK, 2 + len(body))) + body
    # UnknownOption: kind, length, data (RFC 9293 §3.2, option format case 2).
    return bytes((o.kind, 2 + len(o.data))) + o.data


# The layout of every segment but the SYNs on a connection with timestamps (Linux's
# nop,nop,TS): encoded and decoded in one struct call.
_NOP_NOP_TS = struct.Struct("!III")
_NOP_NOP_TS_HEAD = 0x0101080A
_NOP = NOP()


def encode_options(options: tuple[TCPOption, ...]) -> bytes:
    """The options in the given order, zero-padded to a multiple of 4 octets.

    The padding octets are zeros (RFC 9293 §3.1 "Padding": "composed of zeros"), which a
    receiver reads as End of Option List.  Order and NOPs are the caller's: pass
    ``(MSS(1460), SackPermitted(), Timestamps(v, 0), NOP(), WindowScale(7))`` to get
    Linux's SYN layout.  Raises :class:`UsageError` for out-of-range values.
    """
    if len(options) == 3:
        a, b, ts = options
        if type(ts) is Timestamps and type(a) is NOP and type(b) is NOP:
            try:
                return _NOP_NOP_TS.pack(_NOP_NOP_TS_HEAD, ts.val, ts.ecr)
            except struct.error as exc:
                raise UsageError(f"cannot encode TCP options {options!r}: {exc}") from exc
    try:
        raw = b"".join([_encode_one(o) for o in options])
    except (struct.error, ValueError, TypeError) as exc:
        raise UsageError(f"cannot encode TCP options {options!r}: {exc}") from exc
    return raw + bytes(-len(raw) % 4)


# --- decoding -------------------------------------------------------------------------


def decode_options(data: bytes) -> tuple[TCPOption, ...]:
    """Parse the options area of a TCP header (RFC 9293 §3.2).

    End of Option List is recorded and ends the list; anything after it (padding) is
    ignored.  Options of unknown kind are kept as :class:`UnknownOption` and skipped by
    their length octet (RFC 9293 §3.2: "must be prepared to handle an illegal option
    length").  Raises :class:`DecodeError` with reason ``tcp_option_truncated`` (a kind
    without its length octet, or an option running past the end) or
    ``tcp_option_bad_length`` (a length below 2, or the wrong length for a known kind).
    """
    n = len(data)
    if n == 12 and data[0] == 1 and data[1] == 1 and data[2] == 8 and data[3] == 10:
        _, val, ecr = _NOP_NOP_TS.unpack(data)
        return (_NOP, _NOP, Timestamps(val, ecr))
    out: list[TCPOption] = []
    i = 0
    while i < n:
        kind = data[i]
        if kind == KIND_EOL:
            out.append(EOL())
            break
        if kind == KIND_NOP:
            out.append(NOP())
            i += 1
            continue
        if i + 1 >= n:
            raise DecodeError("tcp_option_truncated", f"option kind {kind} has no length octet")
        length = data[i + 1]
        if length < 2:
            raise DecodeError("tcp_option_bad_length", f"option kind {kind} length {length}")
        end = i + length
        if end > n:
            raise DecodeError(
                "tcp_option_truncated", f"option kind {kind} length {length} runs past the end"
            )
        expected = _FIXED_LENGTH.get(kind)
        if expected is not None and length != expected:
            raise DecodeError(
                "tcp_option_bad_length", f"option kind {kind} length {length} != {expected}"
            )
        if kind == KIND_MSS:
            out.append(MSS((data[i + 2] << 8) | data[i + 3]))
        elif kind == KIND_WSCALE:
            out.append(WindowScale(data[i + 2]))
        elif kind == KIND_SACK_PERMITTED:
            out.append(SackPermitted())
        elif kind == KIND_TIMESTAMPS:
            _, _, val, ecr = _TIMESTAMPS.unpack_from(data, i)
            out.append(Timestamps(val, ecr))
        elif kind == KIND_SACK:
            # RFC 2018 §3: length = 8n + 2 with n >= 1 blocks of (left, right) edges.
            if length < 10 or (length - 2) % 8:
                raise DecodeError("tcp_option_bad_length", f"SACK option length {length}")
            blocks = tuple(
                (left, right) for left, right in _SACK_BLOCK.iter_unpack(data[i + 2 : end])
            )
            out.append(Sack(blocks))
        else:
            out.append(UnknownOption(kind, bytes(data[i + 2 : end])))
        i = end
    return tuple(out)


# --- tcpdump-style text ---------------------------------------------------------------


def format_option(o: TCPOption) -> str:
    """One option as tcpdump prints it inside ``options [...]``."""
    if isinstance(o, NOP):
        return "nop"
    if isinstance(o, EOL):
        return "eol"
    if isinstance(o, MSS):
        return f"mss {o.value}"
    if isinstance(o, WindowScale):
        return f"wscale {o.shift}"
    if isinstance(o, SackPermitted):
        return "sackOK"
    if isinstance(o, Timestamps):
        return f"TS val {o.val} ecr {o.ecr}"
    if isinstance(o, Sack):
        return f"sack {len(o.blocks)} " + "".join(f"{{{lo}:{hi}}}" for lo, hi in o.blocks)
    text = f"unknown-{o.kind}"
    return f"{text} 0x{o.data.hex()}" if o.data else text


def format_options(options: tuple[TCPOption, ...]) -> str:
    """tcpdump's option list text, e.g. ``mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7``."""
    return ",".join(format_option(o) for o in options)
