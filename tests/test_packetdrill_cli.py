"""``synack packetdrill``: one report per script, a summary line for a LIST or folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from synack.cli import main

SCRIPT = """\
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>
+0 > S. 0:0(0) ack 1 <mss 1460,nop,wscale {shift}>
"""


def write(folder: Path, name: str, shift: int) -> Path:
    path = folder / name
    path.write_text(SCRIPT.format(shift=shift))
    return path


def test_script_that_passes_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "ok.pkt", 7)
    assert main(["packetdrill", str(path)]) == 0
    assert capsys.readouterr().out.startswith(f"PASS {path}")


def test_failing_script_prints_packetdrill_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "bad.pkt", 9)
    assert main(["packetdrill", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path}:5: error handling packet: bad value in outbound TCP option (kind=3)" in out
    assert "script packet:  0.000000 S. 0:0(0) ack 1 <mss 1460,nop,wscale 9>" in out


def test_summary_of_a_list_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "a.pkt", 7)
    write(tmp_path, "b.pkt", 9)
    (tmp_path / "LIST").write_text("# name  # what\na.pkt  # passes\nb.pkt  # fails\n")
    assert main(["packetdrill", "--summary", str(tmp_path / "LIST")]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "PASS a.pkt"
    assert lines[1].startswith("FAIL b.pkt: ")
    assert lines[-1] == "1 passed, 1 failed"


def test_summary_of_a_folder_and_define(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "c.pkt").write_text(SCRIPT.replace("{shift}", "SHIFT"))
    assert main(["packetdrill", "-D", "SHIFT=7", "--summary", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "1 passed, 0 failed"


def test_no_script_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["packetdrill"]) == 2
    assert "give SCRIPT" in capsys.readouterr().err
