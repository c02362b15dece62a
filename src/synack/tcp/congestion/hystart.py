"""HyStart++ (RFC 9406): leave slow start when the RTT starts to climb, before the
queue overflows, through a few rounds of Conservative Slow Start (CSS).

Linux runs HyStart with CUBIC (tcp_cubic's hystart = 1); synack uses the standardized
HyStart++ form of the same idea.  The connection reports every RTT sample and the start
of every round (a window of data: SND.UNA passing the SND.NXT of the round's start).
"""

from __future__ import annotations

import math

# RFC 9406 §4.3 constants.
MIN_RTT_THRESH = 0.004
MAX_RTT_THRESH = 0.016
MIN_RTT_DIVISOR = 8
N_RTT_SAMPLE = 8
CSS_GROWTH_DIVISOR = 4
CSS_ROUNDS = 5


class HyStartPP:
    def __init__(self) -> None:
        self.last_round_min_rtt = math.inf
        self.current_round_min_rtt = math.inf
        self.samples = 0
        self.in_css = False
        self.css_baseline = math.inf
        self.css_rounds = 0
        self.done = False  # slow start has been left for good (loss, or CSS ran out)
        self.exits = 0  # times CSS was entered (introspection)

    def on_round_start(self) -> bool:
        """A new round begins; returns True when CSS has run its rounds and slow start
        should end (§4.2: "set ssthresh to cwnd")."""
        if self.done:
            return False
        self.last_round_min_rtt = self.current_round_min_rtt
        self.current_round_min_rtt = math.inf
        self.samples = 0
        if self.in_css:
            self.css_rounds += 1
            if self.css_rounds >= CSS_ROUNDS:
                self.in_css = False
                self.done = True
                return True
        return False

    def on_rtt_sample(self, rtt: float) -> None:
        if self.done:
            return
        self.current_round_min_rtt = min(self.current_round_min_rtt, rtt)
        self.samples += 1
        if self.samples < N_RTT_SAMPLE:
            return
        if not self.in_css:
            if math.isinf(self.current_round_min_rtt) or math.isinf(self.last_round_min_rtt):
                return
            thresh = min(
                max(self.last_round_min_rtt / MIN_RTT_DIVISOR, MIN_RTT_THRESH), MAX_RTT_THRESH
            )
            if self.current_round_min_rtt >= self.last_round_min_rtt + thresh:
                self.css_baseline = self.current_round_min_rtt
                self.in_css = True  # §4.2: delay increase: enter CSS
                self.css_rounds = 0
                self.exits += 1
        elif self.current_round_min_rtt < self.css_baseline:
            self.in_css = False  # §4.2: the RTT came back down: a spurious exit

    def growth(self, acked: int) -> int:
        """Slow-start growth for ``acked`` bytes: divided by 4 in CSS (§4.2)."""
        return acked // CSS_GROWTH_DIVISOR if self.in_css else acked

    def on_congestion(self) -> None:
        """A loss or ECN echo in slow start or CSS ends HyStart++ (§4.2)."""
        self.in_css = False
        self.done = True
