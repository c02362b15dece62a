"""Benchmarks of synack on a TUN device against the kernel, with the kernel's own figure.

    python benchmarks/bench_tun.py                 # bulk at MTU 1500 and 65000, conn/s
    python benchmarks/bench_tun.py --bytes 50e6 --conns 100000 --profile

Each figure is measured in a namespace made for it (and deleted after):

* bulk, kernel -> synack and synack -> kernel (MB/s), at each MTU, beside kernel ->
  kernel over the namespace's loopback with its MTU set to the same value; the ratio
  synack / kernel is printed in the same run;
* connections per second from a kernel client to a synack server (connect, a 100-byte
  request, a 100-byte reply, close), in batches, to show whether later batches slow;
  with one synack process, and with one process per queue of a multi-queue TUN device
  (``--workers``, :mod:`synack.link.workers`), as a server uses its cores.  The client
  is one Python process; synack's CPU per connection is summed over its processes.

Bulk runs go with and without the TUN device's offload (``--offload``): with it the
kernel hands synack TSO packets of up to 64 KB whatever the MTU, with partial checksums:
synack checks the kernel's pseudo-header sum against the IP header and, as Linux does
with such packets, does not sum the data (it never crossed a wire; the sum is completed
only for a trace or pcap), and synack sends its own TSO packets (see
:mod:`synack.link.vnet`); without it every read and write is one wire packet, every
checksum is verified by summing the packet, and the packets of one read batch are joined
by synack's GRO (:mod:`synack.wire.gro`, as Linux does for any network card) before TCP
sees them.

``--heap`` (default ``kept``): glibc's heap keeps freed packet memory
(:mod:`synack.link.malloc`), as the ``synack`` command does; ``default`` measures with
the C library's own policy.

The kernel's side runs in a separate process (``ip netns exec``), so it does not share
the interpreter lock with synack.  Needs root, /dev/net/tun and ``ip``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import itertools
import os
import pstats
import resource
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from synack.api.tun import TunStack
from synack.link.netns import Netns
from synack.link.workers import Workers

sys.path.insert(0, str(Path(__file__).resolve().parent))

from simbench import add_heap_option, apply_heap_option

PORT = 5001

# --- kernel-side programs (run inside the namespace) -------------------------------------

SINK = """
import socket, sys, time
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], int(sys.argv[2]))); l.listen(); print("ready", flush=True)
c, _ = l.accept(); n = 0; t0 = None
while True:
    b = c.recv(1 << 20)
    if t0 is None: t0 = time.perf_counter()
    if not b: break
    n += len(b)
print(n, time.perf_counter() - t0, flush=True)
"""

SOURCE = """
import socket, sys, time
n = int(sys.argv[3]); data = b"k" * (1 << 20)
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
t0 = time.perf_counter(); left = n
while left > 0:
    left -= c.send(data[: min(left, len(data))])
c.shutdown(socket.SHUT_WR); c.recv(1); c.close()
print(n, time.perf_counter() - t0, flush=True)
"""

LOOPBACK = """
import socket, sys, threading, time
n = int(sys.argv[1]); data = b"k" * (1 << 20)
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
def send():
    c = socket.create_connection(l.getsockname()); left = n
    while left > 0:
        left -= c.send(data[: min(left, len(data))])
    c.close()
t = threading.Thread(target=send); t.start()
s, _ = l.accept(); got = 0; t0 = time.perf_counter()
while b := s.recv(1 << 20):
    got += len(b)
el = time.perf_counter() - t0; t.join(); print(got, el, flush=True)
"""

CLIENTS = """
import selectors, socket, sys, time
ip, port, total, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
conc = int(sys.argv[5])
req = b"q" * 100; done = started = 0; sel = selectors.DefaultSelector()
def start():
    global started
    c = socket.socket(); c.setblocking(False); c.connect_ex((ip, port))
    sel.register(c, selectors.EVENT_WRITE, [0, 0]); started += 1
for _ in range(min(conc, total)):
    start()
t0 = time.perf_counter()
while done < total:
    for key, _ in sel.select():
        c, st = key.fileobj, key.data
        if st[0] == 0:  # connected: send the request
            err = c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                raise OSError(err, "connect")
            c.send(req); st[0] = 1; sel.modify(c, selectors.EVENT_READ, st)
            continue
        b = c.recv(100 - st[1]); st[1] += len(b)
        if st[1] < 100 and b:
            continue
        sel.unregister(c); c.close(); done += 1
        if started < total:
            start()
        if done % batch == 0 or done == total:
            now = time.perf_counter(); print(done, now - t0, flush=True); t0 = now
"""


def kernel(ns: Netns, program: str, *args: object) -> subprocess.Popen[str]:
    argv = [sys.executable, "-c", textwrap.dedent(program), *map(str, args)]
    return ns.popen(argv, stdout=subprocess.PIPE, text=True)


def wait_output(st: TunStack, proc: subprocess.Popen[str], timeout: float = 600) -> str:
    """Run synack until the kernel process closes its output; what it printed.

    Waiting on the pipe (not polling the process) wakes the loop the moment it ends.
    """
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    chunks: list[bytes] = []
    eof = [False]

    def readable() -> None:
        data = os.read(fd, 65536)
        chunks.append(data)
        eof[0] = not data

    st.loop.add_reader(fd, readable)
    try:
        if not st.loop.run_until(lambda: eof[0], timeout):
            raise TimeoutError("the kernel side did not finish")
    finally:
        st.loop.remove_reader(fd)
    proc.wait(10)
    return b"".join(chunks).decode()


def mbps(nbytes: float, seconds: float) -> float:
    return nbytes / seconds / 1e6


# --- measurements --------------------------------------------------------------------------


def loopback(ns: Netns, nbytes: int, mtu: int) -> float:
    ns.run(["ip", "link", "set", "lo", "mtu", str(mtu)])
    out = ns.run([sys.executable, "-c", LOOPBACK, str(nbytes)], timeout=300).stdout.split()
    return mbps(int(out[0]), float(out[1]))


def kernel_to_synack(ns: Netns, st: TunStack, nbytes: int) -> float:
    srv = st.stream()
    srv.bind(("", PORT))
    srv.listen()
    proc = kernel(ns, SOURCE, ns.synack_ip, PORT, nbytes)
    conn, _ = srv.accept()
    got, t0 = 0, time.perf_counter()
    while data := conn.recv(1 << 20):
        got += len(data)
    elapsed = time.perf_counter() - t0
    conn.close()
    srv.close()
    wait_output(st, proc)
    assert got == nbytes, (got, nbytes)
    return mbps(got, elapsed)


def synack_to_kernel(ns: Netns, st: TunStack, nbytes: int) -> float:
    proc = kernel(ns, SINK, ns.kernel_ip, PORT)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    c = st.stream()
    c.connect((ns.kernel_ip, PORT))
    chunk = b"s" * (1 << 20)
    t0 = time.perf_counter()
    left = nbytes
    while left > 0:
        left -= c.send(chunk[: min(left, len(chunk))])
    c.close()
    n, _ = wait_output(st, proc).split()  # the sink prints once it has read everything
    elapsed = time.perf_counter() - t0
    assert int(n) == nbytes, (n, nbytes)
    return mbps(nbytes, elapsed)


def answer_requests(host: Any) -> Any:
    """Listen on PORT: read each connection's 100-byte request, answer 100 bytes, close."""

    def on_accept(handle: Any) -> None:
        def on_event(h: Any, _: object) -> None:
            if h.conn.readable >= 100 and not getattr(h, "answered", False):
                h.recv(100)
                h.answered = True
                h.send(b"r" * 100)
                h.close()

        handle.on_event = on_event

    return host.listen(PORT, 4096, on_accept=on_accept)


def connections(
    ns: Netns, st: TunStack, total: int, batch: int, concurrency: int = 1
) -> list[float]:
    """Rates (connections/s) of each batch, kernel client to a synack server, with
    ``concurrency`` connections under way at a time (1: one after the other)."""
    rates: list[float] = []
    lst = answer_requests(st.host)
    proc = kernel(ns, CLIENTS, ns.synack_ip, PORT, total, batch, concurrency)
    assert proc.stdout is not None
    out = proc.stdout
    done = [0]
    eof = [False]

    def on_line() -> None:
        line = out.readline()
        if line:
            upto, secs = line.split()
            rates.append((int(upto) - done[0]) / float(secs))
            done[0] = int(upto)
        else:
            eof[0] = True  # the client exited (a crash shows here too)

    # The pipe's EOF says the client ended: no waitpid() on every turn of the loop,
    # which would cost synack's side a system call per wakeup.
    st.loop.add_reader(out.fileno(), on_line)
    st.loop.run_until(lambda: done[0] >= total or eof[0], 3600)
    st.loop.remove_reader(out.fileno())
    proc.wait(60)
    lst.close()
    return rates


def connections_run(
    args: argparse.Namespace, concurrency: int, workers: int, prof: cProfile.Profile | None
) -> tuple[list[float], float]:
    """One conn/s run in a namespace of its own: the rates of its batches and synack's
    CPU seconds per connection, over every worker process.  With ``workers`` > 1 the
    TUN interface has that many queues and each child process serves its own
    (:mod:`synack.link.workers`); the parent serves queue 0 and runs the client."""
    with Netns("sa-bench-conn", queues=workers) as ns:
        pool = Workers(ns) if workers > 1 else None
        if pool is not None and pool.fork():
            try:
                with TunStack(ns) as st:
                    answer_requests(st.host)
                    st.loop.run_until(lambda: False, 3600)  # until the parent's SIGTERM
            finally:
                pool.exit_child(1)
        cpu = time.process_time()
        with TunStack(ns) as st:
            if prof is not None:
                prof.enable()
            rates = connections(ns, st, args.conns, args.batch, concurrency)
            if prof is not None:
                prof.disable()
        cpu = time.process_time() - cpu
        if pool is not None:
            # The client has been waited for already, so what the children's usage
            # gains now is the workers'.
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            pool.stop()
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu += (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return rates, cpu / max(args.conns, 1)


# --- the run -------------------------------------------------------------------------------


def measure(
    label: str, fn: Callable[[], float], profile: cProfile.Profile | None, repeat: int = 1
) -> float:
    """Run ``fn`` ``repeat`` times; print each value and return the median (a noisy
    machine moves single runs by tens of percent)."""
    values = []
    for _ in range(max(repeat, 1)):
        if profile is not None:
            profile.enable()
        try:
            values.append(fn())
        finally:
            if profile is not None:
                profile.disable()
    value = statistics.median(values)
    runs = "" if len(values) == 1 else "   (runs: " + " ".join(f"{v:.0f}" for v in values) + ")"
    print(f"  {label:<34} {value:10.2f}{runs}", flush=True)
    return value


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bytes", type=float, default=10e6, help="bytes per bulk run (10e6)")
    p.add_argument("--mtus", default="1500,65000")
    p.add_argument("--conns", type=int, default=2000, help="connections (issue: 100000)")
    p.add_argument("--batch", type=int, default=500)
    p.add_argument(
        "--concurrency",
        default="1,16,64",
        help="connections under way at a time in the kernel client, comma-separated runs",
    )
    p.add_argument(
        "--workers",
        default="1,2",
        help="synack processes for conn/s, one per TUN queue, comma-separated runs",
    )
    p.add_argument("--repeat", type=int, default=1, help="bulk runs per figure (median)")
    p.add_argument("--profile", action="store_true", help="profile synack's side")
    p.add_argument(
        "--offload",
        choices=("on", "off", "both"),
        default="both",
        help="TUN checksum/TCP segmentation offload for the bulk runs (default: both)",
    )
    add_heap_option(p)
    args = p.parse_args(argv)
    print(apply_heap_option(args.heap))
    offloads = {"on": (True,), "off": (False,), "both": (True, False)}[args.offload]
    nbytes = int(args.bytes)
    prof = cProfile.Profile() if args.profile else None
    mtus = [int(m) for m in args.mtus.split(",") if m]
    for mtu, offload in itertools.product(mtus, offloads):
        how = (
            "offload (TSO/GSO packets; partial checksums: pseudo-header sums checked)"
            if offload
            else "no offload (one wire packet per read/write, every checksum summed; GRO)"
        )
        print(f"bulk, {nbytes / 1e6:.0f} MB, MTU {mtu}, {how} (MB/s)")
        with Netns(f"sa-bench-{mtu}", mtu=mtu, offload=offload) as ns, TunStack(ns) as st:
            r = args.repeat
            kernel = partial(loopback, ns, nbytes, mtu)
            base = measure("kernel -> kernel (loopback)", kernel, None, r)
            k2s = measure("kernel -> synack", partial(kernel_to_synack, ns, st, nbytes), prof, r)
            s2k = measure("synack -> kernel", partial(synack_to_kernel, ns, st, nbytes), prof, r)
        print(f"  ratio synack/kernel: in {k2s / base:.4f}, out {s2k / base:.4f}")
    runs = itertools.product(
        (int(w) for w in args.workers.split(",") if w),
        (int(c) for c in args.concurrency.split(",") if c and args.conns),
    )
    for workers, conc in runs:
        print(
            f"connections/s, kernel client -> synack server, {args.conns} in batches of"
            f" {args.batch}, {conc} at a time, {workers} synack process(es)"
        )
        rates, cpu = connections_run(args, conc, workers, prof)
        print("  per batch: " + " ".join(f"{r:.0f}" for r in rates))
        if rates:
            mean = args.conns / sum(args.batch / r for r in rates)
            print(
                f"  first {rates[0]:.0f}/s, last {rates[-1]:.0f}/s, overall {mean:.0f}/s;"
                f" synack CPU {cpu * 1e6:.0f} us per connection"
            )
    if prof is not None:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(20)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
