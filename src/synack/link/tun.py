"""A Linux TUN device: raw IPv4 packets in and out of the kernel, through a file descriptor.

:class:`TunDevice` opens ``/dev/net/tun`` and attaches it to a layer-3 interface with
``ioctl(TUNSETIFF)`` and the flags ``IFF_TUN | IFF_NO_PI`` (see the kernel's
Documentation/networking/tuntap.rst): every ``read`` returns one packet the kernel routed
to the interface, every ``write`` injects one packet as if it had arrived on it.  There
is no packet-information prefix, so the bytes are the IP packet itself.  The descriptor
is non-blocking: :meth:`TunDevice.read` returns None when nothing is queued, and callers
wait for readability with a selector (see :mod:`synack.link.realtime`).

The interface is created in the network namespace of the thread that opens the device;
:func:`synack.link.netns.open_tun_in` opens it inside a namespace.
"""

from __future__ import annotations

import errno
import fcntl
import os
import struct

from synack.link.vnet import HEADER_LEN, IFF_VNET_HDR, OFFLOADS, TUNSETOFFLOAD

__all__ = ["IFF_MULTI_QUEUE", "IFF_NO_PI", "IFF_TUN", "TUN_PATH", "TunDevice", "TunError"]

TUN_PATH = "/dev/net/tun"
# linux/if_tun.h: _IOW('T', 202, int) and _IOW('T', 203, int).
TUNSETIFF = 0x400454CA
TUNSETPERSIST = 0x400454CB
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
#: One queue of a multi-queue interface (linux/if_tun.h): each descriptor opened with it
#: is a queue of its own, and the kernel spreads flows over the queues by their hash.
IFF_MULTI_QUEUE = 0x0100
IFNAMSIZ = 16
_IFREQ = struct.Struct(f"{IFNAMSIZ}sH22x")  # struct ifreq: name, flags, union padding
#: The largest IPv4 packet (RFC 791 total length is 16 bits).
MAX_PACKET = 65535


class TunError(OSError):
    """The TUN device could not be opened or configured (``errno`` says why)."""


class TunDevice:
    """One open TUN interface.  Use :meth:`open`; close with :meth:`close` or ``with``."""

    def __init__(self, fd: int, name: str, *, offload: bool = False) -> None:
        self._fd = fd
        self.name = name
        #: Frames carry a virtio-net header (:mod:`synack.link.vnet`): the device was
        #: opened with IFF_VNET_HDR and checksum and TCP segmentation offload.
        self.offload = offload
        self._read_size = MAX_PACKET + (HEADER_LEN if offload else 0)
        self.packets_in = 0
        self.packets_out = 0
        self.write_errors = 0

    @classmethod
    def open(
        cls,
        name: str = "synack%d",
        *,
        persist: bool = False,
        offload: bool = False,
        multi_queue: bool = False,
    ) -> TunDevice:
        """Open (or create) the TUN interface ``name`` in the calling thread's namespace.

        ``%d`` in the name lets the kernel pick a free number.  An existing persistent
        interface of that name is attached to.  With ``persist``, the interface outlives
        the descriptor (``TUNSETPERSIST``) until it is deleted with ``ip link del``.
        With ``offload``, frames carry a virtio-net header and the kernel may send and
        take TSO packets of up to 64 KB with partial checksums (:mod:`synack.link.vnet`).
        With ``multi_queue`` (``IFF_MULTI_QUEUE``), the descriptor is one queue of the
        interface; opening the name again adds a queue.  The kernel sends each flow to
        one queue, chosen by the flow's symmetric hash (``tun_automq_select_queue``), so
        one process per queue can serve its own share of the connections.
        """
        if len(name.encode()) >= IFNAMSIZ:
            raise TunError(errno.EINVAL, f"interface name too long (max 15 bytes): {name!r}")
        try:
            fd = os.open(TUN_PATH, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError:
            raise TunError(
                errno.ENOENT,
                f"{TUN_PATH} is missing: load the tun module (modprobe tun) or give the "
                "container the device (--device /dev/net/tun)",
            ) from None
        except PermissionError:
            raise TunError(
                errno.EACCES, f"{TUN_PATH}: permission denied (needs root or CAP_NET_ADMIN)"
            ) from None
        try:
            flags = IFF_TUN | IFF_NO_PI | (IFF_VNET_HDR if offload else 0)
            flags |= IFF_MULTI_QUEUE if multi_queue else 0
            answer = fcntl.ioctl(fd, TUNSETIFF, _IFREQ.pack(name.encode(), flags))
            if offload:
                fcntl.ioctl(fd, TUNSETOFFLOAD, OFFLOADS)
            if persist:
                fcntl.ioctl(fd, TUNSETPERSIST, 1)
        except OSError as e:
            os.close(fd)
            hint = " (needs root or CAP_NET_ADMIN)" if e.errno == errno.EPERM else ""
            if e.errno == errno.EINVAL and multi_queue:
                hint = " (was the interface made with one queue? `synack netns up --queues N`)"
            raise TunError(
                e.errno or errno.EIO, f"TUNSETIFF {name!r}: {e.strerror}{hint}"
            ) from None
        real_name = _IFREQ.unpack(answer)[0].rstrip(b"\0").decode()
        return cls(fd, real_name, offload=offload)

    def fileno(self) -> int:
        if self._fd < 0:
            raise ValueError("TUN device is closed")
        return self._fd

    @property
    def closed(self) -> bool:
        return self._fd < 0

    def read(self) -> bytes | None:
        """One packet, or None when none is queued (the descriptor is non-blocking)."""
        try:
            data = os.read(self._fd, self._read_size)
        except BlockingIOError:
            return None
        self.packets_in += 1
        return data

    def read_batch(self, limit: int = 64) -> list[bytes]:
        """Up to ``limit`` queued packets (fewer system-call round trips per wakeup)."""
        out: list[bytes] = []
        read = os.read
        fd = self._fd
        size = self._read_size
        while len(out) < limit:
            try:
                out.append(read(fd, size))
            except BlockingIOError:
                break
        self.packets_in += len(out)
        return out

    def write(self, packet: bytes) -> bool:
        """Inject one packet into the kernel.  False (and counted) if it refused it."""
        return self.write_parts([packet])

    def write_parts(self, parts: list[bytes | memoryview]) -> bool:
        """Inject one packet given in pieces (a virtio-net header and the packet): one
        ``writev``, so the pieces are not joined into another copy first."""
        try:
            os.writev(self._fd, parts)
        except OSError:
            # EINVAL for a malformed packet, EIO when the interface is down, ENOBUFS...
            self.write_errors += 1
            return False
        self.packets_out += 1
        return True

    def set_persist(self, persist: bool) -> None:
        fcntl.ioctl(self._fd, TUNSETPERSIST, 1 if persist else 0)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> TunDevice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<TunDevice {self.name} fd={self._fd}>"
