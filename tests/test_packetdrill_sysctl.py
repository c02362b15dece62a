"""Shell lines of scripts read as TCP settings, and the TCPConfig they give synack."""

from __future__ import annotations

from pathlib import Path

import pytest

from synack.packetdrill.shell import interpret
from synack.packetdrill.sysctl import Sysctls, linux_rcv_wscale
from synack.tcp.config import TCPConfig


def test_included_file_is_read_relative_to_the_script_folder(tmp_path: Path) -> None:
    common = tmp_path / "common"
    common.mkdir()
    (common / "defaults.sh").write_text(
        '#!/bin/bash\n# comment\nsysctl -q net.ipv4.tcp_rmem="4096 540000 $((15*1024*1024))"\n'
        "sysctl -q net.ipv4.tcp_notsent_lowat=4294967295 > /dev/null 2>&1\n"
        "ip tcp_metrics flush all > /dev/null 2>&1\n"
    )
    folder = tmp_path / "scripts"
    folder.mkdir()
    effect = interpret("../common/defaults.sh", folder)
    assert effect.settings == [
        ("net.ipv4.tcp_rmem", "4096 540000 15728640", False),
        ("net.ipv4.tcp_notsent_lowat", "4294967295", False),
    ]
    assert effect.unsupported == ["ip tcp_metrics flush all"]


def test_set_sysctls_echo_and_restore(tmp_path: Path) -> None:
    effect = interpret(
        "../common/set_sysctls.py /proc/sys/net/ipv4/tcp_slow_start_after_idle=1 \\\n"
        "    /proc/sys/net/ipv4/tcp_min_tso_segs=10\n"
        "echo 0 > /proc/sys/net/ipv4/tcp_timestamps; /tmp/sysctl_restore_${PPID}.sh",
        tmp_path,
    )
    assert effect.settings == [
        ("net.ipv4.tcp_slow_start_after_idle", "1", True),
        ("net.ipv4.tcp_min_tso_segs", "10", True),
        ("net.ipv4.tcp_timestamps", "0", False),
        ("", "restore", False),
    ]
    sysctls = Sysctls()
    for name, value, remember in effect.settings[:3]:
        sysctls.set(name, value, remember)
    assert sysctls.values["tcp_slow_start_after_idle"] == "1"
    sysctls.restore()
    assert "tcp_slow_start_after_idle" not in sysctls.values
    assert sysctls.values["tcp_timestamps"] == "0"  # set by echo, not by set_sysctls.py


@pytest.mark.parametrize(
    ("rmem_max", "clamp", "shift"),
    [
        (6291456, None, 7),  # Linux's default tcp_rmem[2] (6 MiB)
        (15728640, None, 8),  # the scripts' defaults.sh (15 MiB)
        (15728640, 20000, 0),  # SO_RCVBUF 20000 locks the buffer
        (1 << 40, None, 14),  # RFC 7323 §2.3: at most 14
    ],
)
def test_window_scale_follows_linux(rmem_max: int, clamp: int | None, shift: int) -> None:
    assert linux_rcv_wscale(rmem_max, 212992, clamp) == shift


def test_settings_are_classified_and_mapped() -> None:
    sysctls = Sysctls()
    notes = [
        sysctls.set("net.ipv4.tcp_sack", "0"),
        sysctls.set("net.ipv4.tcp_congestion_control", "reno"),
        sysctls.set("net.ipv4.tcp_fack", "0"),
        sysctls.set("net.ipv4.tcp_frto", "2"),
        sysctls.set("net.ipv4.tcp_congestion_control", "bbr"),
    ]
    assert [n.status for n in notes] == [
        "applied",
        "applied",
        "equivalent",
        "unsupported",
        "unsupported",
    ]
    assert {n.name for n in sysctls.unsupported} == {"tcp_frto", "tcp_congestion_control"}
    cfg = sysctls.to_config(TCPConfig(), rcvbuf=20000, sndbuf=21000, user_mss=1100)
    assert (cfg.sack, cfg.congestion, cfg.mss) == (False, "reno", 1100)
    assert (cfg.rcvbuf, cfg.sndbuf, cfg.wscale) == (40000, 42000, 0)


def test_rmem_sets_the_receive_buffer() -> None:
    sysctls = Sysctls()
    sysctls.set("net.ipv4.tcp_rmem", "4096 540000 15728640")
    cfg = sysctls.to_config(TCPConfig())
    assert (cfg.rcvbuf, cfg.wscale) == (540000, 8)
    bad = sysctls.set("net.ipv4.tcp_rmem", "4096")
    assert bad.status == "unsupported"


def test_an_fq_root_qdisc_turns_pacing_on_and_pfifo_off(tmp_path: Path) -> None:
    effect = interpret(
        "tc qdisc replace dev tun0 root fq\nsysctl -q net/ipv4/tcp_pacing_ca_ratio=150",
        tmp_path,
    )
    assert effect.settings == [
        ("qdisc", "fq", False),
        ("net/ipv4/tcp_pacing_ca_ratio", "150", False),
    ]
    sysctls = Sysctls()
    for name, value, remember in effect.settings:
        assert sysctls.set(name, value, remember).status == "applied"
    cfg = sysctls.to_config(TCPConfig())
    assert cfg.pacing and cfg.pacing_ca_ratio == 150
    pfifo = interpret("tc qdisc add dev tun0 root pfifo", tmp_path)
    assert pfifo.settings == [("qdisc", "pfifo", False)]
    sysctls.set(*pfifo.settings[0])
    assert not sysctls.to_config(TCPConfig()).pacing


@pytest.mark.parametrize(
    "command",
    [
        "tc qdisc replace dev tun0 root pfifo limit 0",  # drops every packet: not modelled
        "tc qdisc replace dev tun0 root fq maxrate 1mbit",  # fq's own limits
        "tc qdisc delete dev tun0 root",
        "tc qdisc add dev tun0 root netem delay 10ms",
    ],
)
def test_other_qdiscs_are_reported_not_run(command: str, tmp_path: Path) -> None:
    effect = interpret(command, tmp_path)
    assert effect.settings == [] and len(effect.unsupported) == 1
