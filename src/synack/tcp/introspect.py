"""What a connection tells about itself: a TCP_INFO-like snapshot, Linux's congestion
state names, and the timer column of ``ss -o``.  Nothing here changes the connection."""

from __future__ import annotations

from synack.tcp.seq import seq_sub
from synack.tcp.tcb import TCB


class Introspection(TCB):
    __slots__ = ()

    def _ca_state(self) -> str:
        """Linux's congestion-avoidance state names (tcpi_ca_state)."""
        if self.in_recovery:
            return "loss" if self._rto_recovery else "recovery"
        if self._ecn_reduced_until is not None:
            return "cwr"
        if self.board.sacked_bytes or self.dupacks:
            return "disorder"
        return "open"

    def timer_description(self, now: float) -> str:
        """The timer column of ``ss -tan -o``: ``timer:(name,remaining,retries)``."""
        for name, d in (
            ("timewait", self._tw_deadline),
            ("on", self._rto_deadline),
            ("on", self._tlp_deadline),
            ("persist", self._persist_deadline),
            ("keepalive", self._keepalive_deadline),
            ("delack", self.acks.deadline),
            ("timewait", self._fw2_deadline),
        ):
            if d is not None:
                return f"timer:({name},{max(d - now, 0.0):.3f}s,{self.retransmits})"
        return ""

    def info(self, now: float | None = None) -> dict[str, object]:
        """A TCP_INFO-like snapshot.  With ``now`` (the connection's clock) it also has
        the times since the last data sent, data received and ACK received, and where
        the sender's time went (Linux tcp_get_info_chrono_stats), all in seconds."""
        snapshot = self._info()
        if now is not None:
            busy, rwnd, sndbuf = self.chrono.totals(now)
            snapshot.update(
                last_data_sent=now - self._data_sent_at,
                last_data_recv=now - self._data_rcvd_at,
                last_ack_recv=now - self._ack_rcvd_at,
                busy_time=busy,
                rwnd_limited=rwnd,
                sndbuf_limited=sndbuf,
            )
        return snapshot

    def _info(self) -> dict[str, object]:
        return {
            "state": self.state.value,
            "rto": self.rto.rto,
            "srtt": self.rto.srtt,
            "rttvar": self.rto.rttvar,
            "snd_mss": self.eff_mss,
            # During fast recovery Linux sets snd_cwnd to what PRR lets out (in flight
            # plus sndcnt, tcp_cwnd_reduction); synack keeps the algorithm's cwnd apart
            # and reports the same figure.
            "cwnd": self._prr_cwnd if self.prr is not None else self.cwnd,
            "ssthresh": self.ssthresh,
            "snd_una": self.snd_una,
            "snd_nxt": self.snd_nxt,
            "rcv_nxt": self.rcv_nxt,
            "snd_wnd": self.snd_wnd,
            "rcv_wnd": self._rcv_window(),
            "snd_wscale": self.agreement.snd_wscale if self.agreement else 0,
            "rcv_wscale": self.agreement.rcv_wscale if self.agreement else 0,
            "retransmits": self.retransmits,
            "total_retrans": self.total_retrans,
            "unacked": seq_sub(self.snd_max, self.snd_una),
            "bytes_in_flight": self._pipe(),
            "sacked": self.board.sacked_bytes,
            "lost": self.board.lost_bytes,
            # Linux tcpi_retrans (retrans_out): segments retransmitted and not yet
            # acknowledged, SACKed or found lost again.
            "retrans_out": self.board.retrans_out(),
            "reordering": self.rack.reordering,  # Linux tcpi_reordering, in segments
            "reord_seen": self.rack.reord_seen,  # Linux tcpi_reord_seen
            "min_rtt": self.rack.min_rtt,  # Linux tcpi_min_rtt (RACK's, over all time)
            "ca_state": self._ca_state(),
            "bytes_acked": self.stats["bytes_acked"],
            "bytes_received": self.stats["bytes_received"],
            "segs_in": self.stats["segs_in"],
            "segs_out": self.stats["segs_out"],
            "data_segs_in": self.stats["data_segs_in"],
            "data_segs_out": self.stats["data_segs_out"],
            "delivered": self.stats["delivered"],
            "rcv_mss": self.acks.rcv_mss,
            "congestion": self.config.congestion,
            "ecn": self.ecn_ok,
            "rcv_space": self.rcvbuf.free,
            "send_queue": len(self.sndbuf),  # written, not yet acknowledged (ss Send-Q)
            "ooo_bytes": self.rcvbuf.ooo_bytes,
            # Linux sk_pacing_rate (bytes/s; 0 before the first RTT sample), computed
            # whether or not the connection paces (``paced``).
            "pacing_rate": self._pacing_rate(),
            "paced": self.config.paces,
        }
