"""Worker processes on a multi-queue TUN interface (synack.link.workers): the kernel
spreads its connections over the queues, and every one is served by the process that
owns its queue."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from interop_support import Peer, needs_netns, recv_all, unique_name
from synack.api.tun import TunStack
from synack.link.netns import Netns, NetnsError
from synack.link.workers import SharedCounts, Workers


def test_shared_counts_are_seen_across_a_fork() -> None:
    counts = SharedCounts(3)
    pid = os.fork()
    if pid == 0:
        counts.add(2, 5)
        counts.add(2)
        os._exit(0)
    os.waitpid(pid, 0)
    assert counts.get(2) == 6
    assert counts.add(0, 4) == 10
    assert [counts.get(i) for i in range(3)] == [4, 0, 6]


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        SharedCounts(0)
    with pytest.raises(NetnsError, match="queues"):
        Netns("x", queues=0)
    with pytest.raises(NetnsError, match="no open queues"):
        Workers(Netns("x", queues=2))


WORKERS_30 = ("--workers", "2", "--count", "30")


def _kernel_clients(ns: Netns, count: int) -> list[bytes]:
    """``count`` connections from the kernel, one after the other, each echoed back."""
    got = []
    for i in range(count):
        k = ns.socket()
        k.settimeout(10)
        k.connect((ns.synack_ip, 7))
        k.sendall(b"request %d" % i)
        k.shutdown(socket.SHUT_WR)
        got.append(recv_all(k))
        k.close()
    return got


@needs_netns
def test_two_workers_share_the_kernels_connections_and_answer_each_on_its_own() -> None:
    count = 40
    with Netns(unique_name(), queues=2) as ns:
        assert len(ns.queue_devices) == 2
        workers = Workers(ns)
        index = workers.fork()
        code = 1
        stack: TunStack | None = None
        try:
            stack = TunStack(ns)  # each process: a host of its own on its own queue
            served = [0]

            def on_accept(handle: Any) -> None:
                got = bytearray()

                def on_event(h: Any, _: object) -> None:
                    got.extend(h.recv(1000))
                    if h.conn.at_eof and not getattr(h, "answered", False):
                        h.answered = True
                        h.send(bytes(got))
                        h.close()
                        served[0] += 1
                        workers.counts.add(workers.index)

                handle.on_event = on_event

            stack.host.listen(7, 64, on_accept=on_accept)
            if index:
                stack.loop.run_until(lambda: False, 60)  # until the parent's SIGTERM
                code = 0
            else:
                peer = Peer(lambda: _kernel_clients(ns, count))
                answers = peer.result(stack, timeout=60)
                assert answers == [b"request %d" % i for i in range(count)]
                stack.loop.run_until(lambda: workers.counts.total() >= count, 10)
                code = 0
        finally:
            if stack is not None:
                stack.close()
            if index:  # a child never leaves this block: the namespace is the parent's
                workers.exit_child(code)
        codes = workers.stop()
        assert codes == [-15]  # the child ran until told to stop
        per_worker = [workers.counts.get(i) for i in range(2)]
        assert sum(per_worker) == count
        # The kernel spread the flows by their hash: both queues got some (all 40 on one
        # queue has a probability of 2**-39).
        assert min(per_worker) > 0, per_worker
        assert served[0] == per_worker[0]


@needs_netns
def test_serve_with_two_workers_counts_connections_over_both(tmp_path: Path) -> None:
    name = unique_name()
    pcap = tmp_path / "trace.pcap"
    argv = [sys.executable, "-m", "synack.cli", "serve", "echo", "--netns", name]
    proc = subprocess.Popen(
        [*argv, *WORKERS_30, "--pcap", str(pcap)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("synack echo"):
                assert "2 worker processes" in line
                break
        ns = Netns(name)
        answers = _kernel_clients(ns, 30)
        assert answers == [b"request %d" % i for i in range(30)]
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    lines = out.splitlines()
    opens = [int(line.split()[-1]) for line in lines if line.startswith("TcpPassiveOpens")]
    assert "-- worker 0 of 2 --" in out and "-- worker 1 of 2 --" in out
    assert len(opens) == 2 and sum(opens) == 30 and min(opens) > 0, opens
    assert not os.path.exists(f"/run/netns/{name}")  # the namespace made for the run is gone
    # Each worker wrote its own pcap: trace.pcap and trace.1.pcap, with its share.
    sizes = [(tmp_path / f).stat().st_size for f in ("trace.pcap", "trace.1.pcap")]
    assert all(size > 24 for size in sizes), sizes  # more than the pcap file header


@needs_netns
def test_one_process_serves_on_a_namespace_made_with_several_queues() -> None:
    name = unique_name()
    up = subprocess.run([sys.executable, "-m", "synack.cli", "netns", "up", name, "--queues", "2"])
    assert up.returncode == 0
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "synack.cli", "serve", "echo", "--netns", name, "--count", "2"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line.startswith("synack echo"), line
            assert _kernel_clients(Netns(name), 2) == [b"request 0", b"request 1"]
            _, err = proc.communicate(timeout=30)
        finally:
            proc.kill()
        assert proc.returncode == 0, err
    finally:
        subprocess.run([sys.executable, "-m", "synack.cli", "netns", "down", name])


@needs_netns
def test_a_worker_that_fails_at_start_stops_the_service(tmp_path: Path) -> None:
    (tmp_path / "trace.1.pcap").mkdir()  # worker 1 cannot open its pcap file
    argv = [sys.executable, "-m", "synack.cli", "serve", "echo", "--netns", unique_name()]
    proc = subprocess.run(
        [*argv, "--workers", "2", "--pcap", str(tmp_path / "trace.pcap")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "IsADirectoryError" in proc.stderr and "workers ended with [1]" in proc.stderr
