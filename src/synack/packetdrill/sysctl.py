"""Linux TCP sysctls as a script sets them, and the TCPConfig they mean for synack.

Each ``net.ipv4.*`` setting falls in one of three groups:

* *applied*: a :class:`~synack.tcp.config.TCPConfig` field has the same meaning
  (``tcp_timestamps`` -> ``timestamps``, ``tcp_congestion_control`` -> ``congestion``,
  ``tcp_rmem`` -> ``rcvbuf`` and the window scale...);
* *equivalent*: synack has no knob, but its fixed behaviour is what this value asks for
  (``tcp_fack=0``, ``tcp_reordering=3``, ``tcp_recovery=1``...);
* *unsupported*: synack has no equivalent; the run goes on and the setting is reported
  (``tcp_frto``, ``tcp_tso_win_divisor``, ``tcp_fastopen``...).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields

from synack.tcp import congestion
from synack.tcp.config import TCPConfig

#: Linux defaults of the settings read here (Documentation/networking/ip-sysctl.rst,
#: Linux 6.x), used until a script sets them.
LINUX_DEFAULTS: dict[str, str] = {
    "tcp_rmem": "4096 131072 6291456",
    "tcp_wmem": "4096 16384 4194304",
    "rmem_max": "212992",  # net.core.rmem_max
}


def _flag(v: str) -> bool:
    return int(v, 0) != 0


def _congestion(v: str) -> str:
    if v not in congestion.ALGORITHMS:
        raise ValueError(f"synack has no congestion control {v!r}")
    return v


#: Sysctls with a TCPConfig field of the same meaning: name -> (field, converter).  A
#: field TCPConfig lacks makes the setting unsupported.
FIELDS: dict[str, tuple[str, Callable[[str], object]]] = {
    "tcp_timestamps": ("timestamps", _flag),
    "tcp_sack": ("sack", _flag),
    "tcp_window_scaling": ("window_scaling", _flag),
    "tcp_syn_retries": ("syn_retries", int),
    "tcp_synack_retries": ("synack_retries", int),
    "tcp_retries2": ("retries2", int),
    "tcp_fin_timeout": ("fin_timeout", float),
    "tcp_invalid_ratelimit": ("challenge_ack_interval", lambda v: int(v) / 1000.0),
    "tcp_congestion_control": ("congestion", _congestion),
    "tcp_ecn": ("ecn", lambda v: int(v, 0)),
    "tcp_slow_start_after_idle": ("slow_start_after_idle", _flag),
    "tcp_backlog_ack_defer": ("backlog_ack_defer", _flag),
    "tcp_dsack": ("dsack", _flag),
    "tcp_keepalive_time": ("keepidle", float),
    "tcp_keepalive_intvl": ("keepintvl", float),
    "tcp_keepalive_probes": ("keepcnt", int),
    "tcp_min_tso_segs": ("min_tso_segs", int),
    "tcp_pacing_ss_ratio": ("pacing_ss_ratio", int),
    # Not a sysctl: the tun device's root qdisc as ``tc qdisc add|replace`` sets it
    # (synack.packetdrill.shell).  fq paces TCP at its pacing rate; pfifo does not.
    "qdisc": ("pacing", lambda v: v == "fq"),
    "tcp_pacing_ca_ratio": ("pacing_ca_ratio", int),
    # 3 (the default) and 4 run the tail loss probe; 0-2 do not (ip-sysctl.rst).
    "tcp_early_retrans": ("tlp", lambda v: int(v, 0) >= 3),
    "tcp_syncookies": ("syncookies", lambda v: int(v, 0)),
}
_CONFIG_FIELDS = frozenset(f.name for f in fields(TCPConfig))

#: Settings with no TCPConfig field whose value, when it is the one given, is synack's
#: fixed behaviour.
EQUIVALENT: dict[str, tuple[str, str]] = {
    "tcp_fack": ("0", "synack has no FACK"),
    "tcp_reordering": ("3", "synack's DupThresh is 3 (RFC 5681 §3.2, RFC 8985 §6.2)"),
    "tcp_recovery": ("1", "synack always runs RACK loss detection (RFC 8985)"),
    "tcp_notsent_lowat": ("4294967295", "synack has no TCP_NOTSENT_LOWAT limit"),
    "tcp_abort_on_overflow": ("0", "synack drops SYNs when the accept queue is full"),
    "tcp_fastopen": ("0", "synack has no TCP Fast Open"),
}

#: Why a setting has no synack equivalent (for the report).
UNSUPPORTED_WHY: dict[str, str] = {
    "tcp_ecn_option": "synack has no AccECN",
    "tcp_frto": "synack has no F-RTO (RFC 5682)",
    "tcp_reordering": "synack's DupThresh is fixed at 3",
    "tcp_recovery": "synack's RACK cannot be turned off or tuned",
    "tcp_tso_win_divisor": "synack has no TSO or TSO deferral",
    "tcp_fastopen": "synack has no TCP Fast Open (RFC 7413)",
    "tcp_fastopen_key": "synack has no TCP Fast Open (RFC 7413)",
}


def _ints(value: str) -> list[int]:
    return [int(v, 0) for v in value.split()]


def ilog2(n: int) -> int:
    return max(n, 1).bit_length() - 1


def linux_rcv_wscale(rmem_max: int, core_rmem_max: int, window_clamp: int | None) -> int:
    """The window scale Linux announces (net/ipv4/tcp_output.c tcp_select_initial_window):
    the shift that lets the largest window the socket may reach fit 16 bits,
    ``clamp(ilog2(min(max(tcp_rmem[2], rmem_max), window_clamp)) - 15, 0, 14)``.

    With ``tcp_rmem[2]`` = 6 MiB (the default) that is 7; with the 15 MiB of the
    scripts' ``defaults.sh`` it is 8; a socket whose SO_RCVBUF was set is clamped to its
    buffer (``window_clamp``), e.g. 0 for a 20000-byte buffer.
    """
    space = max(rmem_max, core_rmem_max)
    if window_clamp:
        space = min(space, window_clamp)
    return min(max(ilog2(space) - 15, 0), 14)


@dataclass(frozen=True, slots=True)
class SysctlNote:
    """What became of one setting: ``status`` is applied, equivalent or unsupported."""

    name: str
    value: str
    status: str
    detail: str = ""

    def __str__(self) -> str:
        extra = f": {self.detail}" if self.detail else ""
        return f"{self.name}={self.value} {self.status}{extra}"


@dataclass
class Sysctls:
    """The settings of one run, with a restore stack for packetdrill's set_sysctls.py."""

    values: dict[str, str] = field(default_factory=lambda: dict(LINUX_DEFAULTS))
    notes: list[SysctlNote] = field(default_factory=list)
    _restore: list[tuple[str, str | None]] = field(default_factory=list)

    def set(self, name: str, value: str, remember: bool = False) -> SysctlNote:
        """Set ``net.ipv4.NAME`` (or ``net.core.NAME``); returns what it means for synack."""
        short = name.replace("/", ".").split(".")[-1]
        previous = self.values.get(short)
        if remember:
            self._restore.append((short, previous))
        self.values[short] = value
        note = self._classify(short, value.strip())
        if note.status == "unsupported" and note.detail.startswith("bad value"):
            # The kernel refuses the write (sysctl fails): the old value stays.
            if previous is None:
                self.values.pop(short, None)
            else:
                self.values[short] = previous
        self.notes.append(note)
        return note

    def restore(self) -> None:
        """Undo what set_sysctls.py set (its /tmp/sysctl_restore_*.sh script)."""
        while self._restore:
            name, old = self._restore.pop()
            if old is None:
                self.values.pop(name, None)
            else:
                self.values[name] = old

    def _classify(self, name: str, value: str) -> SysctlNote:
        mapped = FIELDS.get(name)
        if name in LINUX_DEFAULTS or (mapped and mapped[0] in _CONFIG_FIELDS):
            try:
                if mapped:
                    mapped[1](value)
                self.to_config(TCPConfig())
            except ValueError as e:
                return SysctlNote(name, value, "unsupported", f"bad value ({e})")
            return SysctlNote(name, value, "applied")
        if name in EQUIVALENT and EQUIVALENT[name][0] == value:
            return SysctlNote(name, value, "equivalent", EQUIVALENT[name][1])
        why = UNSUPPORTED_WHY.get(name, "no synack equivalent")
        return SysctlNote(name, value, "unsupported", why)

    @property
    def unsupported(self) -> list[SysctlNote]:
        return [n for n in self.notes if n.status == "unsupported"]

    def to_config(
        self,
        base: TCPConfig,
        *,
        rcvbuf: int | None = None,
        sndbuf: int | None = None,
        user_mss: int | None = None,
    ) -> TCPConfig:
        """The TCPConfig for a socket created now.

        ``rcvbuf``/``sndbuf`` are SO_RCVBUF/SO_SNDBUF values as the application passed
        them: Linux doubles them (sock_setsockopt, for the sk_buff overhead) and locks the
        buffer, which also clamps the window scale.  ``user_mss`` is TCP_MAXSEG.
        """
        v = self.values
        rmem = _ints(v["tcp_rmem"])
        wmem = _ints(v["tcp_wmem"])
        if len(rmem) != 3 or len(wmem) != 3:
            raise ValueError("tcp_rmem and tcp_wmem take three numbers")
        rcv = 2 * rcvbuf if rcvbuf is not None else rmem[1]
        # synack does not grow its send buffer as Linux's tcp_sndbuf_expand does, so an
        # unlocked one starts at the size Linux may grow it to (tcp_wmem[2]).
        snd = 2 * sndbuf if sndbuf is not None else wmem[2]
        clamp = rcv // 2 if rcvbuf is not None else None  # tcp_full_space at a 50% ratio
        changes: dict[str, object] = {
            "rcvbuf": rcv,
            "sndbuf": snd,
            "wscale": linux_rcv_wscale(rmem[2], int(v["rmem_max"]), clamp),
        }
        for name, (fld, convert) in FIELDS.items():
            if name in v and fld in _CONFIG_FIELDS:
                changes[fld] = convert(v[name])
        if user_mss is not None:
            changes["mss"] = user_mss
        return base.with_(**changes)
