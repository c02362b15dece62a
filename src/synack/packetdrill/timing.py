"""When things must happen: packetdrill's verify_time, in microseconds of script time.

An event may happen within ``tolerance`` of its time: the larger of ``--tolerance_usecs``
(4 ms by default) and ``--tolerance_percent`` (12.5 % by default) of the time since the
previous event.  A range ``a~b`` widens the window to [a - tolerance, b + tolerance];
``*`` matches any time.
"""

from __future__ import annotations

from dataclasses import dataclass

from synack.packetdrill.script import TimeType

#: packetdrill config.c defaults.
DEFAULT_TOLERANCE_USECS = 4000
DEFAULT_TOLERANCE_PERCENT = 12.5


@dataclass(frozen=True, slots=True)
class Tolerance:
    usecs: int = DEFAULT_TOLERANCE_USECS
    percent: float = DEFAULT_TOLERANCE_PERCENT

    def allowed(self, script_usecs: int, last_event_usecs: int | None) -> int:
        tol = self.usecs
        if last_event_usecs is not None:
            dynamic = int(self.percent / 100.0 * (script_usecs - last_event_usecs))
            tol = max(tol, dynamic)
        return tol


def secs(usecs: int | float) -> str:
    return f"{usecs / 1e6:.6f}"


def verify_time(
    tolerance: Tolerance,
    time_type: TimeType,
    script_usecs: int,
    script_end_usecs: int | None,
    actual_usecs: int,
    last_event_usecs: int | None,
    description: str,
    offset_usecs: int = 0,
) -> str | None:
    """None if ``actual_usecs`` is acceptable, else packetdrill's timing error text."""
    if time_type is TimeType.ANY:
        return None
    tol = tolerance.allowed(script_usecs, last_event_usecs)
    if time_type in (TimeType.ABSOLUTE_RANGE, TimeType.RELATIVE_RANGE):
        end = script_end_usecs if script_end_usecs is not None else script_usecs
        if script_usecs - tol <= actual_usecs <= end + tol:
            return None
        if time_type is TimeType.ABSOLUTE_RANGE:
            return (
                f"timing error: expected {description} in time range "
                f"{secs(script_usecs)}~{secs(end)} sec but happened at {secs(actual_usecs)} sec"
            )
        return (
            f"timing error: expected {description} in relative time range "
            f"+{secs(script_usecs - offset_usecs)}~+{secs(end - offset_usecs)} sec but "
            f"happened at {'+' if actual_usecs >= offset_usecs else '-'}"
            f"{secs(abs(actual_usecs - offset_usecs))} sec"
        )
    if script_usecs - tol <= actual_usecs <= script_usecs + tol:
        return None
    return (
        f"timing error: expected {description} at {secs(script_usecs)} sec but happened at "
        f"{secs(actual_usecs)} sec; tolerance {secs(tol)} sec"
    )
