"""The packetdrill lexer: the token rules of packetdrill's ``lexer.l``, written anew.

Like flex, the scanner takes the *longest* match at each position and, between rules
that match the same length, the one listed first: so ``ack`` is the keyword ACK but
``acked`` is a WORD, ``0x1f`` is a HEX_INTEGER (listed before WORD), ``10.0.0.1`` is an
IPV4_ADDR (longer than the FLOAT ``10.0``), ``+.01...0.011`` is ``+``, FLOAT ``.01``,
ELLIPSIS, FLOAT ``0.011``, and ``1:1001`` is INTEGER ``:`` INTEGER (the IPv6 address
patterns need a ``::`` or eight groups, so sequence ranges never read as addresses).

Comments (``//`` to end of line, ``/* ... */``) and blanks are skipped; ``%{ ... }%``
is a CODE token (its text with blanks stripped at both ends, as packetdrill does);
backquoted text is a BACK_QUOTED shell command and may span lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from synack.packetdrill.errors import LexError

#: Keywords of lexer.l, mapped to their token names.  A word equal to one of these is
#: that keyword, never a WORD (so e.g. ``id`` cannot name a symbol).
KEYWORDS: dict[str, str] = {
    "sa_family": "SA_FAMILY",
    "sin_port": "SIN_PORT",
    "sin_addr": "SIN_ADDR",
    "msg_name": "MSG_NAME",
    "msg_iov": "MSG_IOV",
    "msg_flags": "MSG_FLAGS",
    "msg_control": "MSG_CONTROL",
    "cmsg_data": "CMSG_DATA",
    "cmsg_level": "CMSG_LEVEL",
    "cmsg_type": "CMSG_TYPE",
    "ee_errno": "EE_ERRNO",
    "ee_origin": "EE_ORIGIN",
    "ee_type": "EE_TYPE",
    "ee_code": "EE_CODE",
    "ee_info": "EE_INFO",
    "ee_data": "EE_DATA",
    "scm_sec": "SCM_SEC",
    "scm_nsec": "SCM_NSEC",
    "fd": "FD",
    "u32": "U32",
    "u64": "U64",
    "ptr": "PTR",
    "events": "EVENTS",
    "revents": "REVENTS",
    "onoff": "ONOFF",
    "linger": "LINGER",
    "htons": "HTONS",
    "ipv4": "IPV4",
    "ipv6": "IPV6",
    "icmp": "ICMP",
    "udp": "UDP",
    "GREv0": "GRE",
    "gre": "GRE",
    "raw": "RAW",
    "sum": "SUM",
    "off": "OFF",
    "key": "KEY",
    "seq": "SEQ",
    "none": "NONE",
    "checksum": "CHECKSUM",
    "sequence#": "SEQUENCE",
    "present": "PRESENT",
    "encap": "ENCAP",
    "psp": "PSP",
    "spi": "SPI",
    "mpls": "MPLS",
    "label": "LABEL",
    "tc": "TC",
    "ttl": "TTL",
    "inet_addr": "INET_ADDR",
    "inet6_addr": "INET6_ADDR",
    "ack": "ACK",
    "eol": "EOL",
    "ecr": "ECR",
    "mss": "MSS",
    "mtu": "MTU",
    "nop": "NOP",
    "sack": "SACK",
    "sackOK": "SACKOK",
    "md5": "MD5",
    "TS": "TIMESTAMP",
    "FO": "FAST_OPEN",
    "FOEXP": "FAST_OPEN_EXP",
    "ECN": "ACCECN",
    "e0b": "ACCECN_E0B",
    "e1b": "ACCECN_E1B",
    "ceb": "ACCECN_CEB",
    "tos": "TOS",
    "flowlabel": "FLOWLABEL",
    "flags": "FLAGS",
    "Flags": "FLAGS",
    "val": "VAL",
    "win": "WIN",
    "urg": "URG",
    "wscale": "WSCALE",
    "ect01": "ECT01",
    "ect0": "ECT0",
    "ect1": "ECT1",
    "noecn": "NO_ECN",
    "ce": "CE",
    "id": "ID",
}


@dataclass(frozen=True, slots=True)
class Token:
    """One token: ``kind`` is a token name (``WORD``, ``INTEGER``, ``ACK``...) or, for a
    single punctuation character, the character itself."""

    kind: str
    text: str
    line: int
    value: int | float | str | None = None

    def __str__(self) -> str:
        return self.text if self.kind != "EOF" else "end of file"


# The rules in lexer.l order (after the keywords); each pattern is tried at the current
# position and the longest match wins, the earliest rule breaking ties.
_SEG = r"[0-9a-fA-F]{1,4}"
_IPV4 = r"[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+"
_IPV6_FORMS = [
    r"::",
    rf"(?:{_SEG}:){{7}}{_SEG}",
    rf"(?:{_SEG}:){{1,7}}:",
    rf"(?:{_SEG}:){{1,6}}:{_SEG}",
    rf"(?:{_SEG}:){{1,5}}(?::{_SEG}){{1,2}}",
    rf"(?:{_SEG}:){{1,4}}(?::{_SEG}){{1,3}}",
    rf"(?:{_SEG}:){{1,3}}(?::{_SEG}){{1,4}}",
    rf"(?:{_SEG}:){{1,2}}(?::{_SEG}){{1,5}}",
    rf"{_SEG}:(?:(?::{_SEG}){{1,6}})",
    rf":(?::{_SEG}){{1,7}}",
    rf"::ffff:{_IPV4}",
    rf"::ffff:(?:0){{1,4}}:{_IPV4}",
    rf"(?:{_SEG}:){{1,4}}:{_IPV4}",
]

_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("ELLIPSIS", re.compile(r"\.\.\.")),
    ("OPTION", re.compile(r"--[a-zA-Z0-9_]+")),
    ("FLOAT", re.compile(r"-?[0-9]*\.[0-9]+")),
    ("INTEGER", re.compile(r"-?[0-9]+")),
    ("HEX_INTEGER", re.compile(r"0x[0-9a-fA-F]+")),
    ("WORD", re.compile(r"[a-zA-Z0-9_]+")),
    ("STRING", re.compile(r'"(?:\\.|[^"])*"', re.DOTALL)),
    ("BACK_QUOTED", re.compile(r"`(?:\\.|[^`])*`", re.DOTALL)),
    ("CHAR", re.compile(r"[^ \t\r\n]")),
    ("SPACE", re.compile(r"[ \t\r\n]+")),
    ("CPP_COMMENT", re.compile(r"//[^\n]*(?:\n|$)")),
    ("C_COMMENT", re.compile(r"/\*(?:[^*]|\*(?!/))*\*/", re.DOTALL)),
    ("CODE", re.compile(r"%\{(?:[^}]|\}(?!%))*\}%", re.DOTALL)),
    ("IPV4_ADDR", re.compile(_IPV4)),
]
_IPV6_RULES = [re.compile(p) for p in _IPV6_FORMS]
_SKIP = frozenset({"SPACE", "CPP_COMMENT", "C_COMMENT"})


def _code_text(raw: str) -> str:
    """The code inside ``%{ ... }%`` with spaces and tabs stripped at both ends."""
    return raw[2:-2].strip(" \t")


def _longest(text: str, pos: int) -> tuple[str, int]:
    best_kind, best_end = "", pos
    for kind, pattern in _RULES:
        m = pattern.match(text, pos)
        if m is not None and m.end() > best_end:
            best_kind, best_end = kind, m.end()
    for pattern in _IPV6_RULES:
        m = pattern.match(text, pos)
        if m is not None and m.end() > best_end:
            best_kind, best_end = "IPV6_ADDR", m.end()
    return best_kind, best_end


def tokenize(text: str, path: str = "<script>") -> list[Token]:
    """Split a whole script into tokens, ending with an ``EOF`` token."""
    tokens: list[Token] = []
    pos = 0
    line = 1
    n = len(text)
    while pos < n:
        kind, end = _longest(text, pos)
        raw = text[pos:end]
        if kind == "WORD":
            # A keyword beats WORD on a tie; "sequence#" is one character longer.
            if raw == "sequence" and text.startswith("sequence#", pos):
                raw, end, kind = "sequence#", end + 1, "SEQUENCE"
            elif raw in KEYWORDS:
                kind = KEYWORDS[raw]
        if kind not in _SKIP:
            tokens.append(_make(kind, raw, line, path))
        line += raw.count("\n")
        pos = end
    tokens.append(Token("EOF", "", line))
    return tokens


def _make(kind: str, raw: str, line: int, path: str) -> Token:
    if kind == "CHAR":
        return Token(raw, raw, line)
    if kind == "INTEGER":
        return Token(kind, raw, line, int(raw))
    if kind == "HEX_INTEGER":
        return Token(kind, raw, line, int(raw[2:], 16))
    if kind == "FLOAT":
        return Token(kind, raw, line, float(raw))
    if kind == "OPTION":
        return Token(kind, raw, line, raw[2:])
    if kind in ("STRING", "BACK_QUOTED"):
        return Token(kind, raw, line, raw[1:-1])
    if kind == "CODE":
        return Token(kind, raw, line, _code_text(raw))
    if kind == "":
        raise LexError(path, line, f"cannot scan {raw!r}")
    return Token(kind, raw, line, raw)
