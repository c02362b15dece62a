"""Choosing a congestion control by name, like Linux's TCP_CONGESTION."""

import pytest

from synack.tcp.congestion import ALGORITHMS, DEFAULT, CongestionControl, Cubic, Reno, make


def test_cubic_is_the_default_as_on_linux():
    assert DEFAULT == "cubic"
    assert isinstance(make(DEFAULT, 1460, 14600), Cubic)


def test_registry_maps_linux_names_to_classes():
    assert {"reno": Reno, "cubic": Cubic} == ALGORITHMS
    for name, cls in ALGORITHMS.items():
        assert cls.name == name and issubclass(cls, CongestionControl)


@pytest.mark.parametrize("name", ["reno", "cubic"])
def test_make_builds_a_fresh_controller_with_the_initial_window(name):
    a = make(name, 1460, 14600, now=3.0)
    b = make(name, 1460, 14600, now=3.0)
    assert a is not b
    assert (a.name, a.mss, a.cwnd) == (name, 1460, 14600)
    assert a.ssthresh >= 1 << 30  # RFC 5681 §3.1: "arbitrarily high"
    assert a.in_slow_start


@pytest.mark.parametrize("bad", ["bbr", "Reno", "", "newreno "])
def test_unknown_name_is_rejected_with_the_known_names(bad):
    with pytest.raises(ValueError, match=r"known: cubic, reno") as info:
        make(bad, 1460, 14600)
    assert repr(bad) in str(info.value)
