"""Network namespaces with a TUN device: a private little network for synack and the kernel.

:class:`Netns` creates a namespace (``ip netns add``), opens a TUN interface inside it,
gives the kernel's side of the interface one address (``192.0.2.1/24`` by default, RFC
5737 TEST-NET-1, the documentation range) and leaves the other (``192.0.2.2``) for
synack, which answers for it on the TUN descriptor.  Both addresses exist only inside
the namespace: nothing is routed to or from the machine's real network.  ``with
Netns(...) as ns:`` tears everything down again; so does :meth:`Netns.down`.

Programs reach the kernel side from inside the namespace: ``ns.run([...])`` runs a
command there (``ip netns exec``), :meth:`Netns.socket` makes a kernel socket there, and
:func:`run_in_netns` runs any Python function in a thread that has entered it
(``setns(2)`` affects only the calling thread, so the rest of the process stays where
it was; a socket or TUN descriptor keeps its namespace after the thread exits).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import json
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from synack.errors import SynackError
from synack.link.tun import TUN_PATH, TunDevice, TunError

__all__ = [
    "DEFAULT_DEVICE",
    "DEFAULT_KERNEL_IP",
    "DEFAULT_SYNACK_IP",
    "Netns",
    "NetnsError",
    "check_environment",
    "netns_exists",
    "open_tun_in",
    "run_in_netns",
    "socket_in",
]

T = TypeVar("T")

NETNS_DIR = "/run/netns"
CLONE_NEWNET = 0x40000000
DEFAULT_KERNEL_IP = "192.0.2.1"
DEFAULT_SYNACK_IP = "192.0.2.2"
DEFAULT_PREFIX = 24
DEFAULT_DEVICE = "synack0"
#: The most queues a TUN interface takes (the kernel's MAX_TAP_QUEUES, drivers/net/tun.c).
MAX_QUEUES = 256


class NetnsError(SynackError):
    """A namespace could not be created, entered or removed; the message says why."""


def check_environment() -> None:
    """Raise :class:`NetnsError` saying what is missing to run synack on a TUN device."""
    if os.geteuid() != 0:
        raise NetnsError(
            "network namespaces and TUN devices need root (CAP_NET_ADMIN and CAP_SYS_ADMIN); "
            "run as root, e.g. with sudo"
        )
    if not os.path.exists(TUN_PATH):
        raise NetnsError(
            f"{TUN_PATH} is missing: load the tun module (modprobe tun) or give the "
            "container the device (--device /dev/net/tun)"
        )
    if shutil.which("ip") is None:
        raise NetnsError("the `ip` command (iproute2) is not installed")


def netns_exists(name: str) -> bool:
    return os.path.exists(os.path.join(NETNS_DIR, name))


def _ip(*args: str) -> None:
    """Run ``ip ARGS``; a failure becomes a NetnsError with ip's own message."""
    proc = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise NetnsError(f"`ip {' '.join(args)}` failed: {proc.stderr.strip()}")


_libc: Any = None


def _setns(fd: int) -> None:
    global _libc
    setns = getattr(os, "setns", None)  # Python 3.12+
    if setns is not None:
        setns(fd, CLONE_NEWNET)
        return
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


def run_in_netns(name: str, fn: Callable[..., T], *args: Any) -> T:
    """Call ``fn(*args)`` in a fresh thread that has entered namespace ``name``.

    The calling thread's namespace does not change.  Exceptions propagate.
    """
    path = os.path.join(NETNS_DIR, name)
    result: list[T] = []
    error: list[BaseException] = []

    def body() -> None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                _setns(fd)
            finally:
                os.close(fd)
            result.append(fn(*args))
        except BaseException as e:  # handed to the caller
            error.append(e)

    t = threading.Thread(target=body, name=f"netns-{name}")
    t.start()
    t.join()
    if error:
        raise error[0]
    return result[0]


def socket_in(
    name: str, family: int = socket.AF_INET, type: int = socket.SOCK_STREAM, proto: int = 0
) -> socket.socket:
    """A kernel socket that lives in namespace ``name`` (usable from any thread)."""
    return run_in_netns(name, socket.socket, family, type, proto)


def open_tun_in(
    name: str,
    device: str,
    *,
    persist: bool = False,
    offload: bool = False,
    multi_queue: bool = False,
) -> TunDevice:
    """Open (or attach to) the TUN interface ``device`` inside namespace ``name``."""
    return run_in_netns(
        name,
        lambda: TunDevice.open(device, persist=persist, offload=offload, multi_queue=multi_queue),
    )


def _write_sysctl(path: str, value: str) -> None:
    try:
        with open(path, "w") as f:
            f.write(value)
    except FileNotFoundError:
        pass  # a kernel without IPv6 has nothing to switch off


class Netns:
    """A namespace holding one TUN interface shared by the kernel and synack.

    ``Netns("t1").up()`` (or ``with Netns("t1") as ns``) creates it; :attr:`tun` is the
    open device to hand to :class:`synack.link.tunlink.TunLink`.  With ``persist=True``
    the interface survives the descriptor, so that another process (``synack serve``)
    can attach to it later by name: that is what ``synack netns up`` makes.
    """

    def __init__(
        self,
        name: str,
        *,
        device: str = DEFAULT_DEVICE,
        kernel_ip: str = DEFAULT_KERNEL_IP,
        synack_ip: str = DEFAULT_SYNACK_IP,
        prefix: int = DEFAULT_PREFIX,
        mtu: int = 1500,
        offload: bool = True,
        queues: int = 1,
    ) -> None:
        if not 68 <= mtu <= 65535:
            raise NetnsError(f"MTU must be within 68..65535, got {mtu}")
        if not 1 <= queues <= MAX_QUEUES:
            raise NetnsError(f"queues must be within 1..{MAX_QUEUES}, got {queues}")
        self.name = name
        self.device = device
        self.kernel_ip = kernel_ip
        self.synack_ip = synack_ip
        self.prefix = prefix
        self.mtu = mtu
        #: Open the device with checksum and TCP segmentation offload (synack.link.vnet).
        self.offload = offload
        #: Queues of the interface: with more than one it is a multi-queue interface
        #: (``IFF_MULTI_QUEUE``), and :attr:`queue_devices` holds one descriptor per queue
        #: (:mod:`synack.link.workers` gives each to a process of its own).
        self.queues = queues
        self.tun: TunDevice | None = None
        self.queue_devices: list[TunDevice] = []
        self._created = False

    # --- life cycle -------------------------------------------------------------------

    def up(self, *, persist: bool = False, keep_open: bool = True) -> Netns:
        """Create the namespace and the configured TUN interface.

        Raises :class:`NetnsError` when not root, when /dev/net/tun is missing, or when
        a namespace of this name already exists.
        """
        check_environment()
        if netns_exists(self.name):
            raise NetnsError(
                f"network namespace {self.name!r} already exists: remove it with "
                f"`synack netns down {self.name}` (or `ip netns del {self.name}`)"
            )
        _ip("netns", "add", self.name)
        self._created = True
        try:
            self.tun = self._open_queues(persist=persist)
            self._configure()
        except BaseException:
            self.down()
            raise
        if not keep_open:
            self._close_queues()
        return self

    def _open_queues(self, *, persist: bool = False, existing: bool = False) -> TunDevice:
        multi = self.queues > 1
        try:
            first = open_tun_in(
                self.name, self.device, persist=persist, offload=self.offload, multi_queue=multi
            )
        except TunError as e:
            # An existing interface made with several queues (`synack netns up --queues
            # N`) takes one descriptor as well, opened as a queue of it.
            if not (existing and not multi and e.errno == errno.EINVAL):
                raise
            first = open_tun_in(self.name, self.device, offload=self.offload, multi_queue=True)
        self.device = first.name
        self.queue_devices = [first]
        for _ in range(1, self.queues):
            self.queue_devices.append(
                open_tun_in(self.name, self.device, offload=self.offload, multi_queue=True)
            )
        return first

    def _close_queues(self) -> None:
        for dev in self.queue_devices:
            dev.close()
        if self.tun is not None:
            self.tun.close()
        self.queue_devices = []
        self.tun = None

    def keep_queue(self, index: int) -> TunDevice:
        """Close every queue's descriptor but ``index``'s, which becomes :attr:`tun` (in
        a worker process: each keeps its own queue)."""
        keep = self.queue_devices[index]
        for i, dev in enumerate(self.queue_devices):
            if i != index:
                dev.close()
        self.queue_devices = [keep]
        self.tun = keep
        return keep

    def _configure(self) -> None:
        n, dev = self.name, self.device
        # No IPv6 on the interface: the kernel would otherwise send router solicitations
        # and MLD reports that synack (IPv4 only) can only drop.
        run_in_netns(n, _write_sysctl, f"/proc/sys/net/ipv6/conf/{dev}/disable_ipv6", "1")
        _ip("-n", n, "link", "set", "lo", "up")
        _ip("-n", n, "link", "set", dev, "mtu", str(self.mtu))
        _ip("-n", n, "addr", "add", f"{self.kernel_ip}/{self.prefix}", "dev", dev)
        _ip("-n", n, "link", "set", dev, "up")

    def attach(self) -> TunDevice:
        """Open the (persistent) interface of an existing namespace by name."""
        check_environment()
        if not netns_exists(self.name):
            raise NetnsError(
                f"no network namespace {self.name!r}: create it with `synack netns up {self.name}`"
            )
        self.tun = self._open_queues(existing=True)
        return self.tun

    def read_config(self) -> None:
        """Take the MTU and the kernel's address from the existing interface."""
        proc = subprocess.run(
            ["ip", "-n", self.name, "-j", "addr", "show", "dev", self.device],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise NetnsError(
                f"namespace {self.name!r} has no interface {self.device!r}: {proc.stderr.strip()}"
            )
        info = json.loads(proc.stdout)[0]
        self.mtu = int(info["mtu"])
        for a in info.get("addr_info", []):
            if a.get("family") == "inet":
                self.kernel_ip, self.prefix = a["local"], int(a["prefixlen"])

    def down(self) -> None:
        """Close the device and delete the interface and the namespace (idempotent)."""
        self._close_queues()
        if netns_exists(self.name):
            # A persistent interface would otherwise outlive its last descriptor.
            subprocess.run(
                ["ip", "-n", self.name, "link", "del", self.device],
                capture_output=True,
                check=False,
            )
            _ip("netns", "del", self.name)
        self._created = False

    def __enter__(self) -> Netns:
        if self.tun is None:
            self.up()
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()

    # --- the kernel's side --------------------------------------------------------------

    def run(
        self, argv: Sequence[str], *, timeout: float | None = 60, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run a command inside the namespace; its output is captured as text."""
        return subprocess.run(
            ["ip", "netns", "exec", self.name, *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=check,
        )

    def popen(self, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        """Start a command inside the namespace (arguments as for subprocess.Popen)."""
        return subprocess.Popen(["ip", "netns", "exec", self.name, *argv], **kwargs)

    def socket(self, type: int = socket.SOCK_STREAM, proto: int = 0) -> socket.socket:
        """A kernel IPv4 socket inside the namespace."""
        return socket_in(self.name, socket.AF_INET, type, proto)

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a thread inside the namespace."""
        return run_in_netns(self.name, fn, *args)

    def __repr__(self) -> str:
        return (
            f"<Netns {self.name} dev {self.device} kernel {self.kernel_ip} "
            f"synack {self.synack_ip}/{self.prefix} mtu {self.mtu}>"
        )
