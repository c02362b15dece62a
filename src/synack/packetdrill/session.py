"""The state every part of a run shares: the simulator and its clock, the host and what
it sent, the socket under test, and how failures are written (packetdrill's
``path:line: message`` followed by the packets and the script line).
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from synack.packetdrill import script as s
from synack.packetdrill.errors import ScriptFailure
from synack.packetdrill.mapping import SocketUnderTest
from synack.packetdrill.options import RunOptions
from synack.packetdrill.packets import decode_outbound, dump_segment
from synack.packetdrill.result import ScriptResult
from synack.packetdrill.syscalls import FdTable, Operation
from synack.packetdrill.timing import verify_time
from synack.sim.engine import SimScheduler, Simulator
from synack.stack.host import Host


@dataclass
class Pending:
    """A blocking call still waiting (packetdrill's syscall thread)."""

    line: int
    spec: s.SyscallSpec
    op: Operation
    start_usecs: int
    end_usecs: int
    time_type: s.TimeType


class Session:
    """One run's simulator, host, captured packets and bookkeeping."""

    table: FdTable  # set by the runner, which is the table's hooks

    def __init__(self, script: s.Script, options: RunOptions, source: str | None, seed: int):
        self.script = script
        self.opts = options
        self.lines = (source or "").splitlines()
        self.folder = Path(script.path).resolve().parent
        self.sim = Simulator(seed)
        self.result = ScriptResult(script.path)
        self.raw: deque[tuple[float, bytes]] = deque()
        self.host = Host(
            "synack", self.opts.local_ip, clock=self.sim.clock, rng=random.Random(seed)
        )
        self.host.attach(self._capture, SimScheduler(self.sim, self.host.on_timer))
        self.sut: SocketUnderTest | None = None
        self.pending: Pending | None = None
        self.last: tuple[int, bool] | None = None  # (script usecs, inbound packet?)

    def _poll_pending(self) -> None:
        """Let a waiting blocking call complete (the syscall part overrides this)."""

    # --- the clock ----------------------------------------------------------------------

    def _capture(self, data: bytes) -> None:
        self.raw.append((self.sim.now, data))
        if self.opts.verbose:
            self._trace("outbound sent", data)

    def _trace(self, what: str, data: bytes) -> None:
        decoded = decode_outbound(data, self.sim.now)
        text = dump_segment(decoded[2]) if decoded else f"{len(data)} bytes (not TCP)"
        port = f"{decoded[2].src_port}>{decoded[2].dst_port} " if decoded else ""
        self.result.trace.append(f"{what} packet: {self.sim.now:9.6f} {port}{text}")

    def _now_usecs(self) -> int:
        return round(self.sim.now * 1e6)

    def _step(self) -> bool:
        """Run the next simulator event; then let a waiting call complete."""
        if not self.sim.step():
            return False
        self._poll_pending()
        return True

    def _advance_to(self, usecs: int) -> None:
        t = usecs / 1e6
        while True:
            nxt = self.sim.peek()
            if nxt is None or nxt > t:
                break
            self._step()
        if self.sim.now < t:
            self.sim.run(until=t)

    # --- failures -----------------------------------------------------------------------

    def _fail(self, line: int, kind: str, message: str, extra: str = "") -> ScriptFailure:
        text = f"{self.script.path}:{line}: {message}"
        if extra:
            text += "\n" + extra
        if 0 < line <= len(self.lines):
            text += f"\n  script line {line}: {self.lines[line - 1].strip()}"
        text += f"\n  virtual time: {self.sim.now:.6f} s"
        return ScriptFailure(self.script.path, line, kind, text)

    def _fail_or_warn(self, non_fatal: bool, failure: ScriptFailure) -> None:
        if not non_fatal:
            raise failure
        self.result.warnings.append(failure.text)

    def _wait_for_event(self, event: s.Event, at: int, what: str, check: bool) -> None:
        self._advance_to(at)
        if not check:
            return
        err = verify_time(
            self.opts.tolerance,
            event.time.type,
            at,
            None,
            self._now_usecs(),
            self.last[0] if self.last else None,
            what,
        )
        if err is not None:
            raise self._fail(event.line, "timing", err)
