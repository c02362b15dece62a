"""A synack host on a TUN device, in real time: the pieces wired together.

::

    with Netns("demo") as ns, TunStack(ns) as stack:
        srv = stack.socket()
        srv.bind(("", 80)); srv.listen()
        # ... the kernel connects from inside the namespace to ns.synack_ip:80 ...
        conn, peer = srv.accept()

:class:`TunStack` makes the :class:`~synack.stack.host.Host` (answering for
``ns.synack_ip``, with an MSS fitted to the interface MTU), a
:class:`~synack.link.realtime.RealtimeLoop` (or uses the one given), and the
:class:`~synack.link.tunlink.TunLink` with optional impairments in both directions.
:meth:`TunStack.socket` makes blocking sockets that wait on that loop.
"""

from __future__ import annotations

import os
import random
import socket as _socket
from typing import Any

from synack.api.dgram import DatagramSocket
from synack.api.runtime import RealtimeRuntime
from synack.api.socket import Socket, socket
from synack.link.impairment import ImpairmentConfig
from synack.link.netns import Netns, NetnsError
from synack.link.realtime import Reactor, RealtimeLoop
from synack.link.tunlink import TunLink
from synack.stack.host import Host
from synack.tcp.config import TCPConfig
from synack.trace.events import Observer

__all__ = ["TunStack", "config_for_mtu", "make_tun_host"]


def config_for_mtu(mtu: int, base: TCPConfig | None = None) -> TCPConfig:
    """``base`` with the MSS an interface of this MTU allows: MTU - 40 (RFC 9293 §3.7.1),
    a receive window of at least a few segments, and TSO packets of up to 64 KB (Linux's
    gso_max_size): a device with offload takes them whole and the kernel cuts them; for
    one without, the link cuts them (:mod:`synack.wire.gso`), as Linux's GSO does for
    a network card without TSO, so TCP's per-segment work is done once per 64 KB either
    way."""
    base = base or TCPConfig()
    mss = mtu - 40
    changes: dict[str, object] = {"mss": mss}
    if not base.gso_max_size:
        changes["gso_max_size"] = 65536
    if base.rcvbuf < 8 * mss:
        changes["rcvbuf"] = 8 * mss  # the window is half the buffer: at least 4 segments
    return base.with_(**changes)


def make_tun_host(
    ns: Netns,
    reactor: Reactor,
    *,
    name: str = "synack",
    config: TCPConfig | None = None,
    outbound: ImpairmentConfig | None = None,
    inbound: ImpairmentConfig | None = None,
    observers: list[Observer] | None = None,
    seed: int | None = None,
    gro: bool = True,
) -> tuple[Host, TunLink]:
    """A host answering for ``ns.synack_ip`` on the namespace's TUN device, on ``reactor``
    (a :class:`RealtimeLoop` or an asyncio loop).  ``seed`` makes ports and ISNs
    reproducible; by default the secret is random, as a real stack's is.  ``gro``: join
    back-to-back segments read from a device without offload (:mod:`synack.wire.gro`)."""
    if ns.tun is None:
        raise NetnsError(f"namespace {ns.name!r} has no open TUN device (call up())")
    rng = random.Random(seed)
    obs: list[Observer] = observers if observers is not None else []
    host = Host(
        name,
        ns.synack_ip,
        clock=reactor.time,
        config=config or config_for_mtu(ns.mtu),
        secret=os.urandom(16) if seed is None else rng.randbytes(16),
        rng=rng,
        observers=obs,
    )
    link = TunLink(
        ns.tun,
        host,
        reactor,
        outbound=outbound,
        inbound=inbound,
        rng=random.Random(rng.getrandbits(64)),
        observers=obs,
        gro=gro,
    )
    return host, link


class TunStack:
    """A host on a TUN device with its own :class:`RealtimeLoop`, for blocking sockets."""

    def __init__(
        self,
        ns: Netns,
        *,
        loop: RealtimeLoop | None = None,
        observers: list[Observer] | None = None,
        **kwargs: Any,
    ) -> None:
        self.ns = ns
        self._own_loop = loop is None
        self.loop = loop or RealtimeLoop()
        self.observers: list[Observer] = observers if observers is not None else []
        self.host, self.link = make_tun_host(ns, self.loop, observers=self.observers, **kwargs)
        self.runtime = RealtimeRuntime(self.loop, self.host)

    def socket(self, type: int = _socket.SOCK_STREAM) -> Socket | DatagramSocket:
        return socket(self.runtime, _socket.AF_INET, type)

    def stream(self) -> Socket:
        """A TCP socket (typed, for convenience)."""
        s = socket(self.runtime)
        assert isinstance(s, Socket)
        return s

    def datagram(self) -> DatagramSocket:
        """A UDP socket (typed, for convenience)."""
        s = socket(self.runtime, _socket.AF_INET, _socket.SOCK_DGRAM)
        assert isinstance(s, DatagramSocket)
        return s

    def run_for(self, seconds: float) -> None:
        self.loop.run_for(seconds)

    def close(self) -> None:
        self.link.close()
        if self._own_loop:
            self.loop.close()

    def __enter__(self) -> TunStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
