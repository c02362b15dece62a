"""Whether cwnd was used (Linux tcp_cwnd_validate, RFC 7661's spirit), as a packetdrill
script checks it: congestion avoidance grows cwnd only for a window that filled it, and
the verdict for a window holds until that window is acknowledged."""

from __future__ import annotations

from pathlib import Path

from synack.packetdrill import RunOptions, run_file
from test_packetdrill_runner import SERVER  # the passive open, Linux's defaults

SCRIPT = (
    "`sysctl -q net.ipv4.tcp_congestion_control=reno`\n"
    + SERVER
    + """
// Ten segments fill the initial window exactly: a cwnd-limited window
// (tcp_write_xmit: is_cwnd_limited |= packets_in_flight >= cwnd).
+0 write(4, ..., 10000) = 10000
+0 > P. 1:10001(10000) ack 1
+.1 < . 1:1(0) ack 1 win 257 <sack 1001:2001,nop,nop>
+0 < . 1:1(0) ack 1 win 257 <sack 1001:3001,nop,nop>
+0 < . 1:1(0) ack 1 win 257 <sack 1001:4001,nop,nop>
+0 > . 1:1001(1000) ack 1

// Recovery ends at ssthresh 5; the same ACK delivers 7 packets of that cwnd-limited
// window (nothing was sent since but the retransmission, so the verdict stands) and
// Reno's congestion avoidance adds one.
+.1 < . 1:1(0) ack 10001 win 257
+0 %{ assert tcpi_snd_ssthresh == 5, tcpi_snd_ssthresh }%
+0 %{ assert tcpi_snd_cwnd == 6, tcpi_snd_cwnd }%

// Six segments fill cwnd 6 again and all leave; the ACK of all of them, after a send
// pass that found nothing to send, still counts: cwnd 7.
+0 write(4, ..., 6000) = 6000
+0 > P. 10001:16001(6000) ack 1
+.1 < . 1:1(0) ack 16001 win 257
+0 %{ assert tcpi_snd_cwnd == 7, tcpi_snd_cwnd }%

// Five segments, below cwnd 7: an application-limited window, no growth.
+0 write(4, ..., 5000) = 5000
+0 > P. 16001:21001(5000) ack 1
+.1 < . 1:1(0) ack 21001 win 257
+0 %{ assert tcpi_snd_cwnd == 7, tcpi_snd_cwnd }%
"""
)


def test_cwnd_grows_for_windows_that_filled_it_and_not_for_others(tmp_path: Path) -> None:
    path = tmp_path / "cwnd-validation.pkt"
    path.write_text(SCRIPT)
    result = run_file(path, RunOptions())
    assert result.failure is None, result.failure.text if result.failure else ""
