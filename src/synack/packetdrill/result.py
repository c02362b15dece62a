"""The outcome of running one script, and the summary of many."""

from __future__ import annotations

from dataclasses import dataclass, field

from synack.packetdrill.errors import ScriptFailure


@dataclass
class ScriptResult:
    path: str
    failure: ScriptFailure | None = None
    #: What the run could not do as Linux would and went on without: unsupported
    #: sysctls, shell commands, options.
    notes: list[str] = field(default_factory=list)
    #: Mismatches ``--non_fatal`` turned into warnings.
    warnings: list[str] = field(default_factory=list)
    #: With --verbose: every packet injected and sniffed, as packetdrill prints them.
    trace: list[str] = field(default_factory=list)
    events: int = 0  # events run
    end_time: float = 0.0  # virtual seconds when the script ended

    @property
    def passed(self) -> bool:
        return self.failure is None

    @property
    def reason(self) -> str:
        """A one-line reason: the first line of the failure report."""
        if self.failure is None:
            return ""
        return self.failure.text.splitlines()[0]

    def report(self, verbose: bool = False) -> str:
        lines: list[str] = list(self.trace) if verbose else []
        if self.failure is not None:
            lines.append(self.failure.text)
        lines += [f"warning: {w}" for w in self.warnings]
        if verbose or self.failure is not None:
            lines += [f"note: {n}" for n in self.notes]
        status = "PASS" if self.passed else "FAIL"
        lines.append(f"{status} {self.path} ({self.events} events, {self.end_time:.6f} s)")
        return "\n".join(lines)


def summary(results: list[ScriptResult]) -> str:
    passed = sum(1 for r in results if r.passed)
    return f"{passed} passed, {len(results) - passed} failed"
