"""Segmentation offload (TSO/GSO): new data leaves in packets of several segments, which
the link carries whole or cuts into wire packets (synack.wire.gso), and nothing the peer
sees changes but the packaging."""

from __future__ import annotations

import pytest

from datapath_harness import BulkResult, BulkSpec, run_bulk
from synack.link.impairment import ImpairmentConfig
from synack.tcp.config import TCPConfig
from synack.wire.ip import decode_ipv4
from synack.wire.tcp import decode_tcp

TSO = TCPConfig(gso_max_size=65536)
MSS_PAYLOAD = 1448  # 1460 less the timestamps option


def wire(r: BulkResult) -> list[tuple[str, int, int, int]]:
    """(sender, seq, payload length, flags) of every packet put on the link."""
    out = []
    for e in r.recorder.events:
        if getattr(e, "kind", None) == "send":
            ip = decode_ipv4(e.data)  # type: ignore[attr-defined]
            seg = decode_tcp(ip.payload, ip.src, ip.dst)
            out.append((e.src, seg.seq, len(seg.payload), int(seg.flags)))  # type: ignore[attr-defined]
    return out


def bulk(**kw: object) -> BulkResult:
    spec = BulkSpec(c2s_bytes=2_000_000, s2c_bytes=1000, max_events=10**6)
    return run_bulk(BulkSpec(**{**spec.__dict__, **kw}))  # type: ignore[arg-type]


def test_software_gso_puts_the_same_packets_on_the_wire_as_no_offload() -> None:
    """The host cuts its TSO packets as Linux's GSO would: the link sees, packet for
    packet, what a stack without offload sends (PSH placement included)."""
    plain = bulk()
    soft = bulk(config=TSO)
    assert plain.problems() == [] and soft.problems() == []
    assert wire(soft) == wire(plain)


def test_an_unimpaired_link_carries_tso_packets_whole() -> None:
    r = bulk(config=TSO, link_gso=True)
    assert r.problems() == []
    sizes = [n for src, _, n, _ in wire(r) if src == "client"]
    assert max(sizes) > 10 * MSS_PAYLOAD
    assert all(n % MSS_PAYLOAD == 0 for n in sizes if n > MSS_PAYLOAD)  # whole segments
    assert len(sizes) < len(wire(bulk())) / 4
    # Counters count wire segments (Linux tcp_skb_pcount), not TSO packets.
    assert r.client.counters["OutSegs"] == bulk().client.counters["OutSegs"]


LOSSY = ImpairmentConfig(delay=0.01, loss=0.02, reorder=0.02, reorder_delay=0.003)
NECK = ImpairmentConfig(delay=0.01, rate_bps=20e6, queue_limit=30)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("link", [LOSSY, NECK], ids=["loss+reorder", "bottleneck"])
def test_impaired_links_see_only_wire_packets_and_recovery_works(
    seed: int, link: ImpairmentConfig
) -> None:
    r = bulk(config=TSO, link_gso=True, c2s=link, s2c=link, seed=seed, s2c_bytes=300_000)
    assert r.problems() == []
    assert max(n for _, _, n, _ in wire(r)) <= MSS_PAYLOAD
    if link is LOSSY:
        assert r.retrans_segs() > 0
