"""The socket under test and the script <-> live mapping of its packets (packetdrill's
``struct socket``).

A script writes sequence numbers relative to the ISNs, leaves ports out and writes
timestamp values of its own.  packetdrill keeps, for the one socket under test, the
"script" and "live" view of each and maps between them:

* remote sequence numbers: an inbound SYN's sequence number is used as is (it *is* the
  remote ISN); other inbound segments add the remote ISN; outbound ACKs and SACK blocks
  subtract it (except on a SYN, whose ACK is compared as is);
* local sequence numbers: learned from the stack's first SYN (active open) or SYN-ACK
  (passive open): outbound segments subtract the live ISN (a SYN maps the live ISN onto
  the script's), inbound ACKs and SACK blocks add it;
* timestamps: each outbound TS value is mapped onto the script's (the first pair is the
  baseline), so an inbound TS echo of a script value becomes the live value it stood for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

MASK = 0xFFFFFFFF


class SockState(Enum):
    """packetdrill's socket states (socket.h), as scripted events advance them."""

    NEW = "new"
    PASSIVE_LISTENING = "passive listening"
    PASSIVE_PACKET_RECEIVED = "passive packet received"
    PASSIVE_SYNACK_SENT = "passive SYN-ACK sent"
    PASSIVE_SYNACK_ACKED = "passive SYN-ACK acked"
    ACTIVE_CONNECTING = "active connecting"
    ACTIVE_SYN_SENT = "active SYN sent"
    ACTIVE_SYN_ACKED = "active SYN-ACK received"


@dataclass
class SocketUnderTest:
    """One connection's script and live views."""

    state: SockState = SockState.NEW
    script_fd: int = -1
    local_ip: str = ""
    remote_ip: str = ""
    live_local_port: int = 0
    live_remote_port: int = 0
    script_local_isn: int = 0
    script_remote_isn: int = 0
    live_local_isn: int = 0
    live_remote_isn: int = 0
    ts_val_map: dict[int, int] = field(default_factory=dict)
    first_ts: tuple[int, int] | None = None  # (script TSval, live TSval) baseline

    # --- sequence offsets (socket.h) ------------------------------------------------

    def remote_script_to_live(self, is_syn: bool) -> int:
        return 0 if is_syn else self.live_remote_isn

    def local_script_to_live(self, is_syn: bool) -> int:
        if is_syn:
            return (self.live_local_isn - self.script_local_isn) & MASK
        return self.live_local_isn

    def remote_live_to_script(self, is_syn: bool) -> int:
        return -self.remote_script_to_live(is_syn) & MASK

    def local_live_to_script(self, is_syn: bool) -> int:
        return -self.local_script_to_live(is_syn) & MASK

    # --- timestamps -----------------------------------------------------------------

    def note_outbound_ts(self, script_val: int, live_val: int) -> int:
        """Remember that script TSval ``script_val`` was ``live_val`` on the wire; return
        the live value expressed in script space (baseline + elapsed ticks)."""
        self.ts_val_map[script_val] = live_val
        if self.first_ts is None:
            self.first_ts = (script_val, live_val)
        base_script, base_live = self.first_ts
        return (base_script + (live_val - base_live)) & MASK

    def inbound_ecr(self, script_ecr: int, scaled: bool) -> int | None:
        """The live TSecr for a scripted one, or None when it cannot be inferred."""
        if script_ecr in self.ts_val_map:
            return self.ts_val_map[script_ecr]
        if scaled and self.first_ts is not None:
            base_script, base_live = self.first_ts
            return (script_ecr - base_script + base_live) & MASK
        return None
