#!/usr/bin/env bash
# Regenerates benches/programs/expected/<bench>-<N>.txt, the outputs of the benchmark ports
# at the small sizes used by `cargo test --test benches`, from the Rust peer programs
# (../shared/bench/peers/rust, compiled with rustc -O). Run it after changing a size.
set -euo pipefail

ROOT=$(git rev-parse --show-toplevel)
# shared/ sits next to the repository (or next to the folder of worktrees).
if [ -z "${PEERS:-}" ]; then
  for cand in "$ROOT/../shared" "$ROOT/../../shared"; do
    [ -d "$cand/bench/peers" ] && { PEERS=$(cd "$cand/bench/peers" && pwd); break; }
  done
fi
[ -n "${PEERS:-}" ] || { echo "cannot find shared/bench/peers; set PEERS=" >&2; exit 1; }
OUT=$ROOT/benches/programs/expected
BUILD=$ROOT/target/peers-small
mkdir -p "$OUT" "$BUILD"

# Keep in sync with SIZES in tests/benches.rs.
SIZES="startup:- fib:20 loop:100000 nbody:1000 spectralnorm:100 mandelbrot:200 fannkuch:7 binarytrees:8 sieve:100000 strings:10000 hashmap:10000"

for entry in $SIZES; do
  bench=${entry%%:*}
  n=${entry#*:}
  rustc -O -o "$BUILD/$bench" "$PEERS/rust/$bench.rs"
  if [ "$n" = "-" ]; then
    "$BUILD/$bench" > "$OUT/$bench.txt"
  else
    "$BUILD/$bench" "$n" > "$OUT/$bench-$n.txt"
  fi
  echo "$bench ${n}: $(head -c 60 "$OUT/$bench"*.txt | tr '\n' ' ')"
done
