"""Scripts of the shared LIST that synack does not pass yet, and exactly why.

Keys are paths relative to the ``shared/packetdrill`` folder.  ``line`` is the script line
where the run stops today; the reason says what Linux does there (as the script pins
it), what synack does instead, and what else is known to differ further on.  The test
module marks these scripts expected-to-fail (strict), and checks that each still stops
at the recorded line: a script that starts passing, or fails somewhere else, shows up.
The scripts themselves are never edited.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KnownFailure:
    line: int
    reason: str


#: Every script of LIST passes today; a script that cannot pass goes here with its reason.
EXPECTED_FAILURES: dict[str, KnownFailure] = {}
