#!/usr/bin/env bash
# Cross-architecture test: the same bytecode, compiled once on this (x86_64) machine, must
# give the same standard output, standard error and exit code when run by an `rvm` built
# for another architecture (today: aarch64, under qemu-user), under every `--jit` mode.
#
#   scripts/cross-test.sh [aarch64]          install what is missing, build, run, compare
#   scripts/cross-test.sh --install-only     only the installs (idempotent)
#
# What it does:
#   1. installs, only when missing: the Rust target (rustup), the cross linker and qemu
#      (Debian: gcc-aarch64-linux-gnu, qemu-user); a failed install is a loud error naming
#      what failed, never a silent pass;
#   2. builds `rvm`/`rvmc` for the host and `rvm` for the target with the same cargo
#      profile (`cross`, see Cargo.toml), the target one into target/cross so normal
#      builds are untouched; the linker and runner come from environment variables set
#      here, not from a committed .cargo/config.toml;
#   3. compiles every test program (tests/programs/**/*.src, without the `lib/` helper
#      folders) and every benchmark (benches/programs/*.src) ONCE, on the host, to `.bc`;
#      programs that must not compile (`// error:` comments) are checked to be rejected
#      (exit code 65) and have nothing to run;
#   3. checks that the target `rvm` compiles to native $ARCH code (`--trace-jit`);
#   4. runs each `.bc` with the host `rvm` and with the target `rvm` under qemu, under
#      --jit=off, --jit=always and --jit=auto, with the program's `// args:` (benchmarks:
#      the small sizes of benches/programs/expected/) and no standard input;
#   5. compares stdout, stderr and exit code exactly, prints a programs x modes table
#      and exits non-zero, with the differences, if any run differs.
#
# Environment: CROSS_TEST_JOBS (parallel runs, default 2), CROSS_TEST_FILTER (substring
# of the program path, for local use), CROSS_TEST_TIMEOUT (seconds per run, default 300).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

INSTALL_ONLY=0
ARCH=aarch64
for a in "$@"; do
  case "$a" in
    --install-only) INSTALL_ONLY=1 ;;
    -h | --help) sed -n '2,30p' "$0"; exit 0 ;;
    aarch64) ARCH=$a ;;
    *) echo "cross-test: unknown argument '$a' (supported architectures: aarch64)" >&2; exit 64 ;;
  esac
done

case "$ARCH" in
  aarch64)
    TRIPLE=aarch64-unknown-linux-gnu
    CROSS_GCC=aarch64-linux-gnu-gcc
    QEMU=qemu-aarch64
    SYSROOT=/usr/aarch64-linux-gnu
    APT_PACKAGES="gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user"
    ;;
esac
TRIPLE_ENV=$(echo "$TRIPLE" | tr 'a-z-' 'A-Z_')
PROFILE=cross
JOBS=${CROSS_TEST_JOBS:-2}
RUN_TIMEOUT=${CROSS_TEST_TIMEOUT:-300}
FILTER=${CROSS_TEST_FILTER:-}
MODES="off always auto"

fail() {
  echo >&2
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
  echo "!! cross-test FAILED: $*" >&2
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
  exit 1
}

now() { date +%s; }
T_START=$(now)
step() { echo "== cross-test [$(($(now) - T_START))s] $*"; }

# ---------------------------------------------------------------------------------------
# 1. Installs (each only when missing).
# ---------------------------------------------------------------------------------------
install_rust_target() {
  command -v rustup >/dev/null || fail "rustup is not installed: cannot add the Rust target $TRIPLE"
  if rustup target list --installed | grep -qx "$TRIPLE"; then
    echo "rust target $TRIPLE: present"
  else
    step "rustup target add $TRIPLE"
    rustup target add "$TRIPLE" || fail "could not install the Rust target $TRIPLE (rustup target add $TRIPLE)"
  fi
}

have_system_tools() {
  command -v "$CROSS_GCC" >/dev/null && command -v "$QEMU" >/dev/null &&
    [ -e "$SYSROOT/lib/crti.o" ] && [ -e "$SYSROOT/lib/ld-linux-$ARCH.so.1" ]
}

install_system_tools() {
  if have_system_tools; then
    echo "system tools ($CROSS_GCC, $QEMU, $SYSROOT): present"
    return
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
      sudo="sudo -n"
    else
      fail "missing $CROSS_GCC / $QEMU and not root (and no password-less sudo): cannot install Debian packages: $APT_PACKAGES"
    fi
  fi
  command -v apt-get >/dev/null || fail "missing $CROSS_GCC / $QEMU and no apt-get to install: $APT_PACKAGES"
  step "apt-get update && apt-get install -y $APT_PACKAGES"
  $sudo apt-get update -qq || fail "apt-get update failed (needed to install: $APT_PACKAGES)"
  # shellcheck disable=SC2086 # the package list is meant to split
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $APT_PACKAGES \
    || fail "apt-get install failed for: $APT_PACKAGES"
  have_system_tools || fail "after installing $APT_PACKAGES, still missing one of: $CROSS_GCC, $QEMU, $SYSROOT/lib/crti.o, $SYSROOT/lib/ld-linux-$ARCH.so.1"
}

install_rust_target
install_system_tools
if [ "$INSTALL_ONLY" = 1 ]; then
  step "installs done"
  exit 0
fi

# ---------------------------------------------------------------------------------------
# 2. Builds: host and target with the same profile, both under target/cross.
# ---------------------------------------------------------------------------------------
export "CARGO_TARGET_${TRIPLE_ENV}_LINKER=$CROSS_GCC"
export "CARGO_TARGET_${TRIPLE_ENV}_RUNNER=$QEMU -L $SYSROOT"
TARGET_DIR=$ROOT/target/cross
step "cargo build --profile $PROFILE (host: $(uname -m))"
cargo build --profile "$PROFILE" --target-dir "$TARGET_DIR" --bin rvm --bin rvmc \
  || fail "the host build of rvm/rvmc failed"
step "cargo build --profile $PROFILE --target $TRIPLE"
cargo build --profile "$PROFILE" --target-dir "$TARGET_DIR" --target "$TRIPLE" --bin rvm --bin rvmc \
  || fail "the cross build of rvm/rvmc for $TRIPLE failed (linker: $CROSS_GCC)"
HOST_RVM=$TARGET_DIR/$PROFILE/rvm
HOST_RVMC=$TARGET_DIR/$PROFILE/rvmc
TARGET_RVM=$TARGET_DIR/$TRIPLE/$PROFILE/rvm
TARGET_RVMC=$TARGET_DIR/$TRIPLE/$PROFILE/rvmc
HOST_ARCH=$(uname -m)
[ "$HOST_ARCH" != "$ARCH" ] || fail "the host is already $ARCH: nothing to cross-test"
file_arch=$(od -An -tx1 -j18 -N2 "$TARGET_RVM" | tr -d ' ')
[ "$file_arch" = "b700" ] || fail "$TARGET_RVM is not an $ARCH ELF file (e_machine $file_arch)"
smoke=$("$QEMU" -L "$SYSROOT" "$TARGET_RVM" --version 2>&1) \
  || fail "$QEMU cannot run $TARGET_RVM: $smoke"
echo "host:   $HOST_ARCH $("$HOST_RVM" --version)"
echo "target: $ARCH $smoke (under $QEMU $("$QEMU" --version | head -1 | sed 's/.*version //'))"

# ---------------------------------------------------------------------------------------
# 3. The JIT half: the target `rvm` must really compile to $ARCH code under qemu, so that a
#    silent fallback to the interpreter fails this script. `--trace-jit` names the tier's
#    ISA once and prints one line per compiled function; under `--jit=always` every
#    function of the program must be compiled (and the program must still print its
#    result).
# ---------------------------------------------------------------------------------------
jit_check() {
  local dir=$TARGET_DIR/jit-check out err
  mkdir -p "$dir"
  printf 'fn sq(x: int) -> int {\n    return x * x;\n}\nfn main() {\n    var s = 0;\n    for i in 0..1000 {\n        s += sq(i);\n    }\n    println(s);\n}\n' >"$dir/jit.src"
  out=$("$QEMU" -L "$SYSROOT" "$TARGET_RVM" --jit=always --trace-jit "$dir/jit.src" 2>"$dir/jit.err") \
    || fail "the $ARCH rvm failed under --jit=always: $(cat "$dir/jit.err")"
  err=$(cat "$dir/jit.err")
  [ "$out" = "332833500" ] || fail "JIT check: wrong output under --jit=always on $ARCH: $out"
  grep -Eq "^jit: tier cranelift $ARCH(, .*)?\$" <<<"$err" \
    || fail "JIT check: the $ARCH rvm did not report a cranelift $ARCH tier: $err"
  for f in main sq; do
    grep -q "^jit: compiled $f (" <<<"$err" \
      || fail "JIT check: $f was not compiled on $ARCH: $err"
  done
  if grep -q "^jit: cannot compile" <<<"$err"; then
    fail "JIT check: a function fell back to the interpreter on $ARCH: $err"
  fi
  echo "JIT: cranelift emitted $ARCH code under qemu ($(grep -c '^jit: compiled' <<<"$err") functions compiled)"
}
jit_check

# ---------------------------------------------------------------------------------------
# 4. Compile every program once, on the host.
# ---------------------------------------------------------------------------------------
WORK=$TARGET_DIR/run
rm -rf "$WORK"
mkdir -p "$WORK/bc" "$WORK/meta" "$WORK/out"

# One id per program: its path with `/` as `__`. meta/ID.src is the path, meta/ID.args
# the arguments (one line), meta/ID.kind `run` or `reject`.
ids=()
add_program() { # path kind args
  local id=${1//\//__}
  id=${id%.src}
  printf '%s\n' "$1" >"$WORK/meta/$id.src"
  printf '%s\n' "$3" >"$WORK/meta/$id.args"
  printf '%s\n' "$2" >"$WORK/meta/$id.kind"
  ids+=("$id")
}
while IFS= read -r src; do
  [[ "$src" == *"$FILTER"* ]] || continue
  if grep -q '// error:' "$src"; then
    add_program "$src" reject ""
  else
    args=$(grep -o '// args:.*' "$src" | tail -1 | sed 's|// args:||') || true
    add_program "$src" run "$args"
  fi
done < <(find tests/programs -name lib -prune -o -name '*.src' -print | LC_ALL=C sort)
# Benchmarks at the small sizes whose expected outputs tests/benches.rs checks.
for src in benches/programs/*.src; do
  [[ "$src" == *"$FILTER"* ]] || continue
  bench=$(basename "$src" .src)
  exp=""
  for f in benches/programs/expected/"$bench".txt benches/programs/expected/"$bench"-*.txt; do
    [ -e "$f" ] && { exp=$(basename "$f"); break; }
  done
  [ -n "$exp" ] || fail "no small-size expected output for $src in benches/programs/expected/"
  n=${exp#"$bench"}
  n=${n#-}
  n=${n%.txt}
  add_program "$src" run "$n"
done
[ "${#ids[@]}" -gt 0 ] || fail "no programs found (filter: '$FILTER')"

step "compiling ${#ids[@]} programs once with the host rvmc"
compile_failures=0
for id in "${ids[@]}"; do
  src=$(cat "$WORK/meta/$id.src")
  if [ "$(cat "$WORK/meta/$id.kind")" = run ]; then
    if ! "$HOST_RVMC" build --color=never "$src" -o "$WORK/bc/$id.bc" >"$WORK/out/$id.build" 2>&1; then
      echo "rvmc build failed for $src:"; sed 's/^/    /' "$WORK/out/$id.build"
      compile_failures=$((compile_failures + 1))
    fi
  fi
done
[ "$compile_failures" = 0 ] || fail "$compile_failures programs did not compile on the host"

# ---------------------------------------------------------------------------------------
# 5. Run on both architectures, JOBS programs at a time.
# ---------------------------------------------------------------------------------------
# Writes out/ID.ARCH.MODE.{out,err,code}. For programs that must not compile, `rvmc check`
# runs on both architectures instead (mode `check`): the diagnostics must agree.
run_one() {
  local id=$1 src args kind mode
  src=$(cat "$WORK/meta/$id.src")
  kind=$(cat "$WORK/meta/$id.kind")
  read -r -a args <"$WORK/meta/$id.args" || true
  local o=$WORK/out/$id
  if [ "$kind" = reject ]; then
    local check=(check --message-format=short --color=never "$src")
    { timeout --verbose "$RUN_TIMEOUT" "$HOST_RVMC" "${check[@]}" </dev/null >"$o.host.check.out" 2>"$o.host.check.err"; echo $? >"$o.host.check.code"; } || true
    { timeout --verbose "$RUN_TIMEOUT" "$QEMU" -L "$SYSROOT" "$TARGET_RVMC" "${check[@]}" </dev/null >"$o.target.check.out" 2>"$o.target.check.err"; echo $? >"$o.target.check.code"; } || true
    return 0
  fi
  # The compiler must be deterministic across architectures too: the target's rvmc
  # must produce the same bytes.
  timeout --verbose "$RUN_TIMEOUT" "$QEMU" -L "$SYSROOT" "$TARGET_RVMC" build --color=never "$src" \
    -o "$WORK/bc/$id.target.bc" </dev/null >"$o.target.build" 2>&1 || true
  if cmp -s "$WORK/bc/$id.bc" "$WORK/bc/$id.target.bc"; then
    echo same >"$o.bytecode"
  else
    echo DIFFERENT >"$o.bytecode"
  fi
  for mode in $MODES; do
    { timeout --verbose "$RUN_TIMEOUT" "$HOST_RVM" --jit="$mode" "$WORK/bc/$id.bc" "${args[@]}" </dev/null >"$o.host.$mode.out" 2>"$o.host.$mode.err"; echo $? >"$o.host.$mode.code"; } || true
    { timeout --verbose "$RUN_TIMEOUT" "$QEMU" -L "$SYSROOT" "$TARGET_RVM" --jit="$mode" "$WORK/bc/$id.bc" "${args[@]}" </dev/null >"$o.target.$mode.out" 2>"$o.target.$mode.err"; echo $? >"$o.target.$mode.code"; } || true
  done
}
export -f run_one
export WORK RUN_TIMEOUT HOST_RVM HOST_RVMC TARGET_RVM TARGET_RVMC QEMU SYSROOT MODES

step "running ${#ids[@]} programs x {$MODES} on $HOST_ARCH and on $ARCH (qemu), $JOBS at a time"
printf '%s\n' "${ids[@]}" | xargs -P "$JOBS" -I{} bash -c 'run_one "$1"' _ {}

# ---------------------------------------------------------------------------------------
# 6. Compare and report.
# ---------------------------------------------------------------------------------------
step "comparing"
# equal | DIFFERENT | CRASH (equal, but a panic, signal or timeout is never a pass)
compare() { # id mode
  local o=$WORK/out/$1 m=$2 part code
  for part in out err code; do
    [ -e "$o.host.$m.$part" ] && [ -e "$o.target.$m.$part" ] || { echo MISSING; return; }
    cmp -s "$o.host.$m.$part" "$o.target.$m.$part" || { echo DIFFERENT; return; }
  done
  code=$(cat "$o.host.$m.code")
  # A program may exit with any code 0..=255 itself; a panic, a timeout or a fatal signal
  # is told apart by what it leaves on stderr (or by SIGABRT/SIGSEGV's codes).
  if grep -qE "panicked at|^timeout: |uncaught target signal" "$o.host.$m.err" "$o.target.$m.err" ||
    [ "$code" = 134 ] || [ "$code" = 139 ]; then
    echo CRASH
  elif [ "$m" = check ] && [ "$code" != 65 ]; then
    echo NOT-REJECTED
  else
    echo equal
  fi
}
show_diff() { # id mode
  local o=$WORK/out/$1 m=$2 part
  echo "---- $(cat "$WORK/meta/$1.src") $(cat "$WORK/meta/$1.args") [$m]"
  if [ "$m" = bytecode ]; then
    echo "  rvmc on $ARCH wrote different bytecode; its output:"
    sed 's/^/    /' "$o.target.build"
    cmp "$WORK/bc/$1.bc" "$WORK/bc/$1.target.bc" 2>&1 | sed 's/^/    /' || true
    return
  fi
  for part in code out err; do
    if ! cmp -s "$o.host.$m.$part" "$o.target.$m.$part" 2>/dev/null || [ "$part" = code ]; then
      echo "  $part ($HOST_ARCH --- / $ARCH +++):"
      diff -u --label "$HOST_ARCH" --label "$ARCH" "$o.host.$m.$part" "$o.target.$m.$part" \
        | head -40 | sed 's/^/    /' || true
    fi
  done
}

runs=0 equal=0 bad=0 rejected=0 ran_programs=0 same_bc=0
bad_list=()
printf '%-58s %-10s %-10s %-10s %s\n' "program (args)" off always auto "rvmc on $ARCH"
for id in "${ids[@]}"; do
  src=$(cat "$WORK/meta/$id.src")
  args=$(cat "$WORK/meta/$id.args")
  label="$src${args:+ ($args)}"
  if [ "$(cat "$WORK/meta/$id.kind")" = reject ]; then
    r=$(compare "$id" check)
    runs=$((runs + 1))
    if [ "$r" = equal ]; then
      equal=$((equal + 1)) rejected=$((rejected + 1))
      printf '%-58s %s\n' "$label" "rejected alike (rvmc check, same diagnostics)"
    else
      bad=$((bad + 1)) bad_list+=("$id check")
      printf '%-58s %s\n' "$label" "rvmc check: $r"
    fi
    continue
  fi
  ran_programs=$((ran_programs + 1))
  row=()
  for mode in $MODES; do
    r=$(compare "$id" "$mode")
    runs=$((runs + 1))
    if [ "$r" = equal ]; then
      equal=$((equal + 1))
    else
      bad=$((bad + 1)) bad_list+=("$id $mode")
    fi
    row+=("$r")
  done
  bc=$(cat "$WORK/out/$id.bytecode")
  runs=$((runs + 1))
  if [ "$bc" = same ]; then
    equal=$((equal + 1)) same_bc=$((same_bc + 1))
  else
    bad=$((bad + 1)) bad_list+=("$id bytecode")
  fi
  printf '%-58s %-10s %-10s %-10s %s\n' "$label" "${row[@]}" "$bc .bc"
done

if [ "$bad" -gt 0 ]; then
  echo
  echo "== differences"
  for entry in "${bad_list[@]}"; do
    # shellcheck disable=SC2086 # "id mode"
    show_diff $entry
  done
fi

elapsed=$(($(now) - T_START))
echo
echo "cross-test $HOST_ARCH vs $ARCH (qemu), in ${elapsed}s:"
echo "  $ran_programs programs x 3 modes (off always auto): $((ran_programs * 3)) runs compared (stdout, stderr, exit code)"
echo "  $same_bc/$ran_programs programs compiled to identical bytecode by rvmc on $ARCH"
echo "  $rejected compile-error programs rejected alike by rvmc check on both"
echo "cross-test: $equal passed, $bad failed"
[ "$bad" = 0 ] || fail "$bad of $runs runs differ between $HOST_ARCH and $ARCH (or crashed); see the differences above"
