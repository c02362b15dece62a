"""System call events: non-blocking calls run to completion before the script goes on;
calls marked blocking (``+0...0.1 read(...)``) wait while the script goes on, and their
return time is checked when they complete (packetdrill's syscall thread).  Results and
errnos are compared as packetdrill's end_syscall compares them.
"""

from __future__ import annotations

import os

from synack.packetdrill import script as s
from synack.packetdrill.session import Pending, Session
from synack.packetdrill.symbols import EvalError, errno_value, to_int
from synack.packetdrill.syscalls import Operation, SyscallError, SyscallResult
from synack.packetdrill.timing import verify_time

#: packetdrill waits up to 1 s for a blocking call to finish (await_idle_thread).
AWAIT_IDLE_SECS = 1.0
#: How long a call not marked blocking may wait in virtual time before the run is
#: declared stuck (packetdrill would wait for ever).
MAX_BLOCK_SECS = 3600.0


class SyscallEvents(Session):
    def _syscall(
        self, event: s.Event, spec: s.SyscallSpec, at: int, sys_end: int | None, check: bool
    ) -> None:
        if spec.blocking and self.pending is not None:
            self._await_idle()
            if self.pending is not None:
                raise self._fail(
                    event.line,
                    "syscall",
                    f"runtime error in {spec.name} call: blocking system call while another "
                    "blocking system call is already in progress",
                )
        elif self.pending is not None:
            self._await_idle()
        self._wait_for_event(event, at, "system call start", check)
        try:
            op = self.table.start(spec)
            result = op.attempt()
        except (SyscallError, EvalError) as e:
            raise self._fail(
                event.line, "syscall", f"runtime error in {spec.name} call: {e}"
            ) from e
        if op.deadline is not None:
            self.sim.call_at(op.deadline, lambda: None)  # wake the waiting call on time
        if spec.blocking:
            assert sys_end is not None
            pending = Pending(event.line, spec, op, at, sys_end, event.time.type)
            if result is None:
                self.pending = pending
            else:
                self._finish_blocking(pending, result)
            return
        limit = self.sim.now + MAX_BLOCK_SECS
        while result is None:
            nxt = self.sim.peek()
            if nxt is None or nxt > limit:
                raise self._fail(
                    event.line,
                    "syscall",
                    f"runtime error in {spec.name} call: the call blocks and nothing is left "
                    "to happen (mark it blocking with '...' if it should wait)",
                )
            self._step()
            result = self._attempt(event.line, spec, op)
        self._check_result(event.line, spec, result)

    def _attempt(self, line: int, spec: s.SyscallSpec, op: Operation) -> SyscallResult | None:
        try:
            return op.attempt()
        except (SyscallError, EvalError) as e:
            raise self._fail(line, "syscall", f"runtime error in {spec.name} call: {e}") from e

    def _poll_pending(self) -> None:
        p = self.pending
        if p is None:
            return
        result = self._attempt(p.line, p.spec, p.op)
        if result is not None:
            self.pending = None
            self._finish_blocking(p, result)

    def _await_idle(self) -> None:
        limit = self.sim.now + AWAIT_IDLE_SECS
        while self.pending is not None:
            nxt = self.sim.peek()
            if nxt is None or nxt > limit:
                return
            self._step()

    def _finish_blocking(self, p: Pending, result: SyscallResult) -> None:
        self._check_result(p.line, p.spec, result)
        err = verify_time(
            self.opts.tolerance,
            p.time_type,
            p.end_usecs,
            None,
            self._now_usecs(),
            p.start_usecs,
            "system call return",
        )
        if err is not None:
            failure = self._fail(p.line, "timing", err)
            self._fail_or_warn(self.opts.non_fatal_syscall, failure)

    def _check_result(self, line: int, spec: s.SyscallSpec, res: SyscallResult) -> None:
        try:
            expected = to_int(spec.result)
            want_errno = errno_value(spec.errno) if spec.errno else None
        except EvalError as e:
            raise self._fail(line, "syscall", f"runtime error in {spec.name} call: {e}") from e
        actual_errno = res.errno or 0
        problem: str | None = None
        if spec.name in ("socket", "accept") and expected >= 0:
            if res.value < 0:
                problem = (
                    f"Expected non-negative result but got {res.value} with errno "
                    f"{actual_errno} ({_strerror(actual_errno)})"
                )
        elif res.value != expected:
            problem = (
                f"Expected result {expected} but got {res.value} with errno "
                f"{actual_errno} ({_strerror(actual_errno)})"
            )
        if problem is None and want_errno is not None and actual_errno != want_errno:
            problem = (
                f"Expected errno {want_errno} ({_strerror(want_errno)}) but got "
                f"{actual_errno} ({_strerror(actual_errno)})"
            )
        problem = problem or res.problem
        if problem is not None:
            failure = self._fail(line, "syscall", f"runtime error in {spec.name} call: {problem}")
            self._fail_or_warn(self.opts.non_fatal_syscall, failure)


def _strerror(code: int) -> str:
    return "Success" if code == 0 else os.strerror(code)
