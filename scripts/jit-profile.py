#!/usr/bin/env python3
"""Per-instruction profile of JIT code: which machine instructions of which compiled
function run how often, counted by callgrind (exact and noise-free, unlike timers).

    scripts/jit-profile.py [--min N] [--func K] -- RVM_BIN ARGS...
    scripts/jit-profile.py --min 100000 -- target/release/rvm --jit=always nbody.bc 100000

Runs the command under `valgrind --tool=callgrind --dump-instr=yes` with
`RVM_JIT_DUMP` set to a temporary folder (the JIT writes each function's machine code
there as `f<index>-<address>.bin`), then disassembles each function with objdump at its
real address and prints every instruction executed at least `--min` times with its count.
Needs valgrind and binutils (x86_64 hosts).
"""

import argparse
import collections
import glob
import os
import re
import subprocess
import sys
import tempfile

POSITION = re.compile(r"^(0x[0-9a-f]+|\+\d+|-\d+|\*)\s+(\S+)\s+(\d+)")


def counts(callgrind_out):
    """Self cost (instructions executed) per instruction address."""
    per_addr = collections.Counter()
    addr = 0
    after_calls = False
    with open(callgrind_out) as f:
        for line in f:
            if line.startswith("calls="):
                after_calls = True  # the next cost line is the call's inclusive cost
                continue
            m = POSITION.match(line)
            if not m:
                continue
            pos = m.group(1)
            if pos.startswith("0x"):
                addr = int(pos, 16)
            elif pos[0] in "+-":
                addr += int(pos)
            if after_calls:
                after_calls = False
                continue
            per_addr[addr] += int(m.group(3))
    return per_addr


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--min", type=int, default=1000, help="show instructions run this often")
    ap.add_argument("--func", type=int, help="only this function index")
    ap.add_argument("command", nargs="+")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        env = dict(os.environ, RVM_JIT_DUMP=tmp)
        run = subprocess.run(
            ["valgrind", "--tool=callgrind", "--dump-instr=yes", f"--callgrind-out-file={out}"]
            + args.command,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        total = re.search(r"refs:\s+([\d,]+)", run.stderr)
        print(f"total instructions: {total.group(1) if total else '?'}")
        per_addr = counts(out)
        for path in sorted(glob.glob(os.path.join(tmp, "f*-*.bin"))):
            name = os.path.basename(path)[: -len(".bin")]
            index, base = name[1:].split("-")
            if args.func is not None and int(index) != args.func:
                continue
            base = int(base, 16)
            end = base + os.path.getsize(path)
            inside = sum(c for a, c in per_addr.items() if base <= a < end)
            if inside == 0:
                continue
            print(f"\n== function {index} at {base:#x}: {inside:,} instructions executed")
            listing = subprocess.run(
                ["objdump", "-D", "-b", "binary", "-mi386:x86-64", f"--adjust-vma={base:#x}", path],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            for line in listing.splitlines():
                m = re.match(r"\s*([0-9a-f]+):\s+(.*)", line)
                if not m:
                    continue
                count = per_addr.get(int(m.group(1), 16), 0)
                if count >= args.min:
                    print(f"{count:>12,}  {m.group(1)}  {m.group(2).split(chr(9))[-1]}")
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
