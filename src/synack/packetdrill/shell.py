"""Backquoted shell commands of a script, read for the TCP settings they make.

packetdrill runs these with the shell; synack has no kernel to configure, so it reads
them instead: ``sysctl [-q] [-w] net.ipv4.NAME=VALUE...``, ``echo VALUE >
/proc/sys/net/ipv4/NAME``, packetdrill's ``set_sysctls.py /proc/sys/net/ipv4/NAME=VALUE...``
(whose ``/tmp/sysctl_restore_*.sh`` undoes it) and included shell files such as
``../common/defaults.sh`` (paths relative to the script's folder, where packetdrill runs).
``$((...))`` integer arithmetic is expanded.  Every other command is reported as
unsupported and skipped, never fatal.
"""

from __future__ import annotations

import ast
import operator
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

_ARITH = re.compile(r"\$\(\((.*?)\)\)")
_REDIRECT = re.compile(r"^[0-9]*(>>?|<)(&[0-9]+)?$")
_PROC_SYS = "/proc/sys/"
_MAX_INCLUDE_DEPTH = 8
_BINOPS: dict[type[ast.operator], Callable[[int, int], int]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
    ast.Div: operator.floordiv,
    ast.Mod: operator.mod,
    ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
    ast.BitOr: operator.or_,
    ast.BitAnd: operator.and_,
}


@dataclass
class ShellEffect:
    """What a command does to the run: sysctl settings in order, and notes."""

    #: (name, value, remember-for-restore); the name "" with value "restore" undoes the
    #: remembered settings (set_sysctls.py's restore script).
    settings: list[tuple[str, str, bool]] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)


def _arith(expr: str) -> int:
    """Evaluate shell ``$(( ))`` integer arithmetic (numbers and operators only)."""

    def ev(node: ast.AST) -> int:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return _BINOPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        raise ValueError(f"unsupported arithmetic: {expr}")

    return ev(ast.parse(expr.strip(), mode="eval"))


def _expand(text: str) -> str:
    return _ARITH.sub(lambda m: str(_arith(m.group(1))), text)


def _split_line(line: str) -> list[str]:
    """Cut a line at ``;``, ``&&``, ``||``, ``|`` and a background ``&`` outside quotes
    (an ``&`` right after ``>``, as in ``2>&1``, is part of a redirection)."""
    parts: list[str] = []
    cur: list[str] = []
    quote = ""
    i = 0
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == quote:
                quote = ""
            elif ch == "\\" and quote == '"' and i + 1 < len(line):
                cur.append(ch)
                i += 1
                ch = line[i]
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (not cur or cur[-1] in " \t"):
            break
        elif ch in ";|" or (ch == "&" and not (cur and cur[-1] == ">")):
            parts.append("".join(cur))
            cur = []
            if i + 1 < len(line) and line[i + 1] == ch:
                i += 1
            i += 1
            continue
        cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return [p for p in parts if p.strip()]


def _commands(text: str) -> list[list[str]]:
    """Split shell text into simple commands (words), joining ``\\`` continuations and
    cutting at newlines and command separators; comments are dropped."""
    text = text.replace("\\\n", " ")
    out: list[list[str]] = []
    for raw_line in text.splitlines():
        for part in _split_line(_expand(raw_line)):
            try:
                words = shlex.split(part, posix=True)
            except ValueError:
                words = part.split()
            if words:
                out.append(words)
    return out


def _strip_redirections(words: list[str]) -> tuple[list[str], str | None]:
    """Drop ``> file``, ``2>&1`` and the like; return the words and a ``>`` target."""
    kept: list[str] = []
    target: str | None = None
    i = 0
    while i < len(words):
        w = words[i]
        if _REDIRECT.match(w):
            if not w.endswith(("&1", "&2")) and i + 1 < len(words):
                if w in (">", "1>", ">>"):
                    target = words[i + 1]
                i += 1
        elif w.startswith(">") and len(w) > 1:
            target = w.lstrip(">")
        else:
            kept.append(w)
        i += 1
    return kept, target


def _proc_name(path: str) -> str | None:
    """``/proc/sys/net/ipv4/tcp_sack`` -> ``net.ipv4.tcp_sack``."""
    if not path.startswith(_PROC_SYS):
        return None
    return path[len(_PROC_SYS) :].replace("/", ".")


def interpret(text: str, folder: Path, _depth: int = 0) -> ShellEffect:
    """Read one backquoted command (or an included file) run from ``folder``."""
    effect = ShellEffect()
    for words in _commands(text):
        _one(words, folder, effect, _depth)
    return effect


def _root_qdisc(args: list[str]) -> str | None:
    """The qdisc of ``tc qdisc add|replace dev DEV root KIND`` when synack has its
    equivalent: ``fq`` (whose pacing synack's TCPConfig.pacing does) with no parameters,
    or a plain ``pfifo`` (no pacing); None for anything else (reported unsupported)."""
    if len(args) != 6 or args[0] != "qdisc" or args[1] not in ("add", "replace"):
        return None
    if args[2] != "dev" or args[4] != "root" or args[5] not in ("fq", "pfifo"):
        return None
    return args[5]


def _one(words: list[str], folder: Path, effect: ShellEffect, depth: int) -> None:
    words, target = _strip_redirections(words)
    if not words:
        return
    cmd = words[0]
    name = cmd.rsplit("/", 1)[-1]
    if name == "sysctl":
        for arg in words[1:]:
            if arg.startswith("-"):
                continue
            name_, eq, value = arg.partition("=")
            if eq:
                effect.settings.append((name_.strip(), value.strip(), False))
            else:
                effect.unsupported.append(f"sysctl read of {arg} (ignored)")
        return
    if name == "set_sysctls.py":
        for arg in words[1:]:
            path, eq, value = arg.partition("=")
            proc_key = _proc_name(path)
            if eq and proc_key:
                effect.settings.append((proc_key, value, True))
            else:
                effect.unsupported.append(f"set_sysctls.py argument {arg!r}")
        return
    if name.startswith("sysctl_restore") and name.endswith(".sh"):
        effect.settings.append(("", "restore", False))
        return
    if name == "tc":
        qdisc = _root_qdisc(words[1:])
        if qdisc is not None:
            effect.settings.append(("qdisc", qdisc, False))
            return
    proc = _proc_name(target) if target else None
    if name == "echo" and proc:
        effect.settings.append((proc, " ".join(words[1:]), False))
        return
    if cmd.endswith(".sh") or "/" in cmd:
        included = (folder / cmd).resolve() if not cmd.startswith("/") else Path(cmd)
        if included.is_file() and included.suffix == ".sh" and depth < _MAX_INCLUDE_DEPTH:
            # The shell runs it in the same working directory (the script's folder).
            inner = interpret(included.read_text(), folder, depth + 1)
            effect.settings += inner.settings
            effect.unsupported += inner.unsupported
            return
    effect.unsupported.append(" ".join(shlex.quote(w) for w in words))
