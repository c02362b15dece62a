"""Helpers for the tests that run synack against the Linux kernel on a TUN device.

Every test gets its own network namespace (unique name, deleted afterwards); the kernel
side is 192.0.2.1 and synack 192.0.2.2, only inside it.  Kernel peers run in threads
with ordinary Python sockets made inside the namespace; synack runs in the test's
thread, and its blocking calls drive its real-time loop.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from synack.api.tun import TunStack
from synack.link.netns import Netns, NetnsError, check_environment

_names = itertools.count()


def _probe() -> str | None:
    """Why TUN interop cannot run here, or None if it can."""
    try:
        check_environment()
    except NetnsError as e:
        return str(e)
    name = f"sa-probe-{os.getpid()}"
    proc = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if proc.returncode != 0:
        return f"cannot create network namespaces: {proc.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", name], capture_output=True)
    return None


_REASON = _probe()
needs_netns = pytest.mark.skipif(_REASON is not None, reason=f"no TUN/netns: {_REASON}")


def unique_name() -> str:
    return f"sa-{os.getpid()}-{next(_names)}"


@pytest.fixture(name="ns")
def ns_fixture(request: pytest.FixtureRequest) -> Iterator[Netns]:
    """A fresh namespace with a TUN device (import ``ns_fixture`` to use ``ns``).
    Parametrize indirectly with an MTU, or with (MTU, offload)."""
    param = getattr(request, "param", 1500)
    mtu, offload = param if isinstance(param, tuple) else (param, True)
    with Netns(unique_name(), mtu=mtu, offload=offload) as n:
        yield n


def needs_tool(name: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(shutil.which(name) is None, reason=f"{name} is not installed")


class Peer:
    """A function running in a thread (the kernel's side of a test)."""

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self._result: list[Any] = []
        self._error: list[BaseException] = []
        self._finished = False
        self._wake: Callable[[], None] | None = None
        self._thread = threading.Thread(target=self._body, args=(fn, args), daemon=True)
        self._thread.start()

    def _body(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            self._result.append(fn(*args))
        except BaseException as e:
            self._error.append(e)
        self._finished = True
        wake = self._wake  # read after _finished is set: see result()
        if wake is not None:
            wake()

    def done(self) -> bool:
        return self._finished

    def result(self, stack: TunStack, timeout: float = 30.0) -> Any:
        """Drive synack until the thread finishes; its result (or its exception)."""
        self._wake = lambda: stack.loop.call_soon_threadsafe(lambda: None)
        if not stack.loop.run_until(self.done, timeout):
            raise TimeoutError(f"kernel peer still running after {timeout} s")
        if self._error:
            raise self._error[0]
        return self._result[0]


def recv_all(sock: Any, bufsize: int = 1 << 16) -> bytes:
    """Read until end of stream (kernel or synack socket)."""
    chunks = []
    while data := sock.recv(bufsize):
        chunks.append(data)
    return b"".join(chunks)
