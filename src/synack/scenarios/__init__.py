"""Scenarios: the classic TCP stories, played on the simulator and checked.

``synack scenario --list`` lists them; ``synack scenario NAME`` runs one and prints the
tcpdump-style trace, the state log and the sequence diagram.
"""

from synack.scenarios.base import Scenario, ScenarioResult, summarize
from synack.scenarios.catalog import SCENARIOS


def by_name(name: str) -> Scenario | None:
    for s in SCENARIOS:
        if s.name == name:
            return s
    return None


__all__ = ["SCENARIOS", "Scenario", "ScenarioResult", "by_name", "summarize"]
