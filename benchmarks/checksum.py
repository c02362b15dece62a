"""The Internet checksum (RFC 1071) in pure Python and with the optional numpy path.

    python benchmarks/checksum.py

For each buffer size, MB per second of the pure-Python sum (one ``int.from_bytes`` and
a ``%``) and of the numpy sum, and their ratio, measured in the same run.  The crossover
is where ``synack.wire.checksum.NUMPY_THRESHOLD`` should sit.  Timings are printed, never
asserted.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from synack.wire import checksum

SIZES = (40, 576, 1460, 2048, 4096, 9000, 65495)


def rate(fn: Callable[[bytes], int], data: bytes, min_seconds: float = 0.2) -> float:
    rounds = 0
    t0 = time.perf_counter()
    while True:
        for _ in range(100):
            fn(data)
        rounds += 100
        spent = time.perf_counter() - t0
        if spent >= min_seconds:
            return rounds * len(data) / spent / 1e6


def main() -> int:
    if checksum._np is None:
        print("numpy is not installed (pip install synack[fast]): only the pure path runs")
    print(f"threshold for numpy: {checksum.NUMPY_THRESHOLD} octets")
    print(f"{'octets':>7} {'pure MB/s':>10} {'numpy MB/s':>11} {'numpy/pure':>11}")
    for n in SIZES:
        data = os.urandom(n)
        pure = rate(checksum.pure_ones_complement_sum, data)
        if checksum._np is None:
            print(f"{n:>7} {pure:>10.0f}")
            continue
        threshold = checksum.NUMPY_THRESHOLD
        checksum.NUMPY_THRESHOLD = 0  # numpy at every size, for the comparison
        try:
            fast = rate(checksum.ones_complement_sum, data)
        finally:
            checksum.NUMPY_THRESHOLD = threshold
        print(f"{n:>7} {pure:>10.0f} {fast:>11.0f} {fast / pure:>11.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
