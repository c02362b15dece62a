"""``synack packetdrill``: run scripts and print packetdrill-style reports."""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

from synack.packetdrill.options import RunOptions
from synack.packetdrill.result import ScriptResult, summary
from synack.packetdrill.suite import list_scripts, run_file


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("scripts", nargs="*", metavar="SCRIPT", help="packetdrill scripts to run")
    p.add_argument(
        "--summary",
        metavar="LIST_OR_DIR",
        help="run every script a LIST file names (or every .pkt under a folder) and print "
        "one line per script and 'N passed, M failed'",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="print every packet in and out")
    p.add_argument(
        "-D",
        "--define",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="define a symbol, as packetdrill's --define",
    )
    p.add_argument("--tolerance_usecs", type=int, help="timing tolerance (default 4000)")
    p.add_argument(
        "--strict_segments", action="store_true", help="do not join consecutive segments"
    )


def _options(args: argparse.Namespace) -> RunOptions:
    opts = RunOptions(verbose=args.verbose)
    for d in args.define:
        opts.overrides.append(("define", d))
        key, _, val = d.partition("=")
        opts.defines[key] = val
    if args.tolerance_usecs is not None:
        opts.overrides.append(("tolerance_usecs", str(args.tolerance_usecs)))
    if args.strict_segments:
        opts.overrides.append(("strict_segments", None))
    return opts


def run(args: argparse.Namespace) -> int:
    """Exit status 0 when every script passed, 1 otherwise, 2 for bad usage."""
    if not args.scripts and not args.summary:
        print("synack packetdrill: give SCRIPT... or --summary LIST_OR_DIR", file=sys.stderr)
        return 2
    base = _options(args)
    results: list[ScriptResult] = []
    for path in [Path(s) for s in args.scripts]:
        result = run_file(path, copy.deepcopy(base))
        results.append(result)
        print(result.report(verbose=args.verbose))
    if args.summary:
        root = Path(args.summary)
        folder = root if root.is_dir() else root.parent
        for path in list_scripts(root):
            result = run_file(path, copy.deepcopy(base))
            results.append(result)
            name = path.relative_to(folder) if path.is_relative_to(folder) else path
            if result.passed:
                print(f"PASS {name}")
            else:
                print(f"FAIL {name}: {result.reason}")
                if args.verbose:
                    print(result.report(verbose=True))
        print(summary(results))
    return 0 if all(r.passed for r in results) else 1
