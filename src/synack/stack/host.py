"""A host: one IPv4 address, its TCP connections, listeners and counters.

The host is the layer between the wire and the sans-IO connections.  It decodes packets
(counting every drop by reason), demultiplexes TCP segments by 4-tuple, runs listeners,
answers segments for closed ports with RST, picks ephemeral ports, drives timers and
hands events to the application.  It reads time only through the injected ``clock`` and
sends packets only through the injected ``transmit``; a scheduler it is given is told
the next deadline, so the same host runs in the simulator and in real time.
"""

from __future__ import annotations

import contextlib
import errno
import heapq
import itertools
import random
import weakref
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from synack.errors import DecodeError
from synack.stack import syncookies
from synack.stack.icmp import IcmpLayer
from synack.stack.listener import Listener
from synack.stack.ports import PortAllocator
from synack.stack.socket import TcpHandle
from synack.stack.udp import UdpLayer
from synack.tcp import events as ev
from synack.tcp.config import TCPConfig
from synack.tcp.connection import Connection
from synack.tcp.reset import reset_for_closed, reset_for_listen
from synack.tcp.seq import seq_gt
from synack.tcp.states import State
from synack.tcp.timewait import TimeWaitRecord, record, recordable, revive
from synack.trace.events import Note, Observer, StateChange, TraceEvent
from synack.wire.gso import segment_tcp_packet
from synack.wire.ip import (
    PROTO_ICMP,
    PROTO_TCP,
    PROTO_UDP,
    IPv4Packet,
    ipv4_header,
    packet_from_fields,
    parse_ipv4,
)
from synack.wire.tcp import TCPSegment, decode_tcp, encode_tcp_parts

FourTuple = tuple[int, str, int]  # (local port, remote ip, remote port); local ip is ours


class Scheduler(Protocol):
    def schedule(self, deadline: float | None) -> None: ...


class Host:
    """A TCP/IP host with one address."""

    def __init__(
        self,
        name: str,
        ip: str,
        *,
        clock: Callable[[], float],
        config: TCPConfig | None = None,
        secret: bytes = b"synack-secret",
        rng: random.Random | None = None,
        observers: list[Observer] | None = None,
    ) -> None:
        self.name = name
        self.ip = ip
        self.clock = clock
        self.config = config or TCPConfig()
        self.secret = secret
        self.rng = rng or random.Random(0)
        self.observers: list[Observer] = observers if observers is not None else []
        self.counters: Counter[str] = Counter()
        self.drops: Counter[str] = Counter()
        self.connections: dict[FourTuple, Connection] = {}
        #: Connections in TIME_WAIT that nobody holds, kept as small records (Linux's
        #: timewait sockets, synack.tcp.timewait); a segment for one revives it.
        self.timewait: dict[FourTuple, TimeWaitRecord] = {}
        # Handles of closed connections in TIME_WAIT that the application still holds,
        # held here only weakly: when one goes, its connection becomes a record.
        self._weak_handles: dict[Connection, weakref.ref[TcpHandle]] = {}
        self._to_record: list[Connection] = []
        self.handles: dict[Connection, TcpHandle] = {}
        self.listeners: dict[int, Listener] = {}
        self.ports = PortAllocator(self.rng)
        self.transmit: Callable[[bytes], None] | None = None
        self.transmit_gso: Callable[[bytes, int], None] | None = None
        self.scheduler: Scheduler | None = None
        # Timers of connections and of TIME_WAIT records (which end their 2 MSL): a heap
        # of [deadline, tick, owner] entries, and each owner's current entry.  A
        # replaced or cancelled entry has its owner set to None, so that it neither
        # fires nor keeps the owner alive.
        self._timers: list[list[Any]] = []
        self._timer_entry: dict[Connection | TimeWaitRecord, list[Any]] = {}
        self._tick = itertools.count()
        self._busy: set[Connection] = set()
        # Connections whose output waits for the end of a batch of received packets
        # (:meth:`receiving_batch`), in arrival order; None outside a batch.
        self._deferred: dict[Connection, None] | None = None
        self._ident = 0
        # The protocols beside TCP (synack.stack.udp, synack.stack.icmp).
        self.udp = UdpLayer(self)
        self.icmp = IcmpLayer(self)

    # ------------------------------------------------------------------------------
    # Wiring
    # ------------------------------------------------------------------------------

    def attach(
        self,
        transmit: Callable[[bytes], None],
        scheduler: Scheduler | None = None,
        *,
        transmit_gso: Callable[[bytes, int], None] | None = None,
    ) -> None:
        """Connect the host to a link: ``transmit`` sends one IPv4 packet.

        ``transmit_gso(packet, gso_size)``, when the link has it, takes a TSO packet
        whole (segmentation offload); without it the host cuts TSO packets into wire
        packets itself (software GSO, :mod:`synack.wire.gso`)."""
        self.transmit = transmit
        self.transmit_gso = transmit_gso
        if scheduler is not None:
            self.scheduler = scheduler

    def _trace(self, event: TraceEvent) -> None:
        for obs in self.observers:
            obs(event)

    def note(self, text: str) -> None:
        """Write a line into the trace (user calls, errors handed to the application)."""
        self._trace(Note(self.clock(), self.name, text))

    def drop(self, reason: str) -> None:
        self.drops[reason] += 1

    # ------------------------------------------------------------------------------
    # Packets in
    # ------------------------------------------------------------------------------

    def receive_packet(
        self, data: bytes | memoryview, *, checksum_verified: bool = False, gso_size: int = 0
    ) -> None:
        """Take one IPv4 packet from the link.

        ``checksum_verified``: the link has already checked the transport checksum (a
        device's checksum offload: Linux CHECKSUM_UNNECESSARY), so the TCP decoder does
        not sum the data again.  The IP header checksum is always verified.
        ``gso_size``: the packet holds several segments of this size, received as one
        (GRO, or a TUN device's offload); the receiver measures the peer's MSS by it."""
        try:
            fields = parse_ipv4(data)
        except DecodeError as e:
            self.drop(e.reason)
            return
        hlen, total, tos, _, _, _, protocol, _, src, dst = fields
        if dst != self.ip:
            self.drop("ip_not_for_us")
            return
        if protocol == PROTO_TCP:
            # The payload may stay a view of an immutable packet until the application
            # reads it (one copy, there); a mutable buffer's is copied at once.
            view = type(data) is bytes or (type(data) is memoryview and type(data.obj) is bytes)
            payload = memoryview(data)[hlen:total]
            self._receive_tcp(src, tos, payload, not checksum_verified, gso_size, view)
        else:
            self._receive_other(packet_from_fields(data, fields))

    def _receive_other(self, pkt: IPv4Packet) -> None:
        """UDP and ICMP go to their layers; other protocols are counted and dropped."""
        if pkt.protocol == PROTO_UDP:
            self.udp.receive(pkt)
        elif pkt.protocol == PROTO_ICMP:
            self.icmp.receive(pkt)
        else:
            self.drop("ip_unknown_protocol")

    def _receive_tcp(
        self,
        src: str,
        tos: int,
        payload: memoryview,
        verify: bool = True,
        gso_size: int = 0,
        view: bool = False,
    ) -> None:
        try:
            seg = decode_tcp(payload, src, self.ip, verify_checksum=verify, payload_view=view)
        except DecodeError as e:
            self.counters["InErrs"] += 1
            if e.reason == "tcp_bad_checksum":
                self.counters["InCsumErrors"] += 1
            self.drop(e.reason)
            return
        self.counters["InSegs"] += 1
        seg.ip_ecn = tos & 0b11
        seg.gso_size = gso_size
        key = (seg.dst_port, src, seg.src_port)
        conn = self.connections.get(key)
        now = self.clock()
        if conn is None and self.timewait:
            rec = self.timewait.get(key)
            if rec is not None:
                if self._tw_reusable(rec.rcv_nxt, seg):
                    self._drop_timewait(key, rec)  # RFC 6191, as below
                else:
                    conn = self._revive(key, rec)
        if (
            conn is not None
            and conn.state is State.TIME_WAIT
            and self._tw_reusable(conn.rcv_nxt, seg)
        ):
            # RFC 6191 / Linux: a new SYN with a higher sequence number may reopen a
            # 4-tuple in TIME_WAIT when a listener waits on the port.
            self._forget(conn)
            conn = None
        if (
            conn is not None
            and conn.listener_child
            and conn.state is State.SYN_RECEIVED
            and self._cookie_replaces_request(conn, seg, src, now)
        ):
            return
        if conn is not None:
            before = conn.state
            conn.receive_segment(seg, now, (src, seg.src_port))
            deferred = self._deferred
            if deferred is not None and before is State.ESTABLISHED and conn.state is before:
                deferred[conn] = None  # sent at the end of the batch (receiving_batch)
            else:
                self._pump(conn)
            return
        listener = self.listeners.get(seg.dst_port)
        if listener is not None and not listener.closed:
            self._listener_segment(listener, seg, src, now)
            return
        # RFC 9293 §3.10.7.1: no TCB.
        self.drop("tcp_no_socket")
        rst = reset_for_closed(seg)
        if rst is not None:
            self._send_raw(rst, src)

    def _cookie_replaces_request(
        self, conn: Connection, seg: TCPSegment, src: str, now: float
    ) -> bool:
        """Linux tcp_check_req: an ACK that does not acknowledge a request's SYN-ACK goes
        back to the listener, whose cookie check may take it -- the client answers a
        cookie SYN-ACK sent before its retransmitted SYN made this request.  A valid
        cookie replaces the request; anything else is the request's to answer."""
        if seg.syn or seg.rst or not seg.has_ack or seg.ack == conn.snd_nxt:
            return False
        lst = self.listeners.get(seg.dst_port)
        if lst is None or lst.closed:
            return False
        config = lst.config or self.config
        if not syncookies.cookie_check_due(lst, config, now):
            return False
        if syncookies.cookie_index(self, seg, src, now) is None:
            return False
        if conn in lst.syn_queue:
            lst.syn_queue.remove(conn)
        self._forget(conn)
        return syncookies.accept_cookie_ack(self, lst, seg, src, now)

    def _tw_reusable(self, rcv_nxt: int, seg: TCPSegment) -> bool:
        return (
            seg.syn
            and not seg.has_ack
            and not seg.rst
            and seg.dst_port in self.listeners
            and seq_gt(seg.seq, rcv_nxt)
        )

    # --- TIME_WAIT records (synack.tcp.timewait) -------------------------------------

    def _keep_timewait(self, conn: Connection) -> bool:
        """A closed connection now in TIME_WAIT becomes a small record (Linux
        tcp_time_wait swaps in a timewait socket) once nobody else holds its handle:
        after close() nothing more reaches the application, as after close(2).  While
        the application still holds the handle, the host holds it only weakly, and the
        connection becomes a record when the handle goes (``_handle_gone``)."""
        remote = conn.remote
        if remote is None or not recordable(conn):
            return False
        key = (conn.local[1], remote[0], remote[1])
        if self.connections.get(key) is not conn:
            return False
        weak = self._weak_handles.get(conn)
        if weak is not None and weak() is not None:
            return False  # the application still holds it (checked before)
        handle = self.handles.pop(conn, None)
        if handle is not None:
            ref = weakref.ref(handle)
            del handle  # the last reference, unless the application keeps one
            held = ref()
            if held is not None:
                self._weak_handles[conn] = weakref.ref(held, self._record_later(conn))
                return False
        self._weak_handles.pop(conn, None)
        rec = record(conn)
        del self.connections[key]
        self._cancel_timer(conn)
        self.timewait[key] = rec
        self._set_timer(rec, rec.deadline)
        return True

    def _record_later(self, conn: Connection) -> Callable[[weakref.ref[TcpHandle]], None]:
        def gone(_: weakref.ref[TcpHandle]) -> None:
            self._to_record.append(conn)  # all a collector callback may safely do

        return gone

    def _handle_gone(self) -> None:
        """Connections whose last handle the application dropped (weakref callbacks
        queue them; they are recorded here, outside the collector's callback)."""
        pending, self._to_record = self._to_record, []
        for conn in pending:
            if self._weak_handles.get(conn) is not None and self._weak_handles[conn]() is None:
                del self._weak_handles[conn]
                self._keep_timewait(conn)

    def _revive(self, key: FourTuple, rec: TimeWaitRecord) -> Connection:
        """The connection of a TIME_WAIT record, to take a segment; kept as a record
        again after it, if still in TIME_WAIT (see _pump)."""
        self._drop_timewait(key, rec)
        conn = revive(rec, secret=self.secret, counters=self.counters, name=self.name)
        self.connections[key] = conn
        return conn

    def _drop_timewait(self, key: FourTuple, rec: TimeWaitRecord) -> None:
        if self.timewait.get(key) is rec:
            del self.timewait[key]
        self._cancel_timer(rec)

    def _expire_timewait(self, rec: TimeWaitRecord, now: float) -> None:
        """2 MSL have passed (RFC 9293 §3.10.7.4): the record goes, as the connection
        would have gone to CLOSED."""
        key = (rec.local[1], rec.remote[0], rec.remote[1])
        if self.timewait.get(key) is rec:
            del self.timewait[key]
        if self.observers:
            self._trace(StateChange(now, self.name, rec.describe(), "TIME_WAIT", "CLOSED"))

    def _listener_segment(self, lst: Listener, seg: TCPSegment, src: str, now: float) -> None:
        """LISTEN processing (RFC 9293 §3.10.7.2) with Linux's queues and SYN cookies
        (:mod:`synack.stack.syncookies`)."""
        config = lst.config or self.config
        if not seg.syn or seg.rst or seg.has_ack:
            plain_ack = seg.has_ack and not seg.syn and not seg.rst
            if (
                plain_ack
                and syncookies.cookie_check_due(lst, config, now)
                and syncookies.accept_cookie_ack(self, lst, seg, src, now)
            ):
                return
            rst = reset_for_listen(seg)
            if rst is not None:
                self._send_raw(rst, src)
            else:
                self.drop("tcp_listen_ignored")
            return
        if syncookies.wants_cookie(lst, config):
            if len(lst.accept_queue) > lst.backlog:  # sk_acceptq_is_full: no use
                self.counters["ListenOverflows"] += 1
                self.counters["ListenDrops"] += 1
                self.drop("tcp_listen_queue_full")
                return
            syncookies.send_cookie_syn_ack(self, lst, seg, src, now)
            return
        if not lst.has_room():
            # Linux tcp_conn_request: a full accept queue is an overflow; a full SYN
            # queue without cookies is TCPReqQFullDrop (tcp_syn_flood_action).
            full_accept = len(lst.accept_queue) > lst.backlog
            self.counters["ListenOverflows" if full_accept else "TCPReqQFullDrop"] += 1
            if not full_accept and not lst.synflood_warned:
                lst.synflood_warned = True
                self.note(f"Possible SYN flooding on port {lst.port}. Dropping request.")
            self.counters["ListenDrops"] += 1
            self.drop("tcp_listen_queue_full")
            return
        conn = self.adopt_child(lst, seg.dst_port, src, seg.src_port, config)
        conn.receive_segment(seg, now, (src, seg.src_port))
        self._pump(conn)

    def adopt_child(
        self, lst: Listener, port: int, src: str, src_port: int, config: TCPConfig
    ) -> Connection:
        """A new connection for a listener, about to take its first segment."""
        conn = Connection(
            (self.ip, port),
            config=config,
            secret=self.secret,
            counters=self.counters,
            name=self.name,
        )
        conn.become_listener_child()
        if lst.iss is not None:
            conn.set_iss(lst.iss)
        self.connections[(port, src, src_port)] = conn
        lst.syn_queue.append(conn)
        handle = TcpHandle(self, conn)
        handle.listener = lst
        self.handles[conn] = handle
        return conn

    # ------------------------------------------------------------------------------
    # Packets out
    # ------------------------------------------------------------------------------

    def _send_raw(self, seg: TCPSegment, dst: str) -> None:
        """A segment from the host itself (a reset for a closed port)."""
        if seg.rst:
            self.counters["OutRsts"] += 1
        self.counters["OutSegs"] += 1
        self._output(seg, dst)

    def _output(self, seg: TCPSegment, dst: str) -> None:
        if self.transmit is None:
            self.drop("no_link")
            return
        self._ident = (self._ident + 1) & 0xFFFF
        header, payload = encode_tcp_parts(seg, self.ip, dst)
        ip = ipv4_header(
            self.ip, dst, PROTO_TCP, len(header) + len(payload), ident=self._ident, tos=seg.ip_ecn
        )
        data = b"".join((ip, header, payload))
        gso = seg.gso_size
        if gso and len(payload) > gso:
            if self.transmit_gso is not None:
                self.transmit_gso(data, gso)
                return
            for piece in segment_tcp_packet(data, gso):
                self.transmit(piece)
            return
        self.transmit(data)

    # ------------------------------------------------------------------------------
    # Driving connections
    # ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def receiving_batch(self) -> Iterator[None]:
        """Packets received inside this block are processed at once, but what they make
        an ESTABLISHED connection send -- its ACK, and data the ACKs let out -- and the
        events they raise wait for the end of the block: one ACK for all of a batch's
        segments of a flow, and one pass of the send path.

        Linux does the same with the packets a socket's backlog collected while its
        owner held it (net.ipv4.tcp_backlog_ack_defer, on by default since 6.8:
        __tcp_ack_snd_check sets TCP_ACK_DEFERRED and tcp_release_cb sends one ACK).  A
        link that reads packets in batches (synack.link.tunlink) wraps each batch in it;
        a connection whose state a packet changes is served at once, as always."""
        if self._deferred is not None or not self.config.backlog_ack_defer:
            yield  # nested (the outer block flushes), or turned off
            return
        self._deferred = {}
        try:
            yield
        finally:
            deferred, self._deferred = self._deferred, None
            failure: BaseException | None = None
            for conn in deferred:
                try:
                    self._pump(conn)
                except Exception as e:  # every connection is still served; first error out
                    failure = failure or e
            if failure is not None:
                raise failure

    def _pump(self, conn: Connection) -> None:
        """Deliver the connection's events, then send its segments, then re-arm its timer."""
        if self._deferred:
            self._deferred.pop(conn, None)  # served now: nothing left for the batch's end
        busy = self._busy
        if conn in busy:
            return  # the outer call is draining this connection
        busy.add(conn)
        try:
            next_event = conn.next_event
            dispatch = self._dispatch
            while (event := next_event()) is not None:
                dispatch(conn, event)
            remote = conn.remote
            if remote is not None:
                segments = conn.segments_to_send(self.clock())
                if segments:
                    output, dst = self._output, remote[0]
                    for seg in segments:
                        output(seg, dst)
        finally:
            busy.discard(conn)
        if self._to_record:
            self._handle_gone()
        if conn.state is State.TIME_WAIT and self._keep_timewait(conn):
            self._reschedule()
            return
        self._arm(conn)

    def _dispatch(self, conn: Connection, event: ev.Event) -> None:
        handle = self.handles.get(conn)
        if handle is None and self._weak_handles:
            ref = self._weak_handles.get(conn)
            handle = ref() if ref is not None else None
        # The event kinds are a closed set: exact types (an isinstance chain is slower).
        if type(event) is ev.StateChanged:
            if self.observers:  # a trace event only for someone who reads it
                self._trace(
                    StateChange(
                        self.clock(), self.name, conn.describe(), event.old.value, event.new.value
                    )
                )
            if handle is not None and handle.listener is not None:
                handle.listener.on_state(self, handle, event)
        elif type(event) is ev.ConnectionError:
            self.note(
                f"{conn.describe()} error: {errno.errorcode.get(event.errno, '?')} ({event.reason})"
            )
        elif type(event) is ev.Closed:
            self._forget(conn)
        if handle is not None:
            handle.deliver(event)

    def _forget(self, conn: Connection) -> None:
        """Drop every reference the host keeps to a connection that is gone (CLOSED, or a
        TIME_WAIT one a new SYN replaced): nothing grows with the connections served."""
        if conn.remote is not None:
            key = (conn.local[1], conn.remote[0], conn.remote[1])
            if self.connections.get(key) is conn:
                del self.connections[key]
        self._cancel_timer(conn)
        self.handles.pop(conn, None)
        self._weak_handles.pop(conn, None)

    def _cancel_timer(self, owner: Connection | TimeWaitRecord) -> None:
        entry = self._timer_entry.pop(owner, None)
        if entry is not None:
            entry[2] = None  # stays in the heap, inert, until popped or compacted

    def _set_timer(self, owner: Connection | TimeWaitRecord, deadline: float) -> None:
        self._cancel_timer(owner)
        entry = [deadline, next(self._tick), owner]
        self._timer_entry[owner] = entry
        heapq.heappush(self._timers, entry)
        if len(self._timers) > 2 * len(self._timer_entry) + 1024:
            # Cancelled entries outnumber the live ones: drop them in one pass.
            self._timers = [e for e in self._timers if e[2] is not None]
            heapq.heapify(self._timers)

    def _arm(self, conn: Connection) -> None:
        deadline = conn.get_timer()
        if deadline is None or conn.state is State.CLOSED:
            self._cancel_timer(conn)
        else:
            entry = self._timer_entry.get(conn)
            if entry is None or entry[0] != deadline:
                self._set_timer(conn, deadline)
        if self.scheduler is not None:
            self.scheduler.schedule(self.next_deadline())

    def next_deadline(self) -> float | None:
        timers = self._timers
        while timers:
            entry = timers[0]
            if entry[2] is not None:
                return float(entry[0])
            heapq.heappop(timers)  # cancelled
        return None

    def _reschedule(self) -> None:
        if self.scheduler is not None:
            self.scheduler.schedule(self.next_deadline())

    def on_timer(self) -> None:
        """Run every connection timer that is due (the scheduler calls this)."""
        now = self.clock()
        if self._to_record:
            self._handle_gone()
        timers = self._timers
        while timers and timers[0][0] <= now:
            entry = heapq.heappop(timers)
            owner = entry[2]
            if owner is None:
                continue  # cancelled
            del self._timer_entry[owner]
            if isinstance(owner, TimeWaitRecord):
                self._expire_timewait(owner, now)
                continue
            owner.handle_timer(now)
            self._pump(owner)
            timers = self._timers  # compaction may have made a new list
        self._reschedule()

    # ------------------------------------------------------------------------------
    # The application's side
    # ------------------------------------------------------------------------------

    def connect(
        self,
        remote_ip: str,
        remote_port: int,
        *,
        local_port: int | None = None,
        config: TCPConfig | None = None,
        iss: int | None = None,
    ) -> TcpHandle:
        """Active open.  Returns at once; the handle's events say how it went."""
        if not 0 < remote_port < 65536:
            raise ValueError(f"bad port {remote_port}")
        if local_port is None:
            port = self.ports.allocate(
                lambda p: (
                    (p, remote_ip, remote_port) in self.connections
                    or (p, remote_ip, remote_port) in self.timewait
                    or p in self.listeners
                )
            )
            if port is None:
                raise OSError(errno.EADDRNOTAVAIL, "no free ephemeral port")
            local_port = port
        elif (local_port, remote_ip, remote_port) in self.connections or (
            local_port,
            remote_ip,
            remote_port,
        ) in self.timewait:
            # Linux: __inet_check_established refuses a 4-tuple in use or in TIME_WAIT.
            raise OSError(errno.EADDRNOTAVAIL, "4-tuple in use (TIME_WAIT?)")
        conn = Connection(
            (self.ip, local_port),
            config=config or self.config,
            secret=self.secret,
            counters=self.counters,
            name=self.name,
        )
        if iss is not None:
            conn.set_iss(iss)
        handle = TcpHandle(self, conn)
        self.handles[conn] = handle
        self.connections[(local_port, remote_ip, remote_port)] = conn
        conn.connect((remote_ip, remote_port), self.clock())
        self._pump(conn)
        return handle

    def listen(
        self,
        port: int,
        backlog: int = 128,
        *,
        on_accept: Callable[[TcpHandle], None] | None = None,
        config: TCPConfig | None = None,
        iss: int | None = None,
    ) -> Listener:
        """Passive open on ``port``."""
        if not 0 < port < 65536:
            raise ValueError(f"bad port {port}")
        if port in self.listeners:
            raise OSError(errno.EADDRINUSE, f"port {port} already has a listener")
        lst = Listener(self, port, backlog, on_accept=on_accept, config=config, iss=iss)
        self.listeners[port] = lst
        self.note(f"listen on {self.ip}:{port} backlog {backlog}")
        return lst

    def local_port_used(self, port: int) -> bool:
        """Whether a connection of this host, TIME_WAIT records included, has ``port`` as
        its local port (what bind(2) without SO_REUSEADDR refuses)."""
        return any(k[0] == port for k in self.connections) or any(
            k[0] == port for k in self.timewait
        )

    def unlisten(self, lst: Listener) -> None:
        if self.listeners.get(lst.port) is lst:
            del self.listeners[lst.port]

    def restart(self) -> None:
        """Lose every connection at once, as a host that crashed and came back does."""
        self.note("host restarts: all connections lost")
        self.connections.clear()
        self.timewait.clear()
        self.handles.clear()
        self.listeners.clear()
        self.udp.endpoints.clear()
        self._timers.clear()
        self._timer_entry.clear()
        self._weak_handles.clear()
        self._reschedule()

    # ------------------------------------------------------------------------------
    # Introspection
    # ------------------------------------------------------------------------------

    def ss(self, details: bool = False) -> str:
        """The connection table in the style of ``ss -tan -o`` (``ss -tain -o`` with
        ``details``: a line of TCP_INFO under each connection)."""
        from synack.stack.table import render_ss

        return render_ss(self, details)
