"""TCP options on packet lines: parsing ``<mss 1460,sackOK,...>`` into synack's option
values, their lengths, and packetdrill's text for them (tcp_options_to_string).

Options synack's codec has no class for (MD5 signature, TCP Fast Open, AccECN) become
:class:`~synack.wire.options.UnknownOption` with their kind and raw data, so inbound
packets carry them byte-exact and outbound ones are compared byte-exact.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from synack.wire.options import (
    EOL,
    MSS,
    NOP,
    Sack,
    SackPermitted,
    TCPOption,
    Timestamps,
    UnknownOption,
    WindowScale,
    format_option,
)

if TYPE_CHECKING:
    from synack.packetdrill.parser import Parser

KIND_MD5 = 19  # RFC 2385
MD5_DIGEST_LEN = 16
KIND_FASTOPEN = 34  # RFC 7413
KIND_EXP = 254  # RFC 6994 experimental, with a 16-bit magic
FASTOPEN_MAGIC = b"\xf9\x89"  # packetdrill TCPOPT_FASTOPEN_MAGIC
KIND_ACCECN0 = 172  # AccECN, fields in order e0b, ceb, e1b
KIND_ACCECN1 = 174  # AccECN, fields in order e1b, ceb, e0b
_ACCECN_LABELS = {KIND_ACCECN0: ("e0b", "ceb", "e1b"), KIND_ACCECN1: ("e1b", "ceb", "e0b")}


def option_length(o: TCPOption) -> int:
    """Octets the option takes on the wire (no padding)."""
    if isinstance(o, EOL | NOP):
        return 1
    if isinstance(o, MSS):
        return 4
    if isinstance(o, WindowScale):
        return 3
    if isinstance(o, SackPermitted):
        return 2
    if isinstance(o, Timestamps):
        return 10
    if isinstance(o, Sack):
        return 2 + 8 * len(o.blocks)
    return 2 + len(o.data)


def _hex_blob(parser: Parser, limit: int, what: str) -> bytes:
    tok = parser.peek()
    if tok.kind not in ("WORD", "INTEGER"):
        return b""
    parser.take()
    text = tok.text
    try:
        data = bytes.fromhex(text) if len(text) % 2 == 0 else b"\xff" * (limit + 1)
    except ValueError:
        data = b"\xff" * (limit + 1)
    if len(data) > limit or len(text) % 2:
        raise parser.error(tok.line, f"invalid {what}: {text}")
    return data


def parse_tcp_option(parser: Parser) -> TCPOption:
    """One option of an option list (parser.y ``tcp_option``)."""
    tok = parser.take()
    kind = tok.kind
    if kind == "NOP":
        return NOP()
    if kind == "EOL":
        return EOL()
    if kind == "MSS":
        return MSS(parser.u_int(0xFFFF, "mss value out of range"))
    if kind == "WSCALE":
        return WindowScale(parser.u_int(0xFF, "window scale shift count out of range"))
    if kind == "SACKOK":
        return SackPermitted()
    if kind == "SACK":
        blocks: list[tuple[int, int]] = []
        while parser.at("INTEGER") and parser.peek(1).kind == ":":
            left = parser.u_int(0xFFFFFFFF, "TCP SACK left sequence number out of range")
            parser.take()
            right = parser.u_int(0xFFFFFFFF, "TCP SACK right sequence number out of range")
            blocks.append((left, right))
        if not blocks:
            parser.syntax_error(parser.peek(), "a SACK block a:b")
        return Sack(tuple(blocks))
    if kind == "TIMESTAMP":
        parser.expect("VAL", "'val'")
        val = parser.u_int(0xFFFFFFFF, "ts val out of range")
        parser.expect("ECR", "'ecr'")
        ecr = parser.u_int(0xFFFFFFFF, "ecr val out of range")
        return Timestamps(val, ecr)
    if kind == "MD5":
        digest = _hex_blob(parser, MD5_DIGEST_LEN, "MD5 digest")
        return UnknownOption(KIND_MD5, digest.ljust(MD5_DIGEST_LEN, b"\0"))
    if kind == "FAST_OPEN":
        return UnknownOption(KIND_FASTOPEN, _hex_blob(parser, 32, "TCP fast open cookie"))
    if kind == "FAST_OPEN_EXP":
        cookie = _hex_blob(parser, 32, "TCP fast open cookie")
        return UnknownOption(KIND_EXP, FASTOPEN_MAGIC + cookie)
    if kind == "ACCECN":
        return _accecn(parser)
    parser.syntax_error(tok, "a TCP option")
    raise AssertionError  # not reached


def _accecn(parser: Parser) -> TCPOption:
    """``ECN e0b N [ceb N [e1b N]]`` or ``ECN e1b N [ceb N [e0b N]]`` (AccECN option)."""
    first = parser.take()
    if first.kind not in ("ACCECN_E0B", "ACCECN_E1B"):
        parser.syntax_error(first, "e0b or e1b")
    kind = KIND_ACCECN0 if first.kind == "ACCECN_E0B" else KIND_ACCECN1
    labels = _ACCECN_LABELS[kind]
    values = [parser.u_int(0xFFFFFF, "TCP AccECN field value out of range")]
    for label in labels[1:]:
        if parser.peek().text != label:
            break
        parser.take()
        values.append(parser.u_int(0xFFFFFF, "TCP AccECN field value out of range"))
    return UnknownOption(kind, b"".join(v.to_bytes(3, "big") for v in values))


def format_tcp_option(o: TCPOption) -> str:
    """packetdrill's text for one option (``mss 1460``, ``sack 1:2 3:4``, ``TS val 1 ecr 2``):
    tcpdump's words, but SACK blocks and the experimental options its own way."""
    if not isinstance(o, Sack | UnknownOption):
        return format_option(o)
    if isinstance(o, Sack):
        return "sack " + " ".join(f"{lo}:{hi}" for lo, hi in o.blocks)
    if o.kind == KIND_MD5:
        return ("md5 " + o.data.hex()).strip()
    if o.kind == KIND_FASTOPEN:
        return ("FO " + o.data.hex()).strip()
    if o.kind == KIND_EXP and o.data[:2] == FASTOPEN_MAGIC:
        return ("FOEXP " + o.data[2:].hex()).strip()
    if o.kind in _ACCECN_LABELS:
        labels = _ACCECN_LABELS[o.kind]
        fields = [int.from_bytes(o.data[i : i + 3], "big") for i in range(0, len(o.data) - 2, 3)]
        return "ECN" + "".join(f" {label} {v}" for label, v in zip(labels, fields, strict=False))
    return f"kind {o.kind} {o.data.hex()}".strip()


def format_tcp_options(options: tuple[TCPOption, ...]) -> str:
    return ",".join(format_tcp_option(o) for o in options)
