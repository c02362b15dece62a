"""The ``synack`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from synack.errors import SynackError


def _probability(text: str) -> float:
    try:
        p = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if p > 1.0 and p <= 100.0:
        p /= 100.0  # accept "5" as 5 %
    if not 0.0 <= p <= 1.0:
        raise argparse.ArgumentTypeError(f"loss must be within 0..1 (or 0..100 %): {text}")
    return p


def _seconds(text: str) -> float:
    try:
        value = float(text.removesuffix("ms")) / 1000 if text.endswith("ms") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"delay must be >= 0: {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="synack", description="A TCP/IP stack in pure Python that you can watch."
    )
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="a client and a server on the simulated network")
    d.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    d.add_argument(
        "--loss",
        type=_probability,
        default=0.0,
        help="random loss per packet, 0..1 or a percentage (default 0)",
    )
    d.add_argument(
        "--delay",
        type=_seconds,
        default=0.05,
        help="one-way delay in seconds, or e.g. 20ms (default 0.05)",
    )
    d.add_argument("--pcap", metavar="FILE", help="also write the packets to a pcap file")
    d.add_argument("--relative", action="store_true", help="relative sequence numbers")

    s = sub.add_parser("scenario", help="run a scenario from the catalog")
    s.add_argument("name", nargs="?", help="scenario name (see --list)")
    s.add_argument("--list", action="store_true", help="list the scenarios")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--pcap", metavar="FILE", help="also write the packets to a pcap file")

    f = sub.add_parser("flood", help="a SYN flood against a listener, with SYN cookies or without")
    f.add_argument("--syns", type=int, default=200, help="spoofed SYNs (default 200)")
    f.add_argument("--backlog", type=int, default=16, help="the listener's backlog (16)")
    f.add_argument("--no-cookies", action="store_true", help="net.ipv4.tcp_syncookies=0")
    f.add_argument("--seed", type=int, default=1)

    st = sub.add_parser("states", help="print the TCP state diagram (from the transition table)")
    st.add_argument("--dot", action="store_true", help="Graphviz DOT instead of text")

    from synack.packetdrill.command import add_arguments as packetdrill_arguments

    pd = sub.add_parser("packetdrill", help="run packetdrill scripts against synack")
    packetdrill_arguments(pd)

    from synack.api.tuncli import add_subcommands

    add_subcommands(sub)  # serve, connect, netns: synack on a TUN device
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            from synack.demo import run_demo

            print(
                run_demo(
                    seed=args.seed,
                    loss=args.loss,
                    delay=args.delay,
                    pcap=args.pcap,
                    relative=args.relative,
                ),
                end="",
            )
            return 0
        if args.command == "scenario":
            return _scenario(args)
        if args.command == "flood":
            from synack.scenarios.synflood import run_flood

            result = run_flood(
                args.syns, backlog=args.backlog, cookies=not args.no_cookies, seed=args.seed
            )
            print(result.report(), end="")
            return 0
        if args.command == "packetdrill":
            from synack.packetdrill.command import run as run_packetdrill

            return run_packetdrill(args)
        if args.command == "states":
            from synack.tcp import states

            print(states.to_dot() if args.dot else states.to_text())
            return 0
        if args.command in ("serve", "connect", "netns"):
            from synack.api.tuncli import run_command

            return run_command(args)
    except (SynackError, OSError, ValueError) as e:
        print(f"synack: {e}", file=sys.stderr)
        return 1
    return 2


def _scenario(args: argparse.Namespace) -> int:
    from synack.scenarios import SCENARIOS, by_name

    if args.list or not args.name:
        width = max(len(s.name) for s in SCENARIOS)
        for s in SCENARIOS:
            print(f"{s.name:<{width}}  {s.title}")
        return 0
    scenario = by_name(args.name)
    if scenario is None:
        print(f"synack: no scenario named {args.name!r}; try --list", file=sys.stderr)
        return 2
    result = scenario.run(seed=args.seed)
    print(result.report(pcap=args.pcap), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
