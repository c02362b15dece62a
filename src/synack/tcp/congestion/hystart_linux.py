"""HyStart as Linux's CUBIC runs it (net/ipv4/tcp_cubic.c, ``hystart_detect`` = 3): leave
slow start (ssthresh = cwnd) before the first loss, on either of two signs that the path
is full (Ha and Rhee, "Taming the elephants: New TCP slow start", Computer Networks 2011):

* **ACK train**: the ACKs of one round keep arriving closely spaced (each within 2 ms of
  the last) for longer than half the minimum RTT: the flight already spans the path's
  delay-bandwidth product;
* **delay increase**: the smallest of a round's first eight RTT samples exceeds the
  minimum RTT seen by clamp(min RTT / 8, 4 ms, 16 ms): a queue is building.

Both act only from a window of 16 segments on (``hystart_low_window``).  A round starts
when SND.UNA passes the SND.NXT recorded at the start of the last one.  A retransmission
timeout (TCP_CA_Loss) forgets the minimum RTT and lets HyStart run again.  Unlike
HyStart++ (RFC 9406, :mod:`.hystart`), there is no conservative phase: slow start ends
at once.
"""

from __future__ import annotations

import math

from synack.tcp.seq import seq_gt

#: tcp_cubic hystart_low_window: no detection below 16 segments.
LOW_WINDOW = 16
#: hystart_ack_delta_us: ACKs at most 2 ms apart make a train.
ACK_DELTA = 0.002
#: HYSTART_MIN_SAMPLES: RTT samples per round before the delay test.
MIN_SAMPLES = 8
#: HYSTART_DELAY_MIN / HYSTART_DELAY_MAX: bounds of the delay threshold.
DELAY_THRESH_MIN = 0.004
DELAY_THRESH_MAX = 0.016
#: hystart_detect bits.
ACK_TRAIN = 1
DELAY = 2
#: sk_gso_max_size: the burst a sender may put out at once (hystart_ack_delay).
GSO_MAX_SIZE = 65536


class LinuxHyStart:
    """The state of tcp_cubic's HyStart for one connection."""

    def __init__(self, detect: int = ACK_TRAIN | DELAY) -> None:
        self.detect = detect
        #: ca->found: slow start was left (until a timeout resets it).
        self.found = False
        #: ca->delay_min: the smallest RTT seen (None: none yet).
        self.delay_min: float | None = None
        self.round_start = 0.0
        self.last_ack = 0.0
        #: ca->end_seq: the round ends when SND.UNA passes it (None: start one).
        self.end_seq: int | None = None
        self.curr_rtt = math.inf
        self.sample_cnt = 0
        #: How slow start was left, for introspection: "ack_train" or "delay".
        self.exit_reason: str | None = None
        self.exits = 0

    def on_sample(
        self,
        rtt: float,
        now: float,
        *,
        active: bool,
        cwnd_segments: int,
        snd_una: int,
        snd_nxt: int,
        pacing_rate: float,
    ) -> bool:
        """One RTT sample (bictcp_acked, hystart_update).  ``active``: the connection is
        in slow start.  ``pacing_rate``: bytes/s as Linux computes sk_pacing_rate (0 if
        not known yet).  True when slow start should end now: ssthresh = cwnd."""
        rtt = max(rtt, 1e-6)  # Linux: "if (delay == 0) delay = 1"
        if self.delay_min is None or rtt < self.delay_min:
            self.delay_min = rtt
        if self.found or not active or cwnd_segments < LOW_WINDOW:
            return False
        # Since Linux 5.7 rounds are only tracked here, from 16 segments on (before, a
        # reset in bictcp_cong_avoid ran on every slow-start ACK).
        if self.end_seq is None or seq_gt(snd_una, self.end_seq):
            self._new_round(now, snd_nxt)
        if self.detect & ACK_TRAIN and now - self.last_ack <= ACK_DELTA:
            self.last_ack = now
            # "Hystart ack train triggers if we get ack past ca->delay_min/2" (without
            # pacing; hystart_ack_delay allows for a burst of 4 GSO packets).
            threshold = (self.delay_min + self._ack_delay(pacing_rate)) / 2
            if now - self.round_start > threshold:
                return self._leave("ack_train")
        if self.detect & DELAY:
            self.curr_rtt = min(self.curr_rtt, rtt)
            if self.sample_cnt < MIN_SAMPLES:
                self.sample_cnt += 1
            else:
                margin = min(max(self.delay_min / 8, DELAY_THRESH_MIN), DELAY_THRESH_MAX)
                if self.curr_rtt > self.delay_min + margin:
                    return self._leave("delay")
        return False

    def on_timeout(self) -> None:
        """TCP_CA_Loss (cubictcp_state: bictcp_reset, bictcp_hystart_reset)."""
        self.found = False
        self.delay_min = None
        self.end_seq = None

    # The hooks HyStart++ also has; Linux's HyStart needs nothing from them.
    def on_round_start(self) -> bool:
        return False

    def on_congestion(self) -> None:
        """Fast recovery leaves slow start anyway (cwnd comes down to ssthresh)."""

    def growth(self, acked: int) -> int:
        return acked

    # --- internals ----------------------------------------------------------------------

    def _new_round(self, now: float, snd_nxt: int) -> None:
        """bictcp_hystart_reset."""
        self.round_start = self.last_ack = now
        self.end_seq = snd_nxt
        self.curr_rtt = math.inf
        self.sample_cnt = 0

    @staticmethod
    def _ack_delay(pacing_rate: float) -> float:
        """hystart_ack_delay: the time 4 GSO packets take at the pacing rate, at most
        1 ms; 0 while the rate is unknown."""
        if pacing_rate <= 0:
            return 0.0
        return min(0.001, GSO_MAX_SIZE * 4 / pacing_rate)

    def _leave(self, reason: str) -> bool:
        self.found = True
        self.exit_reason = reason
        self.exits += 1
        return True
