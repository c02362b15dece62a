"""Connection state as a time series (srtt, cwnd, ssthresh, bytes in flight, windows...),
for plots: sample a connection's TCP_INFO-like snapshot at a fixed interval of (virtual)
time, and write the rows as CSV."""

from __future__ import annotations

import csv
from collections.abc import Callable
from typing import IO, Protocol

#: The columns written, in order (all from Connection.info()).
FIELDS = (
    "state",
    "srtt",
    "rttvar",
    "rto",
    "cwnd",
    "ssthresh",
    "bytes_in_flight",
    "sacked",
    "lost",
    "snd_wnd",
    "rcv_wnd",
    "retransmits",
    "total_retrans",
    "ca_state",
)


class _Timed(Protocol):
    def call_later(self, delay: float, fn: Callable[[], None]) -> object: ...

    def clock(self) -> float: ...


class _HasInfo(Protocol):
    def info(self) -> dict[str, object]: ...


class TimeSeries:
    """Samples ``conn.info()`` every ``interval`` seconds while ``keep_going()`` says so
    (by default: until the connection reports CLOSED)."""

    def __init__(self, sim: _Timed, conn: _HasInfo, interval: float = 0.01) -> None:
        if interval <= 0:
            raise ValueError("interval must be > 0")
        self.sim = sim
        self.conn = conn
        self.interval = interval
        self.rows: list[dict[str, object]] = []
        self.sim.call_later(0.0, self._sample)

    def _sample(self) -> None:
        info = self.conn.info()
        row: dict[str, object] = {"time": round(self.sim.clock(), 6)}
        row.update({k: info.get(k) for k in FIELDS})
        self.rows.append(row)
        if info.get("state") != "CLOSED":
            self.sim.call_later(self.interval, self._sample)

    def write_csv(self, out: IO[str]) -> None:
        w = csv.DictWriter(out, fieldnames=("time", *FIELDS))
        w.writeheader()
        w.writerows(self.rows)
