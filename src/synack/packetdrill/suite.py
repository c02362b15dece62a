"""Running scripts from files: one script, or every script a LIST file or folder names."""

from __future__ import annotations

from pathlib import Path

from synack.packetdrill.errors import LexError, ParseError, ScriptFailure
from synack.packetdrill.options import RunOptions
from synack.packetdrill.parser import parse_script
from synack.packetdrill.result import ScriptResult
from synack.packetdrill.runner import Runner


def run_file(path: str | Path, options: RunOptions | None = None) -> ScriptResult:
    """Parse and run one script; a parse error is a failed result, not an exception."""
    p = Path(path)
    source = p.read_text()
    opts = options or RunOptions()
    try:
        script = parse_script(source, str(path), dict(opts.defines))
    except (ParseError, LexError) as e:
        failure = ScriptFailure(str(path), e.line, "parse", str(e))
        return ScriptResult(str(path), failure)
    return Runner(script, opts, source=source).run()


def list_scripts(target: str | Path) -> list[Path]:
    """The scripts a LIST file names (first word of each non-comment line, relative to
    the file's folder), or every ``*.pkt`` under a folder, sorted."""
    t = Path(target)
    if t.is_dir():
        listed = t / "LIST"
        if listed.is_file():
            return list_scripts(listed)
        return sorted(t.rglob("*.pkt"))
    out: list[Path] = []
    for line in t.read_text().splitlines():
        word = line.split("#", 1)[0].strip().split()
        if word:
            out.append(t.parent / word[0])
    return out
