"""Proportional Rate Reduction (RFC 6937), with the slow-start reduction bound (§3.1).

During fast recovery PRR decides how much may be sent on each ACK so that, by the end of
recovery, the amount in flight has fallen smoothly to ssthresh.
"""

from __future__ import annotations


class PRR:
    # Slots: thousands of connections (TIME_WAIT) each keep one; no per-object dict.
    __slots__ = ("delivered", "mss", "out", "recover_fs", "ssthresh")

    def __init__(self, ssthresh: int, recover_fs: int, mss: int) -> None:
        self.ssthresh = ssthresh
        self.recover_fs = max(recover_fs, 1)  # RecoverFS = pipe at the start of recovery
        self.mss = mss
        self.delivered = 0  # prr_delivered
        self.out = 0  # prr_out

    def sndcnt(self, delivered_data: int, pipe: int, una_advanced_no_loss: bool = False) -> int:
        """Bytes that may be sent in answer to this ACK (RFC 6937 §3).

        The slow-start reduction bound adds its extra segment only when the ACK moved
        SND.UNA and revealed no new loss, as the PRR update (draft-ietf-tcpm-prr-
        rfc6937bis §5, "SafeACK") and Linux's tcp_cwnd_reduction do: RFC 6937's
        unconditional extra segment sent a second one into a still-lossy window."""
        self.delivered += delivered_data
        if pipe > self.ssthresh:
            # Proportional part: sndcnt = CEIL(prr_delivered * ssthresh / RecoverFS) - prr_out
            sndcnt = -(-self.delivered * self.ssthresh // self.recover_fs) - self.out
        else:
            # Slow-start reduction bound (PRR-SSRB).
            limit = max(self.delivered - self.out, delivered_data)
            if una_advanced_no_loss:
                limit += self.mss
            sndcnt = min(self.ssthresh - pipe, limit)
        if self.out == 0 and sndcnt < self.mss:
            sndcnt = self.mss  # RFC 6937: at least one segment on the first ACK (fast retransmit)
        return max(sndcnt, 0)

    def sent(self, n: int) -> None:
        self.out += n
