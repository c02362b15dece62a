"""The impairment model on its own: timing, queueing, randomness, bit-level effects."""

import dataclasses
import random
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from synack.link.impairment import (
    Impairment,
    ImpairmentConfig,
    PacketInfo,
    drop_matching,
    drop_nth,
    mark_ce,
)


def _checksum(data: bytes) -> int:
    """RFC 1071 Internet checksum, written out independently of synack.wire."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _ipv4(payload: bytes = b"", tos: int = 0, ident: int = 0, ihl: int = 5) -> bytes:
    """A minimal IPv4 packet with a valid header checksum."""
    options = b"\x01" * (ihl * 4 - 20)
    header = bytearray(
        struct.pack(
            "!BBHHHBBH4s4s",
            0x40 | ihl,
            tos,
            ihl * 4 + len(payload),
            ident,
            0x4000,
            64,
            17,
            0,
            bytes([192, 0, 2, 1]),
            bytes([192, 0, 2, 2]),
        )
        + options
    )
    header[10:12] = _checksum(bytes(header)).to_bytes(2, "big")
    return bytes(header) + payload


def _imp(seed: int = 0, **cfg: object) -> Impairment:
    return Impairment(ImpairmentConfig(**cfg), random.Random(seed))  # type: ignore[arg-type]


def _times(result):
    assert not isinstance(result, str), result
    return [t for t, _ in result]


def test_a_perfect_link_delivers_one_unchanged_copy_immediately():
    imp = _imp()
    assert imp.offer(b"abc", 1.25, "a", "b") == [(1.25, b"abc")]


def test_delay_is_added_to_the_send_time():
    imp = _imp(delay=0.05)
    assert _times(imp.offer(b"x", 2.0)) == [2.05]


def test_jitter_stays_within_bounds_and_actually_varies():
    imp = _imp(seed=4, delay=0.01, jitter=0.004)
    times = [_times(imp.offer(b"x", 0.0))[0] for _ in range(2000)]
    assert all(0.006 - 1e-12 <= t <= 0.014 + 1e-12 for t in times)
    assert max(times) - min(times) > 0.007  # spread over (nearly) the whole range


def test_jitter_larger_than_the_delay_never_makes_a_negative_delay():
    imp = _imp(seed=2, delay=0.001, jitter=0.01)
    times = [_times(imp.offer(b"x", 5.0))[0] for _ in range(2000)]
    assert min(times) == 5.0 and all(t >= 5.0 for t in times)


def test_bandwidth_serialises_back_to_back_packets_without_drift():
    imp = _imp(rate_bps=1_000_000)
    times = [_times(imp.offer(bytes(1250), 0.0))[0] for _ in range(10)]
    assert times == [(i + 1) * 10_000 / 1_000_000 for i in range(10)]  # 10 ms apart
    assert times == pytest.approx([0.01 * (i + 1) for i in range(10)])
    # Long bursts stay exact: 10,000 packets finish at exactly 100 s.
    imp = _imp(rate_bps=1_000_000)
    for _ in range(9999):
        imp.offer(bytes(1250), 0.0)
    assert _times(imp.offer(bytes(1250), 0.0)) == [100.0]


def test_an_idle_transmitter_starts_at_the_send_time():
    imp = _imp(rate_bps=8000, delay=0.5)  # 1000 bytes per second
    assert _times(imp.offer(bytes(100), 0.0)) == [0.1 + 0.5]
    assert _times(imp.offer(bytes(100), 3.0)) == [3.1 + 0.5]
    assert _times(imp.offer(bytes(100), 3.05)) == [pytest.approx(3.2 + 0.5)]


def test_queue_limit_tail_drops_a_burst_beyond_one_plus_the_limit():
    imp = _imp(rate_bps=1_000_000, queue_limit=3)
    results = [imp.offer(bytes(1000), 0.0) for _ in range(10)]
    assert [r for r in results if isinstance(r, str)] == ["queue_full"] * 6
    assert imp.drops["queue_full"] == 6


def test_the_queue_drains_as_time_passes():
    imp = _imp(rate_bps=8000, queue_limit=0)  # 100 bytes = 0.1 s, nothing may wait
    assert not isinstance(imp.offer(bytes(100), 0.0), str)
    assert imp.offer(bytes(100), 0.05) == "queue_full"
    assert imp.backlog(0.05) == 1 and imp.backlog(0.1) == 0
    assert _times(imp.offer(bytes(100), 0.1)) == [pytest.approx(0.2)]


def test_random_loss_rate_is_near_its_probability():
    imp = _imp(seed=11, loss=0.1)
    n = 20_000
    lost = sum(imp.offer(b"x", 0.0) == "loss" for _ in range(n))
    # 5 standard deviations: sqrt(n p (1-p)) is about 42.
    assert abs(lost - n * 0.1) < 5 * (n * 0.1 * 0.9) ** 0.5
    assert imp.drops["loss"] == lost


def test_loss_of_one_drops_everything_and_zero_nothing():
    assert {_imp(loss=1.0).offer(b"x", 0.0)} == {"loss"}
    imp = _imp(loss=0.0)
    assert all(len(_times(imp.offer(b"x", 0.0))) == 1 for _ in range(100))


def test_a_lost_packet_still_used_the_transmitter():
    imp = _imp(rate_bps=8000, loss=1.0)
    imp.offer(bytes(100), 0.0)
    assert imp.backlog(0.05) == 1


def test_duplication_gives_two_copies_of_the_same_bytes():
    imp = _imp(duplicate=1.0, delay=0.02)
    result = imp.offer(b"payload", 1.0)
    assert result == [(1.02, b"payload"), (1.02, b"payload")]


def test_duplication_rate_is_near_its_probability():
    imp = _imp(seed=3, duplicate=0.25)
    copies = sum(len(_times(imp.offer(b"x", 0.0))) for _ in range(10_000))
    assert 2300 < copies - 10_000 < 2700


def test_reordering_holds_some_packets_back_by_the_reorder_delay():
    imp = _imp(seed=9, delay=0.01, reorder=0.3, reorder_delay=0.005)
    times = [_times(imp.offer(b"x", 0.0))[0] for _ in range(1000)]
    assert set(times) == {0.01, 0.015}
    assert 240 < times.count(0.015) < 360


def test_corruption_flips_exactly_one_bit_anywhere():
    imp = _imp(seed=5, corrupt=1.0)
    data = bytes(range(64))
    positions = set()
    for _ in range(2000):
        ((_, out),) = imp.offer(data, 0.0)
        diff = int.from_bytes(data, "big") ^ int.from_bytes(out, "big")
        assert diff.bit_count() == 1 and len(out) == len(data)
        positions.add(diff.bit_length())
    assert len(positions) > 400  # spread over most of the 512 bits


def test_header_corruption_is_caught_by_the_ipv4_checksum():
    imp = _imp(seed=6, corrupt=1.0)
    pkt = _ipv4(b"")  # header only: every flipped bit lands in the header
    for _ in range(200):
        ((_, out),) = imp.offer(pkt, 0.0)
        assert _checksum(out) != 0


def test_ecn_marks_ect_packets_once_the_backlog_reaches_the_threshold():
    imp = _imp(rate_bps=1_000_000, ecn_mark_threshold=2)
    ecn = []
    for i in range(5):
        ((_, out),) = imp.offer(_ipv4(bytes(1000), tos=0b10, ident=i), 0.0)
        ecn.append(out[1] & 0b11)
        assert _checksum(out[:20]) == 0
    assert ecn == [0b10, 0b10, 0b11, 0b11, 0b11]


def test_ecn_marking_leaves_not_ect_packets_alone():
    imp = _imp(rate_bps=1_000_000, ecn_mark_threshold=0)
    pkt = _ipv4(bytes(100), tos=0b101000_00)  # DSCP set, Not-ECT
    assert [d for _, d in imp.offer(pkt, 0.0)] == [pkt]
    assert imp.drops == {}


def test_ecn_threshold_zero_marks_even_on_an_infinitely_fast_link():
    imp = _imp(ecn_mark_threshold=0)
    ((_, out),) = imp.offer(_ipv4(b"hi", tos=0b01), 0.0)
    assert out[1] & 0b11 == 0b11 and _checksum(out[:20]) == 0


def test_mark_ce_ignores_non_ipv4_and_short_input():
    assert mark_ce(b"\x60\x02" + bytes(38)) == b"\x60\x02" + bytes(38)  # IPv6
    assert mark_ce(b"\x45\x02") == b"\x45\x02"


@given(
    tos=st.integers(0, 255),
    ident=st.integers(0, 0xFFFF),
    ihl=st.integers(5, 15),
    payload=st.binary(max_size=40),
)
def test_mark_ce_matches_a_full_recomputation(tos, ident, ihl, payload):
    pkt = _ipv4(payload, tos=tos, ident=ident, ihl=ihl)
    out = mark_ce(pkt)
    if tos & 0b11 in (0b01, 0b10):
        expected = _ipv4(payload, tos=tos | 0b11, ident=ident, ihl=ihl)
        assert out == expected
        assert _checksum(out[: ihl * 4]) == 0
    else:
        assert out == pkt


def test_mark_ce_keeps_a_bad_header_checksum_bad():
    pkt = bytearray(_ipv4(b"", tos=0b10))
    pkt[10] ^= 0x01
    assert _checksum(mark_ce(bytes(pkt))) != 0


def test_drop_nth_drops_those_indices_only():
    imp = _imp(drop=drop_nth(0, 2))
    results = [imp.offer(bytes([i]), 0.0) for i in range(5)]
    assert ["targeted" if isinstance(r, str) else r[0][1][0] for r in results] == [
        "targeted",
        1,
        "targeted",
        3,
        4,
    ]
    assert imp.offered == 5


def test_drop_matching_drops_the_first_count_matches():
    imp = _imp(drop=drop_matching(lambda d: d.startswith(b"S"), count=2))
    sent = [b"S1", b"A", b"S2", b"S3"]
    kept = [r[0][1] for r in (imp.offer(d, 0.0) for d in sent) if not isinstance(r, str)]
    assert kept == [b"A", b"S3"]


def test_the_drop_predicate_sees_index_time_and_names():
    seen: list[PacketInfo] = []
    imp = _imp(drop=lambda info: seen.append(info) or False)
    imp.offer(b"p", 1.5, "client", "server")
    imp.offer(b"q", 2.5, "client", "server")
    assert seen == [
        PacketInfo(0, b"p", 1.5, "client", "server"),
        PacketInfo(1, b"q", 2.5, "client", "server"),
    ]


def test_enabling_jitter_does_not_change_which_packets_are_lost():
    def losses(**extra):
        imp = _imp(seed=1, loss=0.3, **extra)
        return [imp.offer(b"x", 0.0) == "loss" for _ in range(500)]

    assert losses() == losses(jitter=0.01, duplicate=0.5, reorder=0.5)


def test_same_rng_seed_gives_identical_decisions():
    def run(seed):
        imp = _imp(seed, delay=0.01, jitter=0.003, loss=0.2, duplicate=0.1, corrupt=0.1)
        return [imp.offer(bytes([i % 256]) * 8, i * 0.001) for i in range(300)]

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_changing_the_rate_mid_burst_queues_behind_what_is_already_sent():
    imp = _imp(rate_bps=8000)  # 100 bytes = 0.1 s
    imp.offer(bytes(100), 0.0)
    imp.config = dataclasses.replace(imp.config, rate_bps=16000)  # 100 bytes = 0.05 s
    assert _times(imp.offer(bytes(100), 0.0)) == [pytest.approx(0.15)]


@pytest.mark.parametrize(
    "bad",
    [
        {"loss": -0.1},
        {"duplicate": 1.1},
        {"reorder": 2},
        {"corrupt": float("nan")},
        {"delay": -1},
        {"jitter": -0.5},
        {"reorder_delay": -1},
        {"rate_bps": 0},
        {"queue_limit": -1},
        {"ecn_mark_threshold": -1},
    ],
)
def test_nonsense_configs_are_refused(bad):
    with pytest.raises(ValueError):
        ImpairmentConfig(**bad)


def test_configs_are_immutable():
    cfg = ImpairmentConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.loss = 0.5  # type: ignore[misc]
