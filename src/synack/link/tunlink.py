"""A host on a TUN device, in real time, with the impairment model in both directions.

:class:`TunLink` joins a :class:`~synack.stack.host.Host` to a
:class:`~synack.link.tun.TunDevice` on a reactor (:class:`~synack.link.realtime.
RealtimeLoop` or an asyncio loop):

* packets the host transmits go through the *outbound* :class:`Impairment` and are
  written to the TUN device when their (possibly delayed) delivery time comes;
* packets read from the device (the kernel's) go through the *inbound* impairment and
  are handed to ``host.receive_packet`` at their delivery time;
* the host's timers run on the reactor (:class:`~synack.link.realtime.ReactorScheduler`).

This kernel has no netem, so this is how a kernel peer meets loss, delay, jitter,
reordering, duplication, corruption and a rate limit: the same model, the same
pipeline, as the simulator's links (:mod:`synack.link.impairment`).

Observers see the same :class:`~synack.trace.events.PacketEvent` stream as on a
simulated link: ``send`` when a packet enters the link (synack's packets when the host
transmits them, the kernel's when they are read from the device), then ``drop`` with
the reason or ``deliver`` when it leaves.  Recording ``send`` events therefore gives the
packets as the two stacks emitted them, which is what a pcap of "synack's side" shows.

On a device opened with offload (:mod:`synack.link.vnet`) packets of several segments
cross whole in both directions, as on a Linux host with TSO and GRO, and observers see
them whole (as tcpdump does there); with an impairment configured they are cut into
wire packets first (:mod:`synack.wire.gso`), so that loss and reordering act per packet.
Without offload, each read is one wire packet, and a flow's back-to-back segments read
in one batch are joined in software (:mod:`synack.wire.gro`, Linux's GRO) before the
host sees them, unless observers or an inbound impairment need the wire packets.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from functools import partial

from synack.errors import DecodeError
from synack.link import vnet
from synack.link.impairment import Impairment, ImpairmentConfig
from synack.link.realtime import Reactor, ReactorScheduler
from synack.link.tun import TunDevice
from synack.stack.host import Host
from synack.trace.events import Observer, PacketEvent, TraceEvent
from synack.wire import gro
from synack.wire.gso import segment_tcp_packet

__all__ = ["TunLink"]

#: Name of the far end in trace events.
KERNEL = "kernel"


class TunLink:
    """The link between one host and the kernel, through a TUN device."""

    def __init__(
        self,
        tun: TunDevice,
        host: Host,
        reactor: Reactor,
        *,
        outbound: ImpairmentConfig | None = None,
        inbound: ImpairmentConfig | None = None,
        rng: random.Random | None = None,
        observers: list[Observer] | None = None,
        peer_name: str = KERNEL,
        batch: int = 64,
        gro: bool = True,
    ) -> None:
        self.tun = tun
        self.host = host
        self.reactor = reactor
        self.peer_name = peer_name
        self.batch = batch
        #: Join a flow's back-to-back segments read in one batch (:mod:`synack.wire.gro`)
        #: when the device has no offload, as Linux's GRO does for every network card.
        self.gro = gro
        self.observers: list[Observer] = observers if observers is not None else []
        rng = rng or random.Random(0)
        self._out = Impairment(outbound, random.Random(rng.getrandbits(64))) if outbound else None
        self._in = Impairment(inbound, random.Random(rng.getrandbits(64))) if inbound else None
        self.stats: Counter[str] = Counter()
        self._ids = 0
        self._closed = False
        self.scheduler = ReactorScheduler(reactor, host.on_timer)
        host.attach(self.transmit, self.scheduler, transmit_gso=self.transmit_gso)
        reactor.add_reader(tun.fileno(), self._on_readable)

    # --- configuration ----------------------------------------------------------------

    def set_impairments(
        self, outbound: ImpairmentConfig | None, inbound: ImpairmentConfig | None
    ) -> None:
        """Change the impairments (None: a perfect direction).  Queues start afresh."""
        rng = random.Random(self._ids)
        self._out = Impairment(outbound, random.Random(rng.getrandbits(64))) if outbound else None
        self._in = Impairment(inbound, random.Random(rng.getrandbits(64))) if inbound else None

    @property
    def impairment_drops(self) -> tuple[Counter[str], Counter[str]]:
        """Drop reasons counted by the (outbound, inbound) impairments."""
        return (
            self._out.drops if self._out else Counter(),
            self._in.drops if self._in else Counter(),
        )

    # --- events -----------------------------------------------------------------------

    def _emit(self, event: TraceEvent) -> None:
        for obs in self.observers:
            obs(event)

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    # --- synack -> kernel -------------------------------------------------------------

    def transmit(self, data: bytes) -> None:
        """The host's transmit function: impair, then write to the TUN device."""
        if self._closed:
            self.stats["out_after_close"] += 1
            return
        self.stats["out_packets"] += 1
        imp = self._out
        observed = bool(self.observers)
        if imp is None and not observed:
            self._write(data)
            return
        now = self.reactor.time()
        pid = self._next_id()
        src, dst = self.host.name, self.peer_name
        if observed:
            self._emit(PacketEvent(now, "send", src, dst, data, pid))
        if imp is None:
            self._deliver_out(data, pid)
            return
        self._route(imp.offer(data, now, src, dst), now, src, dst, data, pid, self._deliver_out)

    def transmit_gso(self, data: bytes, gso_size: int) -> None:
        """The host's TSO transmit function (``Host.attach``'s ``transmit_gso``): with
        offload and no outbound impairment the packet goes to the kernel whole, which
        cuts it or receives it as one (GRO); otherwise it is cut into wire packets here
        (:mod:`synack.wire.gso`), so impairments act per packet as on a real wire."""
        if self.tun.offload and self._out is None and not self._closed:
            self.stats["out_packets"] += 1
            self.stats["out_gso_packets"] += 1
            if self.observers:
                now = self.reactor.time()
                pid = self._next_id()
                src, dst = self.host.name, self.peer_name
                self._emit(PacketEvent(now, "send", src, dst, data, pid))
                self._emit(PacketEvent(now, "deliver", src, dst, data, pid))
            self._write(data, gso_size)
            return
        for piece in segment_tcp_packet(data, gso_size):
            self.transmit(piece)

    def _deliver_out(self, data: bytes, pid: int) -> None:
        if self.observers:
            now = self.reactor.time()
            self._emit(PacketEvent(now, "deliver", self.host.name, self.peer_name, data, pid))
        self._write(data)

    def _write(self, data: bytes, gso_size: int = 0) -> None:
        if self._closed:
            return
        if self.tun.offload:
            ok = self.tun.write_parts(vnet.wrap(data, gso_size))
        else:
            ok = self.tun.write(data)
        if not ok:
            self.stats["tun_write_errors"] += 1

    # --- kernel -> synack -------------------------------------------------------------

    def _on_readable(self) -> None:
        if self._closed:
            return
        frames = self.tun.read_batch(self.batch)
        self.stats["in_packets"] += len(frames)
        verified: list[bool] | None = None
        sizes: list[int] | None = None
        packets: list[bytes] | list[bytes | memoryview] = frames
        imp = self._in
        observed = bool(self.observers)
        if self.tun.offload:
            packets, verified, sizes = self._unwrap(frames)
        elif self.gro and imp is None and not observed:
            # Observers and the impairment see wire packets, so GRO only without them.
            packets, verified, sizes = gro.coalesce(frames, self.stats)
        host = self.host
        # One ACK per flow for the whole batch (Host.receiving_batch); packets delivered
        # at once on a traced or impaired link make the batch too, so that a trace shows
        # the ACKs an untraced run sends.
        with host.receiving_batch():
            if imp is None and not observed:
                receive = host.receive_packet
                for i, data in enumerate(packets):
                    if data and data[0] >> 4 == 4:
                        if verified is not None and sizes is not None:
                            receive(data, checksum_verified=verified[i], gso_size=sizes[i])
                        else:
                            receive(data)
                    else:
                        self.stats["in_not_ipv4"] += 1  # IPv6 the kernel still sent, say
                return
            for item in packets:
                if not item or item[0] >> 4 != 4:
                    self.stats["in_not_ipv4"] += 1
                    continue
                data = bytes(item)  # already bytes here: unwrapped with complete checksums
                now = self.reactor.time()
                pid = self._next_id()
                src, dst = self.peer_name, host.name
                if observed:
                    self._emit(PacketEvent(now, "send", src, dst, data, pid))
                if imp is None:
                    self._deliver_in(data, pid)
                    continue
                verdict = imp.offer(data, now, src, dst)
                self._route(verdict, now, src, dst, data, pid, self._deliver_in)

    def _unwrap(
        self, frames: list[bytes]
    ) -> tuple[list[bytes | memoryview], list[bool], list[int]]:
        """Packets from frames with a virtio-net header, and for each whether its
        checksum is known good: partial checksums completed; a TSO packet kept whole for
        the host (as GRO would), or cut into wire packets when an inbound impairment
        must act on each."""
        out: list[bytes | memoryview] = []
        verified: list[bool] = []
        sizes: list[int] = []
        cut = self._in is not None
        # Partial checksums are completed only where the octets are looked at (a trace
        # or pcap) or may be damaged (the impairment); see synack.link.vnet.
        complete = cut or bool(self.observers)
        for frame in frames:
            try:
                packet, gso_size, ok = vnet.unwrap(frame, complete)
                if gso_size:
                    self.stats["in_gso_packets"] += 1
                    if cut:
                        pieces = segment_tcp_packet(bytes(packet), gso_size)
                        out.extend(pieces)
                        verified.extend([False] * len(pieces))
                        sizes.extend([0] * len(pieces))
                        continue
            except DecodeError as e:
                self.stats[f"in_{e.reason}"] += 1
                continue
            out.append(packet)
            verified.append(ok)
            sizes.append(gso_size)
        return out, verified, sizes

    def _deliver_in(self, data: bytes, pid: int) -> None:
        if self._closed:
            return
        if self.observers:
            now = self.reactor.time()
            self._emit(PacketEvent(now, "deliver", self.peer_name, self.host.name, data, pid))
        self.host.receive_packet(data)

    # --- the impairment's verdict -----------------------------------------------------

    def _route(
        self,
        result: list[tuple[float, bytes]] | str,
        now: float,
        src: str,
        dst: str,
        data: bytes,
        pid: int,
        deliver: Callable[[bytes, int], None],
    ) -> None:
        if isinstance(result, str):
            self.stats[f"impaired_{result}"] += 1
            if self.observers:
                self._emit(PacketEvent(now, "drop", src, dst, data, pid, result))
            return
        for when, copy in result:
            if when <= now:
                deliver(copy, pid)
            else:
                self.reactor.call_at(when, partial(deliver, copy, pid))

    # --- teardown ---------------------------------------------------------------------

    def close(self) -> None:
        """Stop reading the device and forget pending deliveries (the device stays open)."""
        if not self._closed:
            self._closed = True
            self.scheduler.cancel()
            if not self.tun.closed:
                self.reactor.remove_reader(self.tun.fileno())
