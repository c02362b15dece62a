"""The packetdrill parser: packetdrill's ``parser.y`` grammar as a recursive descent.

    script     : options? init_command? event+ cleanup_command?
    option     : OPTION ('=' value)?
    event      : time action
    time       : '+' t ('~' '+' t)? | t ('~' t)? | '*'
    action     : packet | syscall | BACK_QUOTED | CODE
    packet     : ('<'|'>') ip_info? (udp | icmp | tcp)
    tcp        : (INT '>' INT)? flags seq ('ack' INT)? ('win' INT)? ('urg' INT)? options?
    seq        : INT ':' INT '(' INT ')'
    options    : '<' '...' '>' | '<' option (',' option)* '>'
    syscall    : ('...' t)? WORD '(' expr,* ')' '=' expr (WORD note?)? note?

The semantic checks of parser.y are kept, with its messages: a ``*`` time or a time
range only on outbound packets, ``<...>`` only on outbound packets, a window on every
inbound packet, options padded to 4 octets, ``end == start + len`` in sequence ranges.
Symbols from ``--define`` replace WORDs after the header, as packetdrill's lexer does.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from synack.packetdrill import script as s
from synack.packetdrill.errors import ParseError
from synack.packetdrill.lexer import KEYWORDS, Token, tokenize
from synack.packetdrill.tcpoptions import option_length, parse_tcp_option
from synack.wire.options import TCPOption

_U32 = 0xFFFFFFFF
_U16 = 0xFFFF
#: Flag characters packetdrill accepts (tcp_packet.c valid_tcp_flags).
_VALID_FLAGS = ".FSRPEWAU01234567"
#: Tokens that may name a field inside braces (keywords of lexer.l are names there).
_NAME_KINDS = frozenset({"WORD", *KEYWORDS.values()})


def parse_script(
    text: str, path: str = "<script>", defines: dict[str, str] | None = None
) -> s.Script:
    """Parse a whole script; raises :class:`ParseError` at the first problem."""
    return Parser(tokenize(text, path), path, defines).parse()


def parse_file(path: str | Path, defines: dict[str, str] | None = None) -> s.Script:
    return parse_script(Path(path).read_text(), str(path), defines)


class Parser:
    def __init__(self, tokens: list[Token], path: str, defines: dict[str, str] | None) -> None:
        self.tokens = tokens
        self.path = path
        self.pos = 0
        self.defines = dict(defines or {})

    # --- token helpers ------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token:
        i = min(self.pos + ahead, len(self.tokens) - 1)
        return self.tokens[i]

    def at(self, *kinds: str) -> bool:
        return self.peek().kind in kinds

    def take(self) -> Token:
        tok = self.peek()
        if tok.kind != "EOF":
            self.pos += 1
        return tok

    def expect(self, kind: str, what: str | None = None) -> Token:
        tok = self.peek()
        if tok.kind != kind:
            self.syntax_error(tok, what or kind)
        return self.take()

    def syntax_error(self, tok: Token, expected: str | None = None) -> None:
        where = "end of file" if tok.kind == "EOF" else f"'{tok.text}'"
        more = f" (expected {expected})" if expected else ""
        raise ParseError(self.path, tok.line, f"syntax error at {where}{more}")

    def error(self, line: int, message: str) -> ParseError:
        return ParseError(self.path, line, message)

    def _apply_defines(self) -> None:
        """Replace WORDs named by ``--define`` (lexer.l word()): "x" is a STRING, `x` a
        command, an integer an INTEGER, anything else a WORD."""
        if not self.defines:
            return
        out = self.tokens[: self.pos]
        for tok in self.tokens[self.pos :]:
            value = self.defines.get(tok.text) if tok.kind == "WORD" else None
            if value is None:
                out.append(tok)
            elif value[:1] == '"' and value[-1:] == '"' and len(value) >= 2:
                out.append(Token("STRING", value, tok.line, value[1:-1]))
            elif value[:1] == "`" and value[-1:] == "`" and len(value) >= 2:
                out.append(Token("BACK_QUOTED", value, tok.line, value[1:-1]))
            else:
                try:
                    out.append(Token("INTEGER", value, tok.line, int(value, 0)))
                except ValueError:
                    out.append(Token("WORD", value, tok.line, value))
        self.tokens = out

    # --- script -------------------------------------------------------------------------

    def parse(self) -> s.Script:
        script = s.Script(self.path)
        while self.at("OPTION"):
            name, value = self.option()
            script.options.append((name, value))
            if name == "define" and value is not None and "=" in value:
                key, _, val = value.partition("=")
                self.defines[key] = val
        self._apply_defines()
        if self.at("BACK_QUOTED"):
            tok = self.take()
            script.init_command = s.CommandSpec(str(tok.value))
            script.init_line = tok.line
        while not self.at("EOF"):
            if self.at("BACK_QUOTED") and self.peek(1).kind == "EOF" and script.events:
                tok = self.take()
                script.cleanup_command = s.CommandSpec(str(tok.value))
                script.cleanup_line = tok.line
                break
            script.events.append(self.event())
        if not script.events:
            self.syntax_error(self.peek(), "an event")
        return script

    def option(self) -> tuple[str, str | None]:
        name = str(self.take().value)
        if not self.at("="):
            return name, None
        self.take()
        tok = self.take()
        if tok.kind in ("INTEGER", "FLOAT", "HEX_INTEGER", "IPV4_ADDR", "IPV6_ADDR"):
            return name, tok.text
        if tok.kind in ("IPV4", "IPV6"):
            return name, tok.text
        if tok.kind == "STRING":
            return name, str(tok.value)
        if tok.kind == "WORD":
            if self.at("="):  # --define=NAME=value
                self.take()
                rhs = self.take()
                if rhs.kind not in ("WORD", "STRING", "BACK_QUOTED", "INTEGER"):
                    self.syntax_error(rhs, "a value")
                return name, f"{tok.text}={rhs.text}"
            return name, tok.text
        self.syntax_error(tok, "an option value")
        raise AssertionError  # not reached

    # --- events -------------------------------------------------------------------------

    def time_value(self) -> int:
        tok = self.peek()
        if tok.kind not in ("FLOAT", "INTEGER"):
            self.syntax_error(tok, "a time")
        self.take()
        if tok.text.startswith("-"):
            raise self.error(tok.line, "negative time")
        return int(Decimal(tok.text) * 1_000_000)

    def event_time(self) -> tuple[int, s.EventTime]:
        tok = self.peek()
        line = tok.line
        if tok.kind == "+":
            self.take()
            line = self.peek().line
            start = self.time_value()
            if self.at("~"):
                self.take()
                self.expect("+", "'+' (a relative range is +a~+b)")
                end = self.time_value()
                return line, s.EventTime(s.TimeType.RELATIVE_RANGE, start, end)
            return line, s.EventTime(s.TimeType.RELATIVE, start)
        if tok.kind == "*":
            self.take()
            return line, s.EventTime(s.TimeType.ANY)
        start = self.time_value()
        if self.at("~"):
            self.take()
            end = self.time_value()
            return line, s.EventTime(s.TimeType.ABSOLUTE_RANGE, start, end)
        return line, s.EventTime(s.TimeType.ABSOLUTE, start)

    def event(self) -> s.Event:
        line, time = self.event_time()
        tok = self.peek()
        action: s.Action
        if tok.kind in ("<", ">"):
            action = self.packet()
        elif tok.kind == "BACK_QUOTED":
            action = s.CommandSpec(str(self.take().value))
        elif tok.kind == "CODE":
            action = s.CodeSpec(str(self.take().value))
        elif tok.kind in ("ELLIPSIS", "WORD"):
            action = self.syscall()
        else:
            self.syntax_error(tok, "a packet, a system call, a command or code")
            raise AssertionError  # not reached
        if time.end_usecs is not None and time.end_usecs < time.usecs:
            raise self.error(line, "time range is backwards")
        outbound = isinstance(action, s.PacketSpec) and not action.inbound
        if time.type is s.TimeType.ANY and not outbound:
            raise self.error(line, "event time <star> can only be used with outbound packets")
        ranges = (s.TimeType.ABSOLUTE_RANGE, s.TimeType.RELATIVE_RANGE)
        if time.type in ranges and not outbound:
            raise self.error(line, "event time range can only be used with outbound packets")
        return s.Event(line, time, action)

    # --- packets ------------------------------------------------------------------------

    def packet(self) -> s.PacketSpec:
        direction = self.take()
        pkt = s.PacketSpec(direction.kind)
        if self.at("IPV4", "IPV6", "GRE", "MPLS", "ENCAP"):
            raise self.error(self.peek().line, "encapsulated packets are not supported")
        if self.at("(", "["):
            self.ip_info(pkt)
        if self.at("ENCAP"):
            raise self.error(self.peek().line, "encapsulated packets are not supported")
        if self.at("UDP"):
            return self.udp_packet(pkt)
        if self.at("ICMP"):
            return self.icmp_packet(pkt)
        self.port_info(pkt)
        pkt.flags_text = self.flags()
        start, length = self.seq_range()
        pkt.seq, pkt.payload_len = start, length
        if self.at("ACK"):
            self.take()
            pkt.ack = self.u_int(_U32, "TCP ack sequence number out of range")
        if self.at("WIN"):
            self.take()
            pkt.window = self.u_int(_U16, "TCP window value out of range")
        if self.at("URG"):
            self.take()
            pkt.urg = self.u_int(_U16, "urg_ptr value out of range")
        pkt.options = self.tcp_options(direction.line) if self.at("<") else ()
        if pkt.options is None and pkt.inbound:
            raise self.error(
                direction.line, "<...> for TCP options can only be used with outbound packets"
            )
        if pkt.window is None and pkt.inbound:
            raise self.error(direction.line, "window must be specified for inbound packets")
        if pkt.tos_check == "ect01" and pkt.inbound:
            raise self.error(direction.line, "[ect01] can only be used with outbound packets")
        return pkt

    def u_int(self, limit: int, message: str) -> int:
        tok = self.expect("INTEGER", "an integer")
        value = int(tok.value or 0)
        if not 0 <= value <= limit:
            raise self.error(tok.line, message)
        return value

    def ip_info(self, pkt: s.PacketSpec) -> None:
        close = ")" if self.take().kind == "(" else "]"
        tok = self.take()
        ecn = {"NO_ECN": 0, "ECT1": 1, "ECT0": 2, "CE": 3}
        if tok.kind in ecn:
            pkt.tos_check, pkt.tos_value = "ecn", ecn[tok.kind]
        elif tok.kind == "ECT01":
            pkt.tos_check = "ect01"
        elif tok.kind == "TOS":
            value = self.expect("HEX_INTEGER", "a hex TOS")
            pkt.tos_check, pkt.tos_value = "tos", int(value.value or 0)
            if pkt.tos_value > 0xFF:
                raise self.error(value.line, "tos out of range for 8 bits")
        elif tok.kind == "FLOWLABEL":
            pkt.flow_label = int(self.expect("HEX_INTEGER", "a hex flow label").value or 0)
        elif tok.kind == "TTL":
            pkt.ttl = self.u_int(0xFF, "ttl out of range")
        else:
            self.syntax_error(tok, "ECN, tos, flowlabel or ttl")
        if self.at(",") and pkt.tos_check != "none":
            self.take()
            self.expect("FLOWLABEL")
            pkt.flow_label = int(self.expect("HEX_INTEGER", "a hex flow label").value or 0)
        self.expect(close)

    def port_info(self, pkt: s.PacketSpec) -> None:
        if self.at("INTEGER") and self.peek(1).kind == ">":
            pkt.src_port = self.u_int(_U16, "src port out of range")
            self.take()
            pkt.dst_port = self.u_int(_U16, "dst port out of range")

    def flags(self) -> str:
        tok = self.take()
        if tok.kind == ".":
            text = "."
        elif tok.kind == "-":
            text = ""
        elif tok.kind == "WORD":
            text = tok.text
            if self.at("."):
                text += self.take().text
            elif self.at("FLOAT") and self.peek().text.startswith("."):
                text += self.take().text  # AccECN: S.5 is "S" + ".5"
        elif tok.kind == "FLOAT" and tok.text.startswith("."):
            text = tok.text
        else:
            self.syntax_error(tok, "TCP flags")
            raise AssertionError  # not reached
        for ch in text:
            if ch not in _VALID_FLAGS:
                raise self.error(tok.line, f"Invalid TCP flag: '{ch}'")
        digits = [ch for ch in text if ch.isdigit()]
        if len(digits) > 1 or (digits and any(ch in "EWA" for ch in text)):
            raise self.error(tok.line, f"Conflicting TCP flag: '{digits[-1]}'")
        return text

    def seq_range(self) -> tuple[int, int]:
        first = self.peek()
        start = self.u_int(_U32, "TCP start sequence number out of range")
        self.expect(":")
        end = self.u_int(_U32, "TCP end sequence number out of range")
        self.expect("(")
        length = self.u_int(_U16, "TCP payload size out of range")
        self.expect(")")
        if end != start + length:
            raise self.error(first.line, "inconsistent TCP sequence numbers and payload size")
        return start, length

    def tcp_options(self, line: int) -> tuple[TCPOption, ...] | None:
        self.expect("<")
        if self.at("ELLIPSIS"):
            self.take()
            self.expect(">")
            return None
        opts = [parse_tcp_option(self)]
        while self.at(","):
            self.take()
            opts.append(parse_tcp_option(self))
        self.expect(">", "',' or '>'")
        total = sum(option_length(o) for o in opts)
        if total > 40:
            raise self.error(line, "TCP option list too long")
        if total % 4:
            raise self.error(
                line,
                "TCP options are not padded correctly to ensure TCP header is a "
                f"multiple of 4 bytes: {total % 4} excess bytes",
            )
        return tuple(opts)

    def udp_packet(self, pkt: s.PacketSpec) -> s.PacketSpec:
        self.take()
        pkt.protocol = "udp"
        self.port_info(pkt)
        self.expect("(")
        pkt.payload_len = self.u_int(_U16, "UDP payload size out of range")
        self.expect(")")
        if pkt.tos_check == "ecn":
            raise self.error(self.peek().line, "ECN can only be used with TCP packets")
        return pkt

    def icmp_packet(self, pkt: s.PacketSpec) -> s.PacketSpec:
        self.take()
        pkt.protocol = "icmp"
        pkt.icmp_type = self.expect("WORD", "an ICMP type").text
        if self.at("WORD"):
            pkt.icmp_code = self.take().text
        if self.at("MTU"):
            self.take()
            pkt.icmp_mtu = self.u_int(_U16, "mtu out of range")
        if self.at("ID"):
            self.take()
            pkt.icmp_id = self.u_int(_U16, "id out of range")
        if self.at("["):
            self.take()
            if self.at("UDP", "RAW"):
                proto = self.take().kind.lower()
                self.expect("(")
                pkt.echoed = (proto, 0, self.u_int(_U16, "payload size out of range"))
                self.expect(")")
            else:
                start, length = self.seq_range()
                pkt.echoed = ("tcp", start, length)
            self.expect("]")
        return pkt

    # --- system calls -------------------------------------------------------------------

    def syscall(self) -> s.SyscallSpec:
        end: int | None = None
        if self.at("ELLIPSIS"):
            self.take()
            end = self.time_value()
        name = self.expect("WORD", "a system call name").text
        self.expect("(")
        args: list[s.Expr] = []
        if not self.at(")"):
            args.append(self.expression())
            while self.at(","):
                self.take()
                args.append(self.expression())
        self.expect(")", "',' or ')'")
        self.expect("=", "'=' and the expected result")
        result = self.expression()
        errno: str | None = None
        note: str | None = None
        if self.at("WORD"):
            errno = self.take().text
        if self.at("("):
            note = self.note()
        return s.SyscallSpec(name, tuple(args), result, errno, note, end)

    def note(self) -> str:
        self.expect("(")
        words: list[str] = []
        while not self.at(")", "EOF"):
            words.append(self.take().text)
        self.expect(")")
        return " ".join(words)

    def expression(self) -> s.Expr:
        left = self.unary()
        while self.at("|"):
            self.take()
            left = s.BinOp("|", left, self.unary())
        return left

    def unary(self) -> s.Expr:
        tok = self.peek()
        kind = tok.kind
        if kind == "ELLIPSIS":
            self.take()
            return s.Ellipsis_()
        if kind in ("INTEGER", "HEX_INTEGER"):
            self.take()
            return s.Int(int(tok.value or 0), kind == "HEX_INTEGER")
        if kind == "WORD":
            self.take()
            if self.at("="):
                self.take()
                return s.Field(tok.text, self.expression())
            return s.Word(tok.text)
        if kind == "STRING":
            text = ""
            while self.at("STRING"):
                text += str(self.take().value)
            if self.at("ELLIPSIS"):
                self.take()
                return s.Str(text, True)
            return s.Str(text)
        if kind == "[":
            self.take()
            return s.ListExpr(self.items("]"))
        if kind == "{":
            self.take()
            return s.Struct(self.items("}", fields=True))
        if kind in ("INET_ADDR", "INET6_ADDR", "HTONS"):
            self.take()
            self.expect("(")
            arg = self.expression()
            self.expect(")")
            return s.Call(tok.text, (arg,))
        self.syntax_error(tok, "an expression")
        raise AssertionError  # not reached

    def items(self, close: str, fields: bool = False) -> tuple[s.Expr, ...]:
        out: list[s.Expr] = []
        while not self.at(close):
            out.append(self.struct_item() if fields else self.expression())
            if not self.at(","):
                break
            self.take()
        self.expect(close, f"',' or '{close}'")
        return tuple(out)

    def struct_item(self) -> s.Expr:
        tok = self.peek()
        nxt = self.peek(1).kind
        if tok.kind in _NAME_KINDS and tok.kind != "WORD" and nxt == "=":
            self.take()
            self.take()
            return s.Field(tok.text, self.expression())
        if tok.kind in _NAME_KINDS and nxt == "(" and tok.kind in ("MSG_NAME", "MSG_IOV"):
            self.take()
            self.take()
            arg = self.expression()
            self.expect(")")
            self.expect("=")
            return s.Field(tok.text, self.expression(), arg)
        return self.expression()
