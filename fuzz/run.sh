#!/usr/bin/env bash
# Runs rvm's fuzz targets with cargo-fuzz (libFuzzer, nightly toolchain).
#
#   fuzz/run.sh [SECONDS] [TARGET...]      default: 600 seconds each, every target
#
# Targets: load (bytes → decode → verify → run), roundtrip (structured modules → encode →
# decode), compile (source bytes → rvmc front end, checker, codegen, verifier), difftest
# (bytes → a generated well-typed program, run under every --jit mode; tests/difftest/).
# One target at a time, one libFuzzer process (the machine is shared). The corpus is kept
# in fuzz/corpus/TARGET (seeded from tests/programs on the first run) so later runs start
# where earlier ones stopped. Any crash, timeout or out-of-memory input is copied to
# tests/fuzz-regressions/TARGET/, where `cargo test --test hostile_regressions` replays it:
# fix the bug, keep the file. Execution counts are appended to fuzz/stats.log.
set -euo pipefail

secs=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(load roundtrip compile difftest)

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

seed() {
    local target=$1 dir=fuzz/corpus/$1
    mkdir -p "$dir"
    [ -n "$(ls -A "$dir")" ] && return 0
    case $target in
        load)
            cargo build -q --bin rvmc
            local n=0
            while IFS= read -r src; do
                n=$((n + 1))
                ./target/debug/rvmc build "$src" -o "$dir/seed-$n.bc" >/dev/null 2>&1 || true
            done < <(find tests/programs examples -name '*.src' | sort)
            ;;
        compile)
            local n=0
            while IFS= read -r src; do
                n=$((n + 1))
                cp "$src" "$dir/seed-$n.src"
            done < <(find tests/programs examples -name '*.src' | sort)
            ;;
        roundtrip | difftest) ;;
    esac
}

for target in "${targets[@]}"; do
    seed "$target"
    mkdir -p "fuzz/artifacts/$target" "tests/fuzz-regressions/$target"
    log=fuzz/artifacts/$target/last-run.log
    echo "fuzzing $target for ${secs}s (log: $log)"
    status=0
    (cd fuzz && cargo +nightly fuzz run "$target" "corpus/$target" -- \
        -max_total_time="$secs" -timeout=20 -rss_limit_mb=3072 -malloc_limit_mb=3072 \
        -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="artifacts/$target/") >"$log" 2>&1 || status=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    echo "$(date -u +%FT%TZ) $target ${secs}s execs=$execs exit=$status" >>fuzz/stats.log
    tail -n 3 "$log"
    for f in fuzz/artifacts/"$target"/{crash,timeout,oom,leak}-*; do
        [ -e "$f" ] || continue
        cp "$f" "tests/fuzz-regressions/$target/"
        echo "FINDING: $f (copied to tests/fuzz-regressions/$target/)"
    done
done
