#!/usr/bin/env python3
"""Interleaved timing of rvm against native Rust on the numeric benchmarks (the JIT goal).

    scripts/bench-interleaved.py [--runs N] [--benches fib,loop] [--baseline OTHER_RVM]

`scripts/bench-peers.sh` times each runtime's runs back to back, so on a machine whose
speed drifts from minute to minute (a shared VM) two runtimes' medians can come from
different conditions. Here each round runs every command once, in turn, so all medians
cover the same stretch of time; the ratio of medians is then a fair comparison. With
`--baseline`, another rvm binary (an older build, say) is timed in the same rounds.

Uses what `scripts/bench-peers.sh` built in `target/peers/build`: the Rust binaries and
the benchmarks compiled to bytecode. Prints a Markdown table.
"""

import argparse
import math
import os
import statistics
import subprocess
import sys
import time

# The harness's default sizes (shared/bench/peers/run.sh).
SIZES = {
    "fib": 32,
    "loop": 100000000,
    "nbody": 1000000,
    "spectralnorm": 1000,
    "mandelbrot": 1000,
    "fannkuch": 10,
}


def timed(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main():
    root = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=True
    ).stdout.strip()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=15, help="rounds (default 15)")
    ap.add_argument("--benches", default=",".join(SIZES), help="comma-separated")
    ap.add_argument("--rvm", default=os.path.join(root, "target/release/rvm"))
    ap.add_argument("--baseline", help="another rvm binary to time in the same rounds")
    args = ap.parse_args()
    build = os.path.join(root, "target/peers/build")

    header = "| bench | N | rust | rvm | ratio |"
    rule = "|---|---:|---:|---:|---:|"
    if args.baseline:
        header += " baseline | ratio |"
        rule += "---:|---:|"
    print(header)
    print(rule)
    logs = {"rvm": [], "baseline": []}
    for bench in args.benches.split(","):
        n = str(SIZES[bench])
        bc = os.path.join(build, "rvm", bench + ".bc")
        cmds = {"rust": [os.path.join(build, "rust", bench), n], "rvm": [args.rvm, bc, n]}
        if args.baseline:
            cmds["baseline"] = [args.baseline, bc, n]
        times = {k: [] for k in cmds}
        for _ in range(args.runs):
            for k, cmd in cmds.items():
                times[k].append(timed(cmd))
        med = {k: statistics.median(v) for k, v in times.items()}
        row = f"| {bench} | {n} | {med['rust']:.4f} | {med['rvm']:.4f} | {med['rvm'] / med['rust']:.2f} |"
        logs["rvm"].append(math.log(med["rvm"] / med["rust"]))
        if args.baseline:
            row += f" {med['baseline']:.4f} | {med['baseline'] / med['rust']:.2f} |"
            logs["baseline"].append(math.log(med["baseline"] / med["rust"]))
        print(row, flush=True)
    geo = lambda xs: math.exp(sum(xs) / len(xs))
    row = f"| **geomean** | | | | **{geo(logs['rvm']):.2f}** |"
    if args.baseline:
        row += f" | **{geo(logs['baseline']):.2f}** |"
    print(row)


if __name__ == "__main__":
    sys.exit(main())
