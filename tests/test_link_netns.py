"""Clear errors from the namespace and TUN helpers (no root needed for these)."""

from __future__ import annotations

import errno

import pytest

from synack.link import netns as netns_mod
from synack.link.netns import Netns, NetnsError, check_environment
from synack.link.tun import TunDevice, TunError


def test_not_root_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(netns_mod.os, "geteuid", lambda: 1000)
    with pytest.raises(NetnsError, match="need root"):
        check_environment()


def test_missing_tun_device_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(netns_mod.os, "geteuid", lambda: 0)
    monkeypatch.setattr(netns_mod, "TUN_PATH", "/nonexistent/net/tun")
    with pytest.raises(NetnsError, match="modprobe tun"):
        check_environment()


def test_an_existing_namespace_is_not_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(netns_mod, "check_environment", lambda: None)
    monkeypatch.setattr(netns_mod, "netns_exists", lambda name: True)
    with pytest.raises(NetnsError, match=r"already exists.*synack netns down busy"):
        Netns("busy").up()


def test_attaching_to_a_missing_namespace_says_how_to_make_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(netns_mod, "check_environment", lambda: None)
    monkeypatch.setattr(netns_mod, "netns_exists", lambda name: False)
    with pytest.raises(NetnsError, match="synack netns up nowhere"):
        Netns("nowhere").attach()


def test_bad_mtu_and_long_interface_names_are_refused() -> None:
    with pytest.raises(NetnsError):
        Netns("x", mtu=40)
    with pytest.raises(TunError) as e:
        TunDevice.open("a-name-far-too-long-for-linux")
    assert e.value.errno == errno.EINVAL
