import io

from synack.scenarios.apps import Client, Server
from synack.scenarios.testbed import Testbed
from synack.trace.timeseries import FIELDS, TimeSeries


def test_cwnd_time_series_shows_slow_start_and_ends_closed():
    tb = Testbed(1)
    series: list[TimeSeries] = []
    srv = Server(tb, reply=b"r" * 300_000, close_after=0.0, request_size=1)
    srv.on_connection = lambda h: series.append(TimeSeries(tb.sim, h.conn, interval=0.05))
    srv.start()
    Client(tb, request=b"q", close_after=0.0, expect_bytes=300_000).start()
    tb.run()
    (ts,) = series
    cwnds = [r["cwnd"] for r in ts.rows if r["state"] == "ESTABLISHED"]
    mss = 1448
    assert cwnds[0] == 10 * mss  # IW10
    assert max(cwnds) >= 4 * cwnds[0]  # slow start at 100 ms RTT: doubling per RTT
    assert ts.rows[-1]["state"] == "CLOSED"
    srtts = [r["srtt"] for r in ts.rows if r["srtt"]]
    assert abs(srtts[-1] - 0.1) < 0.02  # the testbed's 100 ms RTT
    out = io.StringIO()
    ts.write_csv(out)
    header = out.getvalue().splitlines()[0].split(",")
    assert header == ["time", *FIELDS]
    assert len(out.getvalue().splitlines()) == len(ts.rows) + 1
