#!/usr/bin/env bash
# Runs the VM's tests (interpreter, heap/GC, format, verifier) under AddressSanitizer, on the
# nightly toolchain, in a separate target directory so the normal build stays warm.
#
#   scripts/asan.sh [extra cargo test args]     e.g. scripts/asan.sh --test interp_gc
#
# rvm contains no `unsafe` code of its own (clippy's `undocumented_unsafe_blocks` is denied,
# so any future block must carry a `// SAFETY:` comment); this checks the dependencies and
# the standard library paths the VM drives. The fuzz targets (fuzz/run.sh) are built with
# ASan too, so every fuzzing run is also an ASan run.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
rustup component add rust-src --toolchain nightly >/dev/null 2>&1 || true
host=$(rustc +nightly -vV | sed -n 's/^host: //p')
export RUSTFLAGS="-Zsanitizer=address"
export RUSTDOCFLAGS="-Zsanitizer=address"
export ASAN_OPTIONS="detect_leaks=1:detect_stack_use_after_return=1"
# Leaks of thread-local test-harness state are not ours.
export LSAN_OPTIONS="suppressions=$(pwd)/scripts/lsan.supp"
exec cargo +nightly test -p rvm-vm --target "$host" --target-dir target/asan --lib --tests "$@"
