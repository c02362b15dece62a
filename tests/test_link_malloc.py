"""synack.link.malloc: glibc keeps freed packet memory for reuse instead of faulting
fresh pages in for every packet.  Each measurement runs in a child process, so the
test process's own heap policy is left alone."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from synack.link.malloc import keep_heap

# A stream of 64-80 KB packets, 200 in flight, and a reader joining 20 of them at a
# time: the allocation pattern of a transfer.  Prints the page faults it took.
CHURN = """
import resource, sys
from collections import deque
if sys.argv[1] == "keep":
    from synack.link.malloc import keep_heap
    assert keep_heap()
q = deque(b"%d" % i * 20000 for i in range(200))
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for i in range(3000):
    q.append(b"%d" % i * 20000)
    q.popleft()
    joined = b"".join([q[k] for k in range(20)])
    del joined
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def faults(mode: str) -> int:
    res = subprocess.run(
        [sys.executable, "-c", CHURN, mode], capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stderr
    return int(res.stdout.split()[-1])


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="needs glibc's mallopt")
def test_a_kept_heap_takes_far_fewer_page_faults_for_a_packet_stream() -> None:
    default, kept = faults("default"), faults("keep")
    # Measured: about 13,700 faults by default (glibc trims the heap top and maps large
    # blocks afresh), about 2,000 with the heap kept (its growth to the peak).
    assert kept * 3 < default, (kept, default)


def test_negative_thresholds_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        keep_heap(trim=-1)
