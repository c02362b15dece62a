"""The C heap's policy for a process that moves packets: keep freed memory for reuse.

Every packet synack reads or builds is a fresh ``bytes`` object of up to 64 KB, freed
a moment later; an application's read joins them into objects of up to megabytes.
CPython takes such blocks from the C library's ``malloc``, and glibc by default

* hands the top of its heap back to the kernel as soon as more than 128 KB of it are
  free (``M_TRIM_THRESHOLD``), and
* serves blocks of 128 KB or more from fresh ``mmap`` regions (``M_MMAP_THRESHOLD``,
  adjusted upwards as such blocks are freed),

so a stream of packets keeps giving pages back and taking them again: each 4 KB page
of each packet costs a page fault and the kernel's zeroing of it (measured: 14 faults
per 64 KB segment in ``benchmarks/bulk_sim.py``, a fifth of its CPU time; 6-8 per TSO
packet read from a TUN device).  Linux's own stack recycles its packet buffers for the
same reason (the page_pool and per-CPU skb caches).

:func:`keep_heap` sets both thresholds high, so the heap keeps its peak size and
packets reuse warm memory.  It changes the whole process, so synack's library code
never calls it: the command-line tool and the benchmarks do, and a program that
embeds synack may.  It does nothing (and says so) where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

# glibc malloc.h
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3

#: Free heap kept before any is returned to the kernel.
TRIM_THRESHOLD = 256 << 20
#: Blocks below this size come from the heap, not from mmap: glibc's upper limit for
#: the setting on 64-bit systems (DEFAULT_MMAP_THRESHOLD_MAX, 4 MB * sizeof(long)).
MMAP_THRESHOLD = 32 << 20

_state = {"kept": False}


def keep_heap(trim: int = TRIM_THRESHOLD, mmap: int = MMAP_THRESHOLD) -> bool:
    """Ask glibc to keep freed memory (``mallopt``); True if it accepted both settings.

    Raises ``ValueError`` for a negative size."""
    if trim < 0 or mmap < 0:
        raise ValueError(f"thresholds must not be negative: trim {trim}, mmap {mmap}")
    if platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    ok = bool(mallopt(M_TRIM_THRESHOLD, trim)) and bool(mallopt(M_MMAP_THRESHOLD, mmap))
    _state["kept"] = _state["kept"] or ok
    return ok


def heap_kept() -> bool:
    """Whether :func:`keep_heap` succeeded in this process."""
    return _state["kept"]
