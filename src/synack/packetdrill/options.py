"""packetdrill's run options (config.c): defaults, and the ``--name=value`` header lines.

The defaults are those packetdrill's runner uses for the Linux scripts:
``--ip_version=ipv4 --local_ip=192.168.0.1 --remote_ip=192.0.2.1``, bind and connect
port 8080, a 4 ms / 12.5 % tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from synack.packetdrill.errors import Unsupported
from synack.packetdrill.timing import (
    DEFAULT_TOLERANCE_PERCENT,
    DEFAULT_TOLERANCE_USECS,
    Tolerance,
)

#: Options that change nothing for a simulated run (device and routing setup).
_IGNORED = frozenset(
    {"gateway_ip", "netmask_ip", "speed", "mtu", "init_scripts", "debug", "dry_run"}
)
#: Options for packetdrill's remote and shared-object modes, which have no meaning here.
_UNSUPPORTED = frozenset(
    {
        "wire_client",
        "wire_server",
        "wire_server_ip",
        "wire_server_at",
        "wire_server_port",
        "wire_client_dev",
        "wire_server_dev",
        "so_filename",
        "so_flags",
        "is_anyip",
        "send_omit_free",
        "psp_udp_port",
        "code_command",
        "code_format",
        "code_sockopt",
    }
)


@dataclass
class RunOptions:
    local_ip: str = "192.168.0.1"
    remote_ip: str = "192.0.2.1"
    bind_port: int = 8080
    connect_port: int = 8080
    tolerance_usecs: int = DEFAULT_TOLERANCE_USECS
    tolerance_percent: float = DEFAULT_TOLERANCE_PERCENT
    tcp_ts_tick_usecs: int = 0  # 0: TS values are not checked (packetdrill's default)
    tcp_ts_ecr_scaled: bool = False
    strict_segments: bool = False
    mss: int = 1460  # inbound GSO segment size (--mss)
    non_fatal_packet: bool = False
    non_fatal_syscall: bool = False
    verbose: bool = False  # record every packet in and out (packetdrill --verbose)
    defines: dict[str, str] = field(default_factory=dict)
    #: Options given on the command line: applied after the script's own, as
    #: packetdrill lets its command line override a script's header.
    overrides: list[tuple[str, str | None]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def tolerance(self) -> Tolerance:
        return Tolerance(self.tolerance_usecs, self.tolerance_percent)

    def apply(self, name: str, value: str | None) -> None:
        """One ``--name[=value]`` option; raises ValueError for a bad one."""
        v = value or ""
        if name == "ip_version":
            if v != "ipv4":
                raise Unsupported(f"--ip_version={v}: synack is IPv4 only")
        elif name == "local_ip":
            self.local_ip = v
        elif name == "remote_ip":
            self.remote_ip = v
        elif name == "bind_port":
            self.bind_port = int(v)
        elif name == "connect_port":
            self.connect_port = int(v)
        elif name == "tolerance_usecs":
            self.tolerance_usecs = int(v)
        elif name == "tolerance_percent":
            self.tolerance_percent = float(v)
        elif name == "tcp_ts_tick_usecs":
            self.tcp_ts_tick_usecs = int(v)
        elif name == "tcp_ts_ecr_scaled":
            self.tcp_ts_ecr_scaled = True
        elif name == "strict_segments":
            self.strict_segments = True
        elif name == "mss":
            self.mss = int(v)
        elif name == "non_fatal":
            kinds = {k.strip() for k in v.replace(",", " ").split()}
            self.non_fatal_packet |= "packet" in kinds
            self.non_fatal_syscall |= "syscall" in kinds
        elif name == "verbose":
            self.verbose = True
        elif name == "define":
            key, _, val = v.partition("=")
            self.defines[key] = val
        elif name in _IGNORED:
            self.notes.append(f"--{name} has no effect on a simulated run")
        elif name in _UNSUPPORTED:
            raise Unsupported(f"--{name}: packetdrill's remote/shared-object modes")
        else:
            raise ValueError(f"unrecognized option --{name}")
