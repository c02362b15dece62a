"""Running a packetdrill script against one synack Host, in virtual time.

The host has the script's local address (192.168.0.1, as packetdrill's --local_ip) and
talks to the script's remote address (192.0.2.1).  Inbound packet lines are built with
synack.wire and handed to ``host.receive_packet``; everything the host transmits is
captured with its (virtual) send time and matched against outbound lines.  System calls
go through :class:`~synack.packetdrill.syscalls.FdTable`; a call marked blocking
(``+0...0.1 read(...)``) runs "in another thread": the script goes on while it waits, and
its return time is checked when it completes, as packetdrill's syscall thread does.

Times follow packetdrill's run.c: a relative time is relative to *now* when the event is
reached (or to the previous event's time, for consecutive inbound packets); each event
must happen within the tolerance of its time; outbound packets are checked at the time
the stack sent them, which may be before the script gets to them.
"""

from __future__ import annotations

from typing import Any

from synack.packetdrill import script as s
from synack.packetdrill.errors import ScriptFailure, Unsupported
from synack.packetdrill.mapping import SocketUnderTest, SockState
from synack.packetdrill.options import RunOptions
from synack.packetdrill.outbound import OutboundPackets
from synack.packetdrill.packets import InboundError, inbound_other, inbound_tcp
from synack.packetdrill.result import ScriptResult
from synack.packetdrill.shell import interpret
from synack.packetdrill.sockfile import SocketFile
from synack.packetdrill.syscall_events import SyscallEvents
from synack.packetdrill.syscalls import FdTable
from synack.packetdrill.sysctl import FIELDS, Sysctls
from synack.packetdrill.tcpinfo import run_code, tcp_info
from synack.tcp.config import TCPConfig
from synack.tcp.connection import Connection
from synack.tcp.timewait import revive
from synack.wire.tcp import Flags

#: First remote port for passive connections (packetdrill picks an ephemeral one).
FIRST_REMOTE_PORT = 48000
_DYNAMIC_FIELDS = tuple(f for f, _ in FIELDS.values())


class Runner(OutboundPackets, SyscallEvents):
    """Runs one parsed script; :meth:`run` returns its :class:`ScriptResult`."""

    def __init__(
        self,
        script: s.Script,
        options: RunOptions | None = None,
        *,
        source: str | None = None,
        base_config: TCPConfig | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(script, options or RunOptions(), source, seed)
        self.base = base_config or TCPConfig()
        self.sysctls = Sysctls()
        self.table = FdTable(self.host, self)
        self.sockets: dict[int, SocketUnderTest] = {}
        self.codes: list[tuple[int, str, dict[str, int]]] = []
        self._next_port = FIRST_REMOTE_PORT

    # --- Hooks for the fd table ----------------------------------------------------------

    @property
    def remote_ip(self) -> str:
        return self.opts.remote_ip

    @property
    def bind_port(self) -> int:
        return self.opts.bind_port

    @property
    def connect_port(self) -> int:
        return self.opts.connect_port

    def now(self) -> float:
        return self.sim.now

    def config_for(self, sf: SocketFile) -> TCPConfig:
        cfg = self.sysctls.to_config(
            self.base, rcvbuf=sf.rcvbuf, sndbuf=sf.sndbuf, user_mss=sf.user_mss
        )
        return cfg.with_(**sf.config_changes) if sf.config_changes else cfg

    def on_socket(self, fd: int) -> None:
        sock = SocketUnderTest(script_fd=fd, local_ip=self.opts.local_ip, remote_ip=self.remote_ip)
        self.sockets[fd] = sock
        self.sut = sock

    def on_listen(self, fd: int) -> None:
        if fd in self.sockets:
            self.sockets[fd].state = SockState.PASSIVE_LISTENING

    def on_connect(self, fd: int) -> None:
        sock = self.sockets.get(fd)
        if sock is not None and sock.state is SockState.NEW:
            sock.state = SockState.ACTIVE_CONNECTING
            sock.live_remote_port = self.connect_port

    def on_accept(self, fd: int) -> str | None:
        passive = (SockState.PASSIVE_SYNACK_SENT, SockState.PASSIVE_SYNACK_ACKED)
        socks = [self.sut, *self.sockets.values()]
        for sock in socks:
            if sock is not None and sock.state in passive and sock.script_fd < 0:
                sock.script_fd = fd
                return None
        if any(sock is not None and sock.state in passive for sock in socks):
            return None
        return "unable to find socket matching accept() call"

    # --- running ------------------------------------------------------------------------

    def run(self) -> ScriptResult:
        try:
            self._run()
        except ScriptFailure as f:
            self.result.failure = f
        self.result.end_time = self.sim.now
        seen: dict[str, str] = {}
        for note in self.sysctls.unsupported:
            seen[note.name] = f"sysctl {note}"
        self.result.notes = [*self.opts.notes, *seen.values(), *self.result.notes]
        return self.result

    def _run(self) -> None:
        for name, value in [*self.script.options, *self.opts.overrides]:
            try:
                self.opts.apply(name, value)
            except Unsupported as e:
                raise self._fail(1, "unsupported", f"unsupported: {e}") from None
            except ValueError as e:
                raise self._fail(1, "option", str(e)) from None
        self._reconfigure()  # Linux's defaults until a shell line changes them
        if self.script.init_command is not None:
            self._command(self.script.init_command.text, self.script.init_line)
        for i, event in enumerate(self.script.events):
            if i == 0 and event.time.usecs != 0:
                raise self._fail(event.line, "timing", "first event should be at time 0")
            try:
                self._event(event, first=i == 0)
            except Unsupported as e:
                raise self._fail(event.line, "unsupported", f"unsupported: {e}") from None
            self.result.events += 1
        if self.pending is not None:
            self._await_idle()
            if self.pending is not None:
                raise self._fail(
                    self.pending.line,
                    "syscall",
                    "runtime error: exiting while a blocking system call is in progress",
                )
        if self.script.cleanup_command is not None:
            self._command(self.script.cleanup_command.text, self.script.cleanup_line)
        kept: dict[str, Any] = {}  # one Python program for all the blocks, as packetdrill
        for line, text, values in self.codes:
            err = run_code(text, values, f"{self.script.path}:{line}", kept)
            if err is not None:
                kind = "unsupported" if "not provided by synack" in err else "code"
                raise self._fail(line, kind, f"error executing code: {err}")

    def _event(self, event: s.Event, first: bool) -> None:
        t = event.time
        at, end = t.usecs, t.end_usecs
        offset = 0
        action = event.action
        inbound = isinstance(action, s.PacketSpec) and action.inbound
        sys_end = action.end_usecs if isinstance(action, s.SyscallSpec) else None
        if t.type in (s.TimeType.ANY, s.TimeType.RELATIVE, s.TimeType.RELATIVE_RANGE):
            if self.last is not None and self.last[1] and inbound:
                offset = self.last[0]
            else:
                offset = self._now_usecs()
            at += offset
            if end is not None:
                end += offset
            if t.type is s.TimeType.RELATIVE and sys_end is not None:
                sys_end += offset
        check = not first
        if isinstance(action, s.PacketSpec):
            if action.inbound:
                self._inbound(event, action, at, check)
            else:
                self._outbound(event, action, at, end, offset)
        elif isinstance(action, s.SyscallSpec):
            self._syscall(event, action, at, sys_end, check)
        elif isinstance(action, s.CommandSpec):
            self._wait_for_event(event, at, "command", check)
            self._command(action.text, event.line)
        else:
            self._wait_for_event(event, at, "data collection for code", check)
            conn = self._sut_connection()
            if conn is None:
                raise self._fail(event.line, "code", "no socket to use for code")
            self.codes.append((event.line, action.text, tcp_info(conn, self.sim.now)))
        self.last = (at, inbound)

    # --- shell commands -----------------------------------------------------------------

    def _command(self, text: str, line: int) -> None:
        effect = interpret(text, self.folder)
        for name, value, remember in effect.settings:
            if not name:
                self.sysctls.restore()
            else:
                self.sysctls.set(name, value, remember)
        for cmd in effect.unsupported:
            self.result.notes.append(f"line {line}: shell command not run: {cmd}")
        self._reconfigure()

    def _reconfigure(self) -> None:
        """Carry changed sysctls to the host, listeners and live connections."""
        self.host.config = self.sysctls.to_config(self.base)
        for sf in self.table.fds.values():
            cfg = self.config_for(sf)
            if sf.listener is not None:
                sf.listener.config = cfg
            if sf.handle is not None:
                conn = sf.handle.conn
                changes = {
                    f: getattr(cfg, f)
                    for f in _DYNAMIC_FIELDS
                    if getattr(cfg, f) != getattr(conn.config, f)
                }
                if changes:
                    sf.handle.configure(**changes)

    # --- the socket under test ----------------------------------------------------------

    def _sut_connection(self) -> Connection | None:
        sock = self.sut
        if sock is None:
            return None
        sf = self.table.fds.get(sock.script_fd)
        if sf is not None and sf.handle is not None:
            return sf.handle.conn
        if sf is not None and sf.listener is not None:
            raise Unsupported("tcp_info of a listening socket (synack listeners have no TCB)")
        key = (sock.live_local_port, self.remote_ip, sock.live_remote_port)
        conn = self.host.connections.get(key)
        if conn is None and key in self.host.timewait:
            # Closed and in TIME_WAIT, kept as a record: its values, as a connection.
            conn = revive(self.host.timewait[key], secret=self.host.secret)
        return conn

    def _socket_for_inbound(self, spec: s.PacketSpec) -> SocketUnderTest:
        sock = self.sut
        if sock is None or sock.state is SockState.PASSIVE_LISTENING:
            sock = SocketUnderTest(
                state=SockState.PASSIVE_PACKET_RECEIVED,
                local_ip=self.opts.local_ip,
                remote_ip=self.remote_ip,
                live_local_port=self.bind_port,
                live_remote_port=self._next_port,
                script_remote_isn=spec.seq,
                live_remote_isn=spec.seq,
            )
            self._next_port += 1
            self.sut = sock
        return sock

    # --- inbound packets ----------------------------------------------------------------

    def _inbound(self, event: s.Event, spec: s.PacketSpec, at: int, check: bool) -> None:
        sock = self._socket_for_inbound(spec)
        self._wait_for_event(event, at, "inbound packet", check)
        flags = spec.flags
        if sock.state is SockState.PASSIVE_SYNACK_SENT and flags & Flags.ACK:
            sock.state = SockState.PASSIVE_SYNACK_ACKED
        elif sock.state is SockState.ACTIVE_SYN_SENT and flags & Flags.SYN and flags & Flags.ACK:
            sock.state = SockState.ACTIVE_SYN_ACKED
            sock.script_remote_isn = sock.live_remote_isn = spec.seq
        ips = {"local_ip": self.opts.local_ip, "remote_ip": self.remote_ip}
        try:
            if spec.protocol == "tcp":
                packets = inbound_tcp(
                    spec, sock, ecr_scaled=self.opts.tcp_ts_ecr_scaled, gso_mss=self.opts.mss, **ips
                )
            else:
                packets = [inbound_other(spec, sock, **ips)]
        except InboundError as e:
            raise self._fail(event.line, "packet", f"error handling packet: {e}") from None
        # One packet with more payload than --mss is a GSO packet (packetdrill writes it
        # to its TUN device with gso_size = mss): the stack receives it as one segment.
        gso = self.opts.mss if len(packets) == 1 and spec.payload_len > self.opts.mss else 0
        for data in packets:
            if self.opts.verbose:
                self._trace("inbound injected", data)
            self.host.receive_packet(data, gso_size=gso)
        self._poll_pending()
