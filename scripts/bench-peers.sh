#!/usr/bin/env bash
# Times the benchmark ports (benches/programs/*.src) against the peer runtimes (Lua, LuaJIT,
# CPython, Node, Java, Rust) with the shared harness, writing target/peers/results.md.
#
#   scripts/bench-peers.sh                          # everything
#   BENCHES="fib nbody" scripts/bench-peers.sh      # a subset (all knobs of run.sh apply)
set -euo pipefail

ROOT=$(git rev-parse --show-toplevel)
cd "$ROOT"

# shared/ sits next to the repository (or next to the folder of worktrees).
SHARED=""
for cand in "$ROOT/../shared" "$ROOT/../../shared"; do
  if [ -x "$cand/bench/peers/run.sh" ]; then SHARED=$(cd "$cand" && pwd); break; fi
done
[ -n "$SHARED" ] || { echo "bench-peers: cannot find shared/bench/peers/run.sh next to $ROOT" >&2; exit 1; }

# The harness needs hyperfine, lua5.4 and luajit; install what is missing.
missing=()
for tool in hyperfine lua5.4 luajit; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench-peers: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${missing[@]}"
fi

cargo build --release --bins
mkdir -p target/peers
RVM_BIN="$ROOT/target/release" RVM_SRC="$ROOT/benches/programs" WORK_DIR="$ROOT/target/peers" \
  "$SHARED/bench/peers/run.sh"
echo "results: $ROOT/target/peers/results.md"
