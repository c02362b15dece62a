"""Classic libpcap files of raw IPv4 packets, for Wireshark, tcpdump and scapy.

The file is written little-endian with magic ``0xa1b2c3d4`` (microsecond timestamps),
version 2.4, snaplen 262144 and link type ``LINKTYPE_RAW`` (101): each record is a bare
IPv4 packet, no Ethernet header.  Timestamps are the event time rounded to the nearest
microsecond (ties to even), so identical events give byte-identical files.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable
from typing import BinaryIO

from synack.trace.events import PacketEvent, PacketKind, TraceEvent

MAGIC = 0xA1B2C3D4
MAGIC_NSEC = 0xA1B23C4D
VERSION = (2, 4)
SNAPLEN = 262144
LINKTYPE_RAW = 101

_GLOBAL = struct.Struct("<IHHiIII")
_RECORD = struct.Struct("<IIII")


class PcapWriter:
    """Writes packets to a pcap file (a path, or a binary file opened for writing).

    A file given by path is opened here and closed by :meth:`close`; a file object is
    only flushed.  Usable as a context manager.
    """

    def __init__(self, path_or_file: str | os.PathLike[str] | BinaryIO) -> None:
        if isinstance(path_or_file, str | os.PathLike):
            self._file: BinaryIO = open(path_or_file, "wb")  # noqa: SIM115
            self._owned = True
        else:
            self._file = path_or_file
            self._owned = False
        self._file.write(_GLOBAL.pack(MAGIC, *VERSION, 0, 0, SNAPLEN, LINKTYPE_RAW))
        self.closed = False
        self.count = 0

    def write(self, time: float, data: bytes) -> None:
        """Append one packet captured at ``time`` seconds (>= 0)."""
        if self.closed:
            raise ValueError("write to a closed PcapWriter")
        if time < 0:
            raise ValueError(f"pcap timestamps cannot be negative: {time}")
        sec, usec = divmod(round(time * 1_000_000), 1_000_000)
        captured = bytes(data[:SNAPLEN])
        self._file.write(_RECORD.pack(sec, usec, len(captured), len(data)) + captured)
        self.count += 1

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._owned:
            self._file.close()
        else:
            self._file.flush()

    def __enter__(self) -> PcapWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PcapObserver:
    """Observer writing every :class:`PacketEvent` of the chosen ``kinds`` to ``writer``."""

    def __init__(self, writer: PcapWriter, kinds: Iterable[PacketKind] = ("send",)) -> None:
        self.writer = writer
        self.kinds = frozenset(kinds)

    def __call__(self, event: TraceEvent) -> None:
        if isinstance(event, PacketEvent) and event.kind in self.kinds:
            self.writer.write(event.time, event.data)


def read_pcap(path: str | os.PathLike[str]) -> list[tuple[float, bytes]]:
    """(time, packet bytes) of every record of a classic pcap file, either byte order.

    Meant for tests; raises :class:`ValueError` for something that is not a pcap file.
    """
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < _GLOBAL.size:
        raise ValueError("not a pcap file: too short")
    for order in "<>":
        magic = struct.unpack_from(order + "I", blob)[0]
        if magic in (MAGIC, MAGIC_NSEC):
            break
    else:
        raise ValueError(f"not a pcap file: magic {blob[:4].hex()}")
    scale = 1e9 if magic == MAGIC_NSEC else 1e6
    record = struct.Struct(order + "IIII")
    out: list[tuple[float, bytes]] = []
    pos = _GLOBAL.size
    while pos < len(blob):
        if pos + record.size > len(blob):
            raise ValueError("truncated pcap record header")
        sec, frac, incl, _orig = record.unpack_from(blob, pos)
        pos += record.size
        if pos + incl > len(blob):
            raise ValueError("truncated pcap record")
        out.append((sec + frac / scale, blob[pos : pos + incl]))
        pos += incl
    return out
