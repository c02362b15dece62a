"""Scripts of the shared LIST that synack does not pass yet, and exactly why.

Keys are paths relative to the ``shared/packetdrill`` folder.  ``line`` is the script line
where the run stops today; the reason says what Linux does there (as the script pins
it), what synack does instead, and what else is known to differ further on.  The test
module marks these scripts expected-to-fail (strict), and checks that each still stops
at the recorded line: a script that starts passing, or fails somewhere else, shows up.
The scripts themselves are never edited.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KnownFailure:
    line: int
    reason: str


_PSH = (
    "PSH placement: Linux forces PSH on every multi-segment (TSO/GSO) packet it sends "
    "(net/ipv4/tcp_output.c __tcp_transmit_skb: 'Force a PSH flag on all (GSO) packets' "
    "when tcp_skb_pcount > 1), so the last segment of each burst carries PSH; synack sets "
    "PSH only on the segment that empties the send buffer (RFC 9293 §3.9.1.2), so a burst "
    "that stops short of the end of the write has no PSH."
)

EXPECTED_FAILURES: dict[str, KnownFailure] = {
    "google/tcp/fast_retransmit/fr-4pkt-fack-last-byte.pkt": KnownFailure(
        26,
        "No RTT sample from the handshake: Linux measures 100 ms on the SYN-ACK -> ACK "
        "exchange (tcp_synack_rtt_meas), so the tail loss probe P. 3001:4001 goes out at "
        "0.400 (PTO = 2*SRTT after the flight sent at 0.200) and the RTO at line 29 is "
        "RTT + 200 ms = 300 ms; synack takes no sample there (tcpi_rto is still 1 s after "
        "accept), so PTO falls back to 1 s (RFC 8985 §7.2) and the probe leaves at 1.200.",
    ),
    "google/tcp/limited_transmit/limited-transmit-sack.pkt": KnownFailure(
        21,
        "Line 21 (P. 1:10001, the initial 10-segment flight of a 15000-byte write): "
        + _PSH
        + " Next, line 25: on the first SACK-only duplicate ACK synack raises cwnd 10 -> "
        "11 (it credits SACKed bytes to slow start) and sends 10001:12001, two segments, "
        "where Linux sends one (RFC 3042; Linux grows cwnd only when SND.UNA advances, "
        "tcp_may_raise_cwnd / FLAG_DATA_ACKED), so line 29's segment leaves 10 ms early.",
    ),
    "google/tcp/slow_start/slow-start-ack-per-1pkt.pkt": KnownFailure(
        22,
        "Line 22 (P. 1:10001 of a 30000-byte write): "
        + _PSH
        + " Apart from PSH the run matches Linux (IW10, one MSS of growth per ACK, "
        "tcpi_snd_cwnd 10 then 20).",
    ),
    "google/tcp/slow_start/slow-start-after-idle.pkt": KnownFailure(
        20,
        "Line 20: Linux sends the first flight of the 26000-byte write as two 5000-byte "
        "TSO packets, each with PSH (P. 1:5001, P. 5001:10001); synack has no TSO and "
        "sends ten 1000-byte segments with no PSH. "
        + _PSH
        + " Next, lines 24-27: one ACK for all 10 "
        "segments takes Linux's cwnd to 20 (tcp_slow_start: cwnd += acked, no per-ACK "
        "limit) and it sends 16 segments; synack applies RFC 3465 ABC with L = 2*SMSS "
        "(cwnd 12), sends 12, then a TLP at 0.402 and an RTO retransmission at 0.702.  "
        "Slow start after idle (lines 32-35) is not reached.",
    ),
    "google/tcp/slow_start/slow-start-app-limited.pkt": KnownFailure(
        26,
        "cwnd growth while application-limited: after the ACK of 4001 Linux has "
        "tcpi_snd_cwnd 14 (in slow start tcp_is_cwnd_limited() is cwnd < 2 * "
        "max_packets_out, so a flight of 10 still grows cwnd up to 20); synack keeps 12 "
        "because it freezes cwnd when the flight is below cwnd (RFC 7661). Lines 29, 32 "
        "and 35 expect 16, 18 and 20 the same way.",
    ),
    "google/tcp/mss/mss-setsockopt-tcp_maxseg-server.pkt": KnownFailure(
        28,
        "Line 28 (P. 1:11001, IW10 with TCP_MAXSEG 1100 out of a 12000-byte write): "
        + _PSH
        + " Everything else matches (MSS 1100 in the SYN-ACK, TCP_MAXSEG, tcpi_advmss, "
        "tcpi_snd_mss, 11000 bytes in the first flight).",
    ),
    "linux/tcp_dsack_mult.pkt": KnownFailure(
        37,
        "D-SACK for a segment that also advances RCV.NXT: 1:6001 repeats 1001:3001 and "
        "4001:5001, which were held out of order; Linux acks 6001 with "
        "<nop,nop,sack 1001:3001 7001:8001> (the first duplicate range as a D-SACK, RFC "
        "2883 §4, then the remaining SACK block); synack sends <nop,nop,sack 7001:8001>, "
        "no D-SACK. Same at line 41: 6001:8001 repeats the held 7001:8001; Linux acks 8001 "
        "with <nop,nop,sack 7001:8001>, synack with no SACK option. The D-SACK of an old "
        "segment (line 45) matches.",
    ),
    "linux/tcp_rcv_zero_wnd_fin.pkt": KnownFailure(
        24,
        "Data beyond the offered window: with SO_RCVBUF 20000 the in-order 60000-byte "
        "segment is far larger than the window; Linux queues it whole (tcp_data_queue "
        "takes in-sequence data past the window while socket memory allows) and acks 60001 "
        "win 0, then accepts the FIN in the zero window (line 27, ack 60002); synack trims "
        "the segment at the right edge of its window (40000 bytes, the doubled SO_RCVBUF, "
        "where Linux offers about half of that) and acks 40001 win 0, and the FIN at 60001 "
        "is then beyond RCV.NXT (line 27: ack 40001).",
    ),
}
