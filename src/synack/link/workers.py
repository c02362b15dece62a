"""Worker processes, one per queue of a multi-queue TUN interface.

One Python process runs one core.  A real server uses more by running one process (or
thread) per CPU, each with its own share of the connections: ``SO_REUSEPORT`` listeners
in the kernel, receive-side scaling on a network card.  A multi-queue TUN interface
(``IFF_MULTI_QUEUE``, :class:`synack.link.netns.Netns` with ``queues=N``) is the same
thing for synack: the kernel sends every packet of a flow to one queue, chosen by the
flow's symmetric hash (``tun_automq_select_queue`` in drivers/net/tun.c), and learns the
queue a flow's replies come from.  :class:`Workers` forks one process per queue; each
keeps only its own queue's descriptor and runs a host of its own, with the same address,
listening on the same ports.  Nothing is shared between them but the interface.

What this serves: connections the kernel opens (a server).  A connection synack opens
would be steered by what the kernel learned from its first packets, and back to the hash
once that entry ages out (3 s idle), possibly to another worker, so the workers are for
``synack serve``, not for ``connect``.

    ns = Netns("demo", queues=2).up()
    workers = Workers(ns)
    index = workers.fork()          # 0 in the parent, 1.. in the children
    ...                             # a host on ns.tun, this process's queue
    if index:
        workers.exit_child(0)       # never returns: the parent owns the namespace
    codes = workers.stop()          # the parent: SIGTERM the rest, wait for them

:class:`SharedCounts` (``workers.counts``) gives the workers one integer each that all of
them can read (a shared anonymous mapping made before the fork), for a total such as
"connections served".
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import mmap
import multiprocessing
import os
import signal
import struct
import sys
import time
from typing import NoReturn

from synack.link.netns import Netns, NetnsError

__all__ = ["SharedCounts", "Workers"]

_SLOT = struct.Struct("=q")


class SharedCounts:
    """One 64-bit count per worker, in memory shared by processes forked after it is
    made.  Each worker writes only its own slot (an aligned 8-byte store), so no lock."""

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError(f"slots must be at least 1, got {slots}")
        self.slots = slots
        # An anonymous mapping is MAP_SHARED by default: the children see the same pages.
        self._mem = mmap.mmap(-1, _SLOT.size * slots)

    def add(self, slot: int, n: int = 1) -> int:
        """Add ``n`` to ``slot``; the total over every slot after it."""
        offset = _SLOT.size * slot
        _SLOT.pack_into(self._mem, offset, _SLOT.unpack_from(self._mem, offset)[0] + n)
        return self.total()

    def get(self, slot: int) -> int:
        return int(_SLOT.unpack_from(self._mem, _SLOT.size * slot)[0])

    def total(self) -> int:
        return sum(self.get(i) for i in range(self.slots))


class Workers:
    """One process per queue of ``ns`` (made with ``queues=N`` and up or attached)."""

    def __init__(self, ns: Netns) -> None:
        if not ns.queue_devices:
            raise NetnsError(f"namespace {ns.name!r} has no open queues (call up() or attach())")
        self.ns = ns
        self.count = len(ns.queue_devices)
        #: This process's worker number: 0 is the parent, which owns the namespace.
        self.index = 0
        self.children: list[int] = []
        #: One count per worker, shared (e.g. connections served, for ``--count``).
        self.counts = SharedCounts(self.count)
        #: A lock shared by the workers, e.g. to print a report whole.
        self.lock = multiprocessing.Lock()
        #: Set when a signal to the whole process group (Ctrl-C) stops the service.
        self.signalled = False

    @property
    def is_parent(self) -> bool:
        return self.index == 0

    def fork(self) -> int:
        """Fork a process for each queue after the first; in every process, keep only its
        own queue's descriptor (it becomes ``ns.tun``).  Returns this process's index.

        Call it before any thread or event loop is started: a forked child has only the
        thread that forked.
        """
        if self.children or self.index:
            raise RuntimeError("workers already forked")
        for i in range(1, self.count):
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                self.index = i
                self.children = []
                _end_with_parent()
                break
            self.children.append(pid)
        self.ns.keep_queue(self.index)
        return self.index

    def exited(self) -> bool:
        """In the parent: whether a child has exited (without reaping it).  SIGCHLD
        also comes when a child is only stopped or continued; this tells them apart."""
        for pid in self.children:
            try:
                info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return True
            if info is not None:
                return True
        return False

    def exit_child(self, code: int) -> NoReturn:
        """End a child worker with ``code``, without the parent's clean-ups (the parent
        deletes the namespace, closes the files it opened, runs its atexit handlers)."""
        if self.is_parent:
            raise RuntimeError("exit_child() is for a child worker")
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)

    def stop(self, timeout: float = 10.0, grace: float = 0.0) -> list[int]:
        """In the parent: give the children ``grace`` seconds to end by themselves (a
        signal to the process group reached them too), ask those still running to end
        (SIGTERM), wait up to ``timeout`` seconds for them, then kill what is left.
        Their exit codes (a negative number for a signal, as subprocess reports it)."""
        if not self.is_parent:
            raise RuntimeError("stop() is for the parent")
        codes = []
        end_of_grace = time.monotonic() + grace
        while grace and time.monotonic() < end_of_grace and not self._all_exited():
            time.sleep(0.01)
        for pid in self.children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for pid in self.children:
            status = self._wait(pid, deadline)
            codes.append(os.waitstatus_to_exitcode(status))
        self.children = []
        return codes

    def _all_exited(self) -> bool:
        for pid in self.children:
            with contextlib.suppress(ChildProcessError):
                if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
                    return False
        return True

    @staticmethod
    def _wait(pid: int, deadline: float) -> int:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status
            if time.monotonic() >= deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                return os.waitpid(pid, 0)[1]
            time.sleep(0.01)


_PR_SET_PDEATHSIG = 1


def _end_with_parent() -> None:
    """Have the kernel send this (child) process SIGTERM when its parent dies, so that a
    parent killed outright leaves no worker serving on (prctl PR_SET_PDEATHSIG)."""
    with contextlib.suppress(OSError, AttributeError, TypeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
