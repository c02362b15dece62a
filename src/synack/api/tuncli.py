"""The TUN commands of the CLI: ``synack serve``, ``synack connect``, ``synack netns``.

``synack netns up [NAME]`` makes a namespace with a persistent TUN interface (the
kernel's side at 192.0.2.1/24); ``synack serve`` and ``synack connect`` attach to it by
name, or, when it does not exist, make one just for their run and delete it on exit.
In the namespace, programs reach synack at 192.0.2.2::

    synack netns up demo
    synack serve http --netns demo &
    ip netns exec demo curl -o /dev/null http://192.0.2.2/bytes/10000000
    synack netns down demo

``-v`` prints the tcpdump-style trace; on exit (and on SIGUSR1) the commands print the
``ss``-style table and the counters.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from synack.api.services import SERVICES, HttpConfig
from synack.link.impairment import ImpairmentConfig
from synack.link.netns import DEFAULT_SYNACK_IP, Netns, netns_exists
from synack.link.tunlink import TunLink
from synack.link.workers import Workers
from synack.stack.counters import render_counters
from synack.stack.host import Host
from synack.trace.events import Observer
from synack.trace.pcap import PcapObserver, PcapWriter
from synack.trace.tcpdump import TcpdumpPrinter

__all__ = ["add_subcommands", "run_command"]

DEFAULT_NETNS = "synack"


def add_subcommands(sub: Any) -> None:
    """Add ``serve``, ``connect`` and ``netns`` to the CLI's subparsers."""
    s = sub.add_parser("serve", help="serve echo, discard or http on a TUN device")
    s.add_argument("service", choices=sorted(SERVICES))
    s.add_argument("--port", type=int, help="port (default: 7 echo, 9 discard, 80 http)")
    s.add_argument("--file", help="http: serve this file for paths other than /bytes/N")
    s.add_argument("--count", type=int, help="exit after this many connections")
    s.add_argument("--duration", type=float, help="exit after this many seconds")
    s.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes, one per queue of a multi-queue TUN interface (default 1)",
    )
    _common(s)

    c = sub.add_parser("connect", help="netcat-like: stdin to a TCP peer, its bytes to stdout")
    c.add_argument("host")
    c.add_argument("port", type=int)
    _common(c)

    n = sub.add_parser("netns", help="create or delete a namespace with a TUN device")
    n.add_argument("action", choices=("up", "down"))
    n.add_argument("name", nargs="?", default=DEFAULT_NETNS)
    n.add_argument("--mtu", type=int, default=1500)
    n.add_argument("--kernel-ip", default="192.0.2.1")
    n.add_argument(
        "--queues", type=int, default=1, help="make a multi-queue interface (serve --workers)"
    )


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--netns", default=DEFAULT_NETNS, help="namespace (default: synack)")
    p.add_argument("--ip", default=DEFAULT_SYNACK_IP, help="synack's address (192.0.2.2)")
    p.add_argument("--mtu", type=int, default=1500, help="MTU of a namespace made for the run")
    p.add_argument("--loss", type=float, default=0.0, help="impairment: loss, each way (0..1)")
    p.add_argument("--reorder", type=float, default=0.0, help="impairment: reordering (0..1)")
    p.add_argument("--delay", type=float, default=0.0, help="impairment: one-way delay, s")
    p.add_argument("--seed", type=int, help="seed for ports, ISNs and impairments")
    p.add_argument("--pcap", metavar="FILE", help="write the packets to a pcap file")
    p.add_argument("-v", "--verbose", action="store_true", help="print the tcpdump trace")
    p.add_argument(
        "--no-offload",
        dest="offload",
        action="store_false",
        help="no checksum/TSO offload on the TUN device: one wire packet per read and write",
    )


def run_command(args: argparse.Namespace) -> int:
    if args.command == "netns":
        return _netns(args)
    if args.command == "serve":
        return _serve(args)
    if args.command == "connect":
        return _connect(args)
    return 2


# --- netns ---------------------------------------------------------------------------


def _netns(args: argparse.Namespace) -> int:
    ns = Netns(args.name, mtu=args.mtu, kernel_ip=args.kernel_ip, queues=args.queues)
    if args.action == "up":
        ns.up(persist=True, keep_open=False)
        print(
            f"namespace {ns.name}: {ns.device} mtu {ns.mtu}, kernel {ns.kernel_ip}/{ns.prefix}; "
            f"synack answers as {ns.synack_ip} (synack serve ... --netns {ns.name})"
        )
    else:
        if not netns_exists(ns.name):
            print(f"synack: no namespace {ns.name!r}", file=sys.stderr)
            return 1
        ns.down()
        print(f"namespace {ns.name} removed")
    return 0


# --- the shared run -----------------------------------------------------------------------


@contextlib.contextmanager
def _namespace(args: argparse.Namespace, queues: int = 1) -> Iterator[Netns]:
    ns = Netns(args.netns, synack_ip=args.ip, mtu=args.mtu, offload=args.offload, queues=queues)
    if netns_exists(ns.name):
        ns.read_config()
        ns.attach()
        try:
            yield ns
        finally:
            ns.keep_queue(0).close()
        return
    with ns:
        print(f"(namespace {ns.name} made for this run; kernel side {ns.kernel_ip})", flush=True)
        yield ns


def _observers(
    args: argparse.Namespace, stack: contextlib.ExitStack, worker: int = 0
) -> list[Observer]:
    obs: list[Observer] = []
    if args.verbose:
        printer = TcpdumpPrinter(lambda line: print(line, flush=True))
        stack.callback(printer.flush)
        obs.append(printer)
    if args.pcap:
        # Workers after the first write files of their own: NAME.pcap, NAME.1.pcap...
        path = Path(args.pcap)
        if worker:
            path = path.with_name(f"{path.stem}.{worker}{path.suffix}")
        writer = stack.enter_context(PcapWriter(str(path)))
        obs.append(PcapObserver(writer))
    return obs


def _impairment(args: argparse.Namespace) -> ImpairmentConfig | None:
    if not (args.loss or args.reorder or args.delay):
        return None
    return ImpairmentConfig(loss=args.loss, reorder=args.reorder, delay=args.delay)


def report(host: Host, link: TunLink | None = None) -> str:
    """The ss table and every counter of a host (and its link's)."""
    parts = [host.ss(details=True), render_counters(host)]
    if link is not None:
        parts += [f"Link {k:<19} {v}" for k, v in sorted(link.stats.items())]
    return "\n".join(parts)


def _run(args: argparse.Namespace, body: Any) -> int:
    from synack.link.malloc import keep_heap

    keep_heap()  # this process streams packets: reuse their memory (synack.link.malloc)
    count = getattr(args, "workers", 1)
    if count < 1:
        print(f"synack: --workers must be at least 1, got {count}", file=sys.stderr)
        return 2
    with _namespace(args, count) as ns:
        if count == 1:
            return _run_worker(args, body, ns, None)
        workers = Workers(ns)
        index = workers.fork()
        if index:
            code = 1
            try:
                code = _run_worker(args, body, ns, workers)
            except BaseException:  # a child never returns into the parent's code
                traceback.print_exc()
            finally:
                workers.exit_child(code)
        try:
            code = _run_worker(args, body, ns, workers)
        finally:
            # After a signal to the process group every worker is ending already: let
            # each finish its report rather than end it.
            codes = workers.stop(grace=5.0 if workers.signalled else 0.0)
        failed = [c for c in codes if c not in (0, -signal.SIGTERM)]
        if failed:
            print(f"synack: workers ended with {failed}", file=sys.stderr)
        return code or (1 if failed else 0)


def _run_worker(args: argparse.Namespace, body: Any, ns: Netns, workers: Workers | None) -> int:
    """One host on ``ns.tun`` (this process's queue), running ``body`` to its end."""
    from synack.asyncio import run, tun_event_loop

    index = workers.index if workers is not None else 0
    with contextlib.ExitStack() as stack:
        imp = _impairment(args)
        seed = args.seed if args.seed is None else args.seed + index
        loop = tun_event_loop(
            ns, outbound=imp, inbound=imp, observers=_observers(args, stack, index), seed=seed
        )
        loop.workers = workers  # type: ignore[attr-defined]
        host: Host = loop.hosts[0]
        link: TunLink = loop.tun_link  # type: ignore[attr-defined]
        title = "" if workers is None else f"-- worker {index} of {workers.count} --\n"
        dump = lambda: _write_whole(2, title + report(host, link), workers)  # noqa: E731
        loop.add_signal_handler(signal.SIGUSR1, dump)
        try:
            code: int = run(body(loop, ns, host), loop)
        finally:
            link.close()
            if workers is not None and not workers.is_parent:
                # The parent's SIGTERM must not cut the report short.
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                signal.signal(signal.SIGINT, signal.SIG_IGN)
            _write_whole(1, title + report(host, link), workers)
        return code


def _write_whole(fd: int, text: str, workers: Workers | None) -> None:
    """``text`` and a newline to ``fd`` in one piece: workers take turns (their lock), so
    their reports do not interleave."""
    sys.stdout.flush()
    sys.stderr.flush()
    data = (text + "\n").encode()
    with workers.lock if workers is not None else contextlib.nullcontext():
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]


# --- serve -----------------------------------------------------------------------------------


def _serve(args: argparse.Namespace) -> int:
    default_port, make = SERVICES[args.service]
    port = args.port or default_port
    handler = make(HttpConfig(file=args.file))

    async def body(loop: asyncio.AbstractEventLoop, ns: Netns, host: Host) -> int:
        from synack.asyncio import start_server

        stop = asyncio.Event()
        served = 0

        workers: Workers | None = loop.workers  # type: ignore[attr-defined]

        async def counted(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            nonlocal served
            await handler(r, w)
            served += 1
            total = served if workers is None else workers.counts.add(workers.index)
            if args.count and total >= args.count:
                stop.set()

        server = await start_server(counted, ns.synack_ip, port, stack=host)
        if args.service == "echo":
            _udp_echo(host, port)  # RFC 862 defines a UDP echo too

        def on_signal() -> None:
            if workers is not None:
                workers.signalled = True  # the process group got it: all workers stop
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal)
        if workers is not None and workers.is_parent:
            # A worker ended (its --count reached, or it failed, maybe before this
            # handler was in place); SIGCHLD also comes for a worker stopped or continued.
            def on_child() -> None:
                if workers.exited():
                    stop.set()

            loop.add_signal_handler(signal.SIGCHLD, on_child)
            on_child()
        if args.duration:
            loop.call_later(args.duration, stop.set)
        if workers is None or workers.is_parent:
            many = "" if workers is None else f", {workers.count} worker processes"
            print(
                f"synack {args.service} on {ns.synack_ip}:{port}{many} "
                f"(from the namespace: ip netns exec {ns.name} ...)",
                flush=True,
            )
        await stop.wait()
        server.close()
        await asyncio.sleep(0.2)  # let the last FINs and ACKs go out
        return 0

    return _run(args, body)


def _udp_echo(host: Host, port: int) -> None:
    ep = host.udp.bind(port)

    def answer(_: object) -> None:
        while (got := ep.recvfrom()) is not None:
            ep.sendto(*got)

    ep.on_datagram = answer


# --- connect ---------------------------------------------------------------------------------


def _connect(args: argparse.Namespace) -> int:
    async def body(loop: asyncio.AbstractEventLoop, ns: Netns, host: Host) -> int:
        from synack.asyncio import open_connection

        try:
            reader, writer = await open_connection(args.host, args.port, stack=host)
        except OSError as e:
            print(f"synack: connect to {args.host}:{args.port}: {e}", file=sys.stderr)
            return 1
        chunks: asyncio.Queue[bytes] = asyncio.Queue()
        _stdin_reader(loop, chunks)

        async def upstream() -> None:
            while chunk := await chunks.get():
                writer.write(chunk)
                await writer.drain()
            writer.write_eof()

        up = asyncio.create_task(upstream())
        out = sys.stdout.buffer
        try:
            while data := await reader.read(65536):
                out.write(data)
                out.flush()
        except ConnectionError as e:
            print(f"synack: {e}", file=sys.stderr)
            return 1
        finally:
            up.cancel()
            writer.close()
        return 0

    return _run(args, body)


def _stdin_reader(loop: asyncio.AbstractEventLoop, chunks: asyncio.Queue[bytes]) -> None:
    """Feed stdin to ``chunks`` from a daemon thread (b"" at end of input)."""

    def pump() -> None:
        stream = sys.stdin.buffer
        while True:
            data = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
            loop.call_soon_threadsafe(chunks.put_nowait, data)
            if not data:
                return

    threading.Thread(target=pump, daemon=True, name="stdin").start()
