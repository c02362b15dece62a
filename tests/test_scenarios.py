"""Every scenario of the catalog replays exactly as the RFC figures say."""

import pytest

from synack.scenarios import SCENARIOS, by_name
from synack.trace.events import Note
from synack.wire.ip import decode_ipv4
from synack.wire.tcp import Flags, decode_tcp


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario_segments_and_states(scenario):
    result = scenario.run(seed=0)
    assert result.segments() == list(scenario.segments)
    for host, states in scenario.states.items():
        assert result.states(host) == list(states), host


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario_does_not_depend_on_the_seed(scenario):
    """The ISNs and ports change with the seed; the story told relative to them does not."""
    assert scenario.run(seed=7).segments() == list(scenario.segments)


def test_same_seed_gives_byte_identical_traces_and_pcap(tmp_path):
    s = by_name("lost-last-ack")
    a, b = s.run(seed=3), s.run(seed=3)
    assert a.report(pcap=str(tmp_path / "a.pcap")) == b.report(pcap=str(tmp_path / "b.pcap"))
    assert (tmp_path / "a.pcap").read_bytes() == (tmp_path / "b.pcap").read_bytes()
    c = s.run(seed=4)
    assert c.recorder.tcpdump_text() != a.recorder.tcpdump_text()


def _tcp(event):
    ip = decode_ipv4(event.data)
    return decode_tcp(ip.payload, ip.src, ip.dst)


def test_connect_timeout_backs_off_1_2_4_8_16_32_then_etimedout():
    r = by_name("connect-timeout").run()
    times = [e.time for e in r.recorder.packets("send")]
    assert times == [0.0, 1.0, 3.0, 7.0, 15.0, 31.0, 63.0]
    closed = [c for c in r.recorder.state_changes("client") if c.new == "CLOSED"]
    assert [c.time for c in closed] == [127.0]
    assert any("ETIMEDOUT" in n.text for n in r.recorder.notes("client"))


def test_refused_connect_reports_econnrefused():
    r = by_name("refused").run()
    assert any("ECONNREFUSED" in n.text for n in r.recorder.notes("client"))
    assert r.testbed.server.counters["OutRsts"] == 1
    assert r.testbed.server.drops["tcp_no_socket"] == 1


def test_wraparound_data_crosses_two_to_the_32():
    r = by_name("wraparound").run()
    data = [(e, _tcp(e)) for e in r.recorder.packets("send") if _tcp(e).payload]
    (_, c_seg), (_, s_seg) = data
    assert c_seg.seq == 2**32 - 4 and (c_seg.seq + len(c_seg.payload)) > 2**32
    assert s_seg.seq == 2**32 - 9 and (s_seg.seq + len(s_seg.payload)) > 2**32
    fins = [s for _, s in ((e, _tcp(e)) for e in r.recorder.packets("send")) if s.fin]
    assert all(f.seq < 100 for f in fins)  # both FINs sit past the wrap


def test_time_wait_refuses_the_same_four_tuple_until_it_ends():
    r = by_name("time-wait-reuse").run()
    notes = [n for n in r.recorder.notes("client") if isinstance(n, Note)]
    assert any("EADDRNOTAVAIL" in n.text and n.time == 1.0 for n in notes)
    second_syn = [e for e in r.recorder.packets("send") if _tcp(e).flags == Flags.SYN][-1]
    assert second_syn.time == 62.0
    assert _tcp(second_syn).src_port == 40000


def test_time_wait_lasts_2msl_and_fin_wait_2_orphans_time_out():
    r = by_name("normal-close").run()
    tw = [c for c in r.recorder.state_changes("client") if c.old == "TIME_WAIT"]
    entered = [c for c in r.recorder.state_changes("client") if c.new == "TIME_WAIT"]
    assert tw[0].time - entered[0].time == pytest.approx(60.0)
    r2 = by_name("fin-wait-2-timeout").run()
    fw2 = [c for c in r2.recorder.state_changes("client") if c.new == "FIN_WAIT_2"]
    end = [c for c in r2.recorder.state_changes("client") if c.old == "FIN_WAIT_2"]
    assert end[0].time - fw2[0].time == pytest.approx(60.0)


def test_half_open_discovery_resets_the_stale_side():
    r = by_name("half-open").run()
    assert any("ECONNRESET" in n.text for n in r.recorder.notes("server"))
    assert r.testbed.server.counters["EstabResets"] == 1


def test_counters_after_a_normal_close():
    r = by_name("normal-close").run()
    c, s = r.testbed.client.counters, r.testbed.server.counters
    assert c["ActiveOpens"] == 1 and s["PassiveOpens"] == 1
    assert c["CurrEstab"] == 0 and s["CurrEstab"] == 0
    assert c["OutSegs"] == len([x for x in r.segments() if x.startswith("C>S")])
    assert s["InSegs"] == c["OutSegs"] and c["InSegs"] == s["OutSegs"]
    assert c["RetransSegs"] == 0 and c["OutRsts"] == 0
