"""Linux's packetdrill scripts (the shared LIST) against synack.

Every script LIST names runs here.  A script that synack cannot pass yet is recorded in
:data:`synack.packetdrill.expected_failures.EXPECTED_FAILURES` with the line where it stops
and why; it is marked expected-to-fail (strict), and it must still stop at that line:
if it starts passing, or fails elsewhere, the test fails so the record gets updated.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from synack.packetdrill import list_scripts, run_file
from synack.packetdrill.expected_failures import EXPECTED_FAILURES

ROOT = Path(__file__).parents[2] / "shared" / "packetdrill"
SCRIPTS = list_scripts(ROOT / "LIST") if (ROOT / "LIST").is_file() else []


class KnownScriptFailure(Exception):
    """The script stopped where EXPECTED_FAILURES says it does."""


def _params() -> list[object]:
    params = []
    for path in SCRIPTS:
        name = path.relative_to(ROOT).as_posix()
        known = EXPECTED_FAILURES.get(name)
        marks = []
        if known is not None:
            reason = f"line {known.line}: {known.reason}"
            marks.append(pytest.mark.xfail(strict=True, raises=KnownScriptFailure, reason=reason))
        params.append(pytest.param(path, id=name, marks=marks))
    return params


@pytest.mark.skipif(not SCRIPTS, reason=f"no packetdrill LIST at {ROOT}")
@pytest.mark.parametrize("script", _params())
def test_linux_script(script: Path) -> None:
    result = run_file(script)
    if result.passed:
        return
    assert result.failure is not None
    known = EXPECTED_FAILURES.get(script.relative_to(ROOT).as_posix())
    if known is not None and result.failure.line == known.line:
        raise KnownScriptFailure(result.failure.text)
    pytest.fail(result.report(), pytrace=False)


@pytest.mark.skipif(not SCRIPTS, reason=f"no packetdrill LIST at {ROOT}")
def test_every_expected_failure_names_a_listed_script() -> None:
    listed = {p.relative_to(ROOT).as_posix() for p in SCRIPTS}
    assert set(EXPECTED_FAILURES) <= listed
    assert all(p.is_file() for p in SCRIPTS)
