"""Outbound packet lines: sniffing what the host sent on the socket under test (in
virtual time, with packetdrill's time limit), joining segments, checking them.
"""

from __future__ import annotations

from synack.packetdrill import script as s
from synack.packetdrill.errors import Unsupported
from synack.packetdrill.mapping import SocketUnderTest, SockState
from synack.packetdrill.matcher import aggregate, describe_pair, fragment_problem, map_timestamps
from synack.packetdrill.matcher import verify as verify_segment
from synack.packetdrill.packets import Segment, decode_outbound, dump_segment, to_script_space
from synack.packetdrill.session import Session
from synack.packetdrill.timing import verify_time
from synack.wire.tcp import Flags

#: packetdrill waits this long past an outbound packet's time before giving up
#: (run_packet.c sniff_outbound_live_packet: 2 s).
SNIFF_GRACE_SECS = 2
#: How long a ``*`` packet may take in virtual time before the run is declared stuck
#: (packetdrill would wait for ever).
MAX_WAIT_SECS = 3600.0


class OutboundPackets(Session):
    def _sniff(self, sock: SocketUnderTest, deadline: float | None) -> Segment | None:
        """The next packet the host sent on the socket under test, waiting in virtual time
        until ``deadline``; packets of other connections are dropped, as packetdrill's
        sniffer ignores them."""
        while True:
            while self.raw:
                when, data = self.raw.popleft()
                decoded = decode_outbound(data, when)
                if decoded is None:
                    continue
                src, dst, seg = decoded
                if self._owned(sock, src, dst, seg):
                    return seg
            nxt = self.sim.peek()
            if nxt is None or (deadline is not None and nxt > deadline):
                if deadline is not None and self.sim.now < deadline:
                    self.sim.run(until=deadline)
                return None
            self._step()

    def _owned(self, sock: SocketUnderTest, src: str, dst: str, seg: Segment) -> bool:
        live_out = (sock.local_ip, sock.live_local_port, sock.remote_ip, sock.live_remote_port)
        if (src, seg.src_port, dst, seg.dst_port) == live_out:
            return True
        syn_only = seg.flags & Flags.SYN and not seg.flags & Flags.ACK
        if (
            syn_only
            and sock.state is SockState.ACTIVE_SYN_SENT
            and (dst, seg.dst_port) == (sock.remote_ip, sock.live_remote_port)
        ):
            sock.live_local_port = seg.src_port
            sock.live_local_isn = seg.seq
            return True
        return False

    def _outbound(
        self, event: s.Event, spec: s.PacketSpec, at: int, end: int | None, offset: int
    ) -> None:
        sock = self.sut
        flags = spec.flags
        syn_only = flags & Flags.SYN and not flags & Flags.ACK
        if sock is not None and syn_only and sock.state is SockState.ACTIVE_CONNECTING:
            sock.state = SockState.ACTIVE_SYN_SENT
            sock.script_local_isn = spec.seq
        if sock is None:
            raise self._fail(
                event.line, "packet", "error handling packet: no matching socket for script packet"
            )
        if spec.protocol != "tcp":
            raise Unsupported(f"outbound {spec.protocol} packets (synack sends only TCP here)")
        synack = flags & Flags.SYN and flags & Flags.ACK
        if sock.state is SockState.PASSIVE_PACKET_RECEIVED and synack:
            sock.script_local_isn = spec.seq
        if event.time.type is s.TimeType.ANY:
            timeout = MAX_WAIT_SECS
        else:
            last = self.last[0] if self.last else 0
            wait = (max(at, end if end is not None else at) - last) / 1e6
            timeout = int(wait + SNIFF_GRACE_SECS)
        frags: list[Segment] = []
        sniffed = 0
        while True:
            live = self._sniff(sock, self.sim.now + timeout)
            if live is None:
                dumps = describe_pair(spec, at, None)
                dumps += "".join(
                    f"\nactual #{i} packet: {f.time:9.6f} {dump_segment(f)}"
                    for i, f in enumerate(frags)
                )
                raise self._fail(
                    event.line,
                    "packet",
                    "error handling packet: Timed out waiting for packet",
                    dumps,
                )
            if sock.state is SockState.PASSIVE_PACKET_RECEIVED and synack:
                sock.state = SockState.PASSIVE_SYNACK_SENT
                sock.live_local_isn = live.seq
            seg = to_script_space(live, sock)
            if frags:
                problem = fragment_problem(seg, frags[-1], sniffed, spec.payload_len)
                if problem:
                    dumps = describe_pair(spec, at, None)
                    dumps += "".join(
                        f"\nactual #{i} packet: {f.time:9.6f} {dump_segment(f)}"
                        for i, f in enumerate([*frags, seg])
                    )
                    raise self._fail(
                        event.line, "packet", f"error handling packet: {problem}", dumps
                    )
            frags.append(seg)
            sniffed += seg.payload_len
            if sniffed >= spec.payload_len or self.opts.strict_segments:
                break
        joined = aggregate(frags)
        if sniffed != spec.payload_len:
            msg = (
                f"error handling packet: live packet payload: expected {spec.payload_len} "
                f"bytes vs actual {sniffed} bytes"
            )
            extra = describe_pair(spec, at, joined)
            raise self._fail(event.line, "packet", msg, extra)
        joined = map_timestamps(spec, joined, sock)
        verdict = verify_segment(
            spec,
            joined,
            tolerance=self.opts.tolerance,
            ts_tick_usecs=self.opts.tcp_ts_tick_usecs,
            event_usecs=at,
        )
        problem = verdict.problem
        kind = "packet"
        if problem is None:
            problem = verify_time(
                self.opts.tolerance,
                event.time.type,
                at,
                end,
                round(joined.time * 1e6),
                self.last[0] if self.last else None,
                "outbound packet",
                offset,
            )
            kind = "timing"
        if problem is not None:
            extra = describe_pair(spec, at, joined)
            diff = verdict.diff
            if kind == "timing":
                diff = [*diff, f"time: expected {at / 1e6:.6f}, actual {joined.time:.6f}"]
            if diff:
                extra += "\n  diff (expected vs actual): " + "; ".join(diff)
            failure = self._fail(event.line, kind, f"error handling packet: {problem}", extra)
            self._fail_or_warn(self.opts.non_fatal_packet, failure)
