"""asyncio on synack: ``open_connection``, ``start_server``, transports and event loops.

::

    import synack.asyncio as sa

    tb = Testbed()                                    # two simulated hosts
    loop = sa.SimEventLoop(tb.sim, [tb.client, tb.server])

    async def main():
        server = await asyncio.start_server(echo, "192.0.2.2", 7)     # unmodified asyncio:
        reader, writer = await asyncio.open_connection("192.0.2.2", 7)  # the loop routes
        ...                                                           # both to synack

    sa.run(main(), loop)                              # in virtual time

On a TUN device, :func:`tun_event_loop` makes a real-time :class:`SynackEventLoop`
whose host answers for the namespace's synack address.
"""

from __future__ import annotations

from typing import Any

from synack.asyncio.loop import SimEventLoop, SynackEventLoop, VirtualTimeSelector, run
from synack.asyncio.streams import (
    SynackServer,
    create_connection,
    create_server,
    open_connection,
    start_server,
)
from synack.asyncio.transport import SynackTransport
from synack.link.netns import Netns

__all__ = [
    "SimEventLoop",
    "SynackEventLoop",
    "SynackServer",
    "SynackTransport",
    "VirtualTimeSelector",
    "create_connection",
    "create_server",
    "open_connection",
    "run",
    "start_server",
    "tun_event_loop",
]


def tun_event_loop(ns: Netns, **kwargs: Any) -> SynackEventLoop:
    """A real-time loop with a synack host on ``ns``'s TUN device (``loop.hosts[0]``).

    Keyword arguments go to :func:`synack.api.tun.make_tun_host` (config, impairments,
    observers, seed); the link is ``loop.tun_link``.
    """
    from synack.api.tun import make_tun_host

    loop = SynackEventLoop()
    host, link = make_tun_host(ns, loop, **kwargs)
    loop.add_host(host)
    loop.tun_link = link  # type: ignore[attr-defined]
    return loop
