#!/usr/bin/env bash
# Runs the interpreter's tests under Miri (undefined-behaviour checker), nightly toolchain.
#
#   scripts/miri.sh [extra cargo miri test args]     default: interp_basic and interp_opcodes
#
# Miri is ~1000x slower than native, so the default is the two fast interpreter suites;
# pass e.g. `--test interp_gc` for more. Tests that measure time or run huge programs
# are skipped under Miri by their own `cfg(miri)` checks where needed.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
rustup component add miri rust-src --toolchain nightly
cargo +nightly miri setup
export MIRIFLAGS="${MIRIFLAGS:--Zmiri-disable-isolation}"
if [ $# -eq 0 ]; then
    set -- --test interp_basic --test interp_opcodes
fi
exec cargo +nightly miri test -p rvm-vm --target-dir target/miri "$@"
