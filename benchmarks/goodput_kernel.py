"""The Linux kernel's own Reno and CUBIC on the path of goodput_sim.py: the reference.

    python benchmarks/goodput_kernel.py                  # 2 runs x 60 s per algorithm
    python benchmarks/goodput_kernel.py --runs 1 --seconds 30 --algorithms reno
    python benchmarks/goodput_kernel.py --loss 0.001 --one-way 0.025   # another path

Two network namespaces, each with a TUN device and no offload, joined by a
:class:`synack.link.relay.Relay` that applies synack's impairment model: the data
direction is a 100 Mbit/s transmitter with a one-BDP drop-tail queue (167 packets),
10 ms of propagation delay and 1% random loss; ACKs come back over 10 ms (``--loss``
and ``--one-way`` choose another path, with a one-BDP queue).  That is the
path of ``goodput_sim.py`` (whose figures are for synack in the simulator), with the
kernel's TCP at both ends: a Python socket sender with ``TCP_CONGESTION`` set, and a
Python socket receiver, each in its namespace, with the kernel's default buffers and
delayed ACKs.  The relay runs in this process in real time.

Printed per run: goodput after the warm-up, the loss the relay drew, the Mathis et al.
estimate for Reno at 20 ms and at that loss, and the kernel's srtt (``TCP_INFO``); the
path's RTT measured with ``ping`` through the relay before the runs shows how close the
relay keeps to 20 ms.  With ``--synack`` (the default) synack's simulator figure for the
same number of runs follows, for a same-run ratio.  Timings are printed, never asserted.  Needs
root, /dev/net/tun and ``ip``; everything lives in namespaces made here and deleted after.
"""

from __future__ import annotations

import argparse
import math
import random
import re
import statistics
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from goodput_sim import ONE_WAY, PAYLOAD, RATE, bdp_packets, mathis
from goodput_sim import one as synack_run

from synack.link.impairment import ImpairmentConfig
from synack.link.netns import Netns
from synack.link.relay import Relay
from synack.link.tun import TunDevice

A_IP, B_IP, PORT = "192.0.2.1", "192.0.2.2", 5001

RECEIVER = """
import socket, sys, time
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], int(sys.argv[2]))); l.listen(); print("ready", flush=True)
c, _ = l.accept(); n = 0; t0 = time.monotonic(); last = 0.0
print(f"0 0", flush=True)
while b := c.recv(1 << 16):
    n += len(b); t = time.monotonic() - t0
    if t - last >= 0.1:
        print(f"{t:.6f} {n}", flush=True); last = t
print(f"{time.monotonic() - t0:.6f} {n}", flush=True)
"""

SENDER = """
import socket, struct, sys, time
ip, port, cc, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
c = socket.socket()
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc.encode())
if sys.argv[5] == "pacing":  # any finite cap turns on TCP's internal pacing (SK_PACING_NEEDED)
    c.setsockopt(socket.SOL_SOCKET, 47, struct.pack("Q", 1 << 40))  # SO_MAX_PACING_RATE
c.connect((ip, port)); data = b"k" * (1 << 16); end = time.monotonic() + seconds
while time.monotonic() < end:
    c.send(data)
info = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 160)
c.close()
u32 = struct.unpack_from("24I", info, 8)  # tcpi_rto ... tcpi_total_retrans
segs_out = struct.unpack_from("I", info, 136)[0]
print(u32[15], u32[23], segs_out, u32[2], flush=True)  # rtt (us), total_retrans, segs_out, snd_mss
"""


def ping_rtt(ns: Netns, dst: str) -> float | None:
    """Average ping RTT (ms) through the relay, or None."""
    out = ns.run(["ping", "-c", "20", "-i", "0.05", "-q", dst], check=False, timeout=30).stdout
    m = re.search(r"= [\d.]+/([\d.]+)/", out)
    return float(m.group(1)) if m else None


def devices(a: Netns, b: Netns) -> tuple[TunDevice, TunDevice]:
    assert a.tun is not None and b.tun is not None
    return a.tun, b.tun


def one_run(
    a: Netns, b: Netns, algorithm: str, args: argparse.Namespace, seed: int
) -> dict[str, float]:
    seconds, warmup, one_way = args.seconds, args.warmup, args.one_way
    queue = bdp_packets(one_way)
    forward = ImpairmentConfig(delay=one_way, rate_bps=RATE, queue_limit=queue, loss=args.loss)
    reverse = ImpairmentConfig(delay=one_way)
    relay = Relay(*devices(a, b), forward, reverse, rng=random.Random(seed))
    rx = b.popen(
        [sys.executable, "-c", textwrap.dedent(RECEIVER), B_IP, str(PORT)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert rx.stdout is not None
        assert rx.stdout.readline().strip() == "ready"
        sender = [sys.executable, "-c", textwrap.dedent(SENDER), B_IP, str(PORT)]
        pacing = "pacing" if args.pacing else "none"
        tx = a.popen([*sender, algorithm, str(seconds), pacing], stdout=subprocess.PIPE, text=True)
        relay.run_for(seconds + 30, stop=lambda: tx.poll() is not None)
        # The rest of the data and the FIN, retransmitted if the relay drops them.
        relay.run_for(60, stop=lambda: rx.poll() is not None)
        tx_out = tx.communicate(timeout=10)[0].split()
        rx_lines = rx.communicate(timeout=10)[0].split("\n")
    finally:
        if rx.poll() is None:
            rx.kill()
        relay.close()
    samples = [tuple(map(float, line.split())) for line in rx_lines if line.strip()]
    t0 = warmup
    t1 = samples[-1][0]
    before = max((n for t, n in samples if t <= t0), default=0.0)
    after = samples[-1][1]
    rate = (after - before) / (t1 - t0)
    rtt_us, retrans, segs_out, snd_mss = (float(x) for x in tx_out)
    offered = relay.stats["in_0"]
    lost = relay.drops(0)["loss"]
    return {
        "rate": rate,
        "p": lost / max(offered, 1),
        "srtt": rtt_us / 1e6,
        "retrans": retrans,
        "segs": segs_out,
        "mss": snd_mss,
        "queue_drops": relay.drops(0)["queue_full"],
    }


def mbit(rate: float) -> str:
    return f"{rate * 8 / 1e6:6.2f} Mbit/s"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--algorithms", default="reno,cubic")
    ap.add_argument("--runs", type=int, default=2, help="runs per algorithm")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument(
        "--synack",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run synack in the simulator on the same path and seeds",
    )
    ap.add_argument("--loss", type=float, default=0.01, help="loss of data packets (0.01)")
    ap.add_argument("--one-way", type=float, default=ONE_WAY, help="one-way delay, s (0.010)")
    ap.add_argument(
        "--pacing",
        action="store_true",
        help="pace the kernel's sender (SO_MAX_PACING_RATE turns on TCP's internal pacing,"
        " as the fq qdisc would; this kernel has no fq) and synack's (TCPConfig.pacing)",
    )
    args = ap.parse_args(argv)
    rtt = 2 * args.one_way
    estimate = mathis(args.loss, rtt=rtt)
    print(
        f"path: {RATE / 1e6:.0f} Mbit/s, RTT {rtt * 1e3:.0f} ms, drop-tail queue of"
        f" {bdp_packets(args.one_way)} packets, {args.loss:.2%} loss of data packets; Mathis"
        f" estimate for Reno at that loss and RTT, MSS {PAYLOAD}: {mbit(estimate)}"
    )
    with (
        Netns("sa-gk-a", kernel_ip=A_IP, synack_ip=B_IP, offload=False) as a,
        Netns("sa-gk-b", kernel_ip=B_IP, synack_ip=A_IP, offload=False) as b,
    ):
        path = ImpairmentConfig(delay=args.one_way)
        relay = Relay(*devices(a, b), path, path)
        done = threading.Event()
        th = threading.Thread(target=lambda: relay.run_for(30, stop=done.is_set))
        th.start()
        ping = ping_rtt(a, B_IP)
        done.set()
        th.join()
        relay.close()
        print(
            f"ping through the relay (no rate limit, no loss): average {ping} ms"
            f" (path: {rtt * 1e3:.0f} ms)"
        )
        for algorithm in args.algorithms.split(","):
            print(f"\n-- kernel {algorithm} --")
            ratios, ratios_real, rates = [], [], []
            for seed in range(args.runs):
                r = one_run(a, b, algorithm, args, seed)
                rates.append(r["rate"])
                ratios.append(r["rate"] / estimate)
                real = mathis(r["p"], rtt=rtt, mss=int(r["mss"])) if r["p"] else math.nan
                ratios_real.append(r["rate"] / real)
                print(
                    f"  run {seed}: {mbit(r['rate'])} = {ratios[-1]:.2f} x Mathis,"
                    f" {ratios_real[-1]:.2f} x at the drawn loss {r['p']:.2%};"
                    f" srtt {r['srtt'] * 1e3:.1f} ms, {r['retrans']:.0f} of {r['segs']:.0f}"
                    f" segments retransmitted, MSS {r['mss']:.0f},"
                    f" queue drops {r['queue_drops']:.0f}"
                )
            print(
                f"  kernel {algorithm}: mean {mbit(statistics.fmean(rates))} ="
                f" {statistics.fmean(ratios):.2f} x Mathis at the path's loss and RTT,"
                f" {statistics.fmean(ratios_real):.2f} x at each run's drawn loss"
            )
            if args.synack:
                s_rates, s_real = [], []
                for seed in range(args.runs):
                    t = synack_run(
                        algorithm,
                        args.loss,
                        seed,
                        None,
                        nbytes=1 << 40,
                        duration=args.seconds,
                        one_way=args.one_way,
                        pacing=args.pacing,
                    )
                    s_rates.append(t.goodput(warmup=args.warmup))
                    sent = t.sender["OutSegs"] + t.sender["RetransSegs"]
                    p = t.link_drops["loss"] / max(sent, 1)
                    s_real.append(s_rates[-1] / mathis(p, rtt=rtt) if p else math.nan)
                mean = statistics.fmean(s_rates)
                # The loss each run drew moves its rate by 1/sqrt(p): compare the stacks
                # at the loss their runs drew as well.
                k_real, x_real = statistics.fmean(ratios_real), statistics.fmean(s_real)
                print(
                    f"  synack {algorithm} (simulator, same path, {args.runs} runs):"
                    f" {mbit(mean)} = {mean / estimate:.2f} x Mathis, {x_real:.2f} x at each"
                    f" run's drawn loss; synack / kernel = {mean / statistics.fmean(rates):.2f},"
                    f" {x_real / k_real:.2f} at the drawn losses"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
