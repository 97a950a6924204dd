#!/usr/bin/env bash
# test.sh - install what is needed, build, and run the whole test suite:
#   1. the default build (gcc, debugoptimized): every test,
#   2. under AddressSanitizer + UndefinedBehaviorSanitizer: the C tests, the
#      simulator's fixed seeds and a chosen set of the multi-process tests,
#   3. every libFuzzer target for a short bounded run (clang; only the
#      fuzz targets are built),
#   4. the packagers' builds, buildtype plain and release: built, plus the
#      kernel's tests (the code whose speed depends on the optimiser); the
#      plain one also the generated tables' slow check (suite 'plain-only').
# Every build here treats warnings as errors (-Dwerror=true); the project's
# defaults do not, so a distribution's own flags and compilers build it.
# Ends with one line "mesh: N passed, N failed, N skipped".
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/contrib/deps.sh" test || exit 1
cd "$top"
# promtool, unpacked from Debian's prometheus package (never installed).
MESH_PROMTOOL=$("$top/contrib/promtool.sh") || echo "promtool unavailable: its test will skip"
export MESH_PROMTOOL

not_built=0  # builds that did not compile: their tests never ran
logs=()      # the test logs of this run, for tests/lib/test_summary.py

run_suite() { # run_suite NAME BUILDDIR [meson setup args...] -- [meson test args...]
    local name="$1" dir="$2"
    shift 2
    local setup=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do setup+=("$1"); shift; done
    [ "${1:-}" = -- ] && shift
    echo "== $name"
    local t0=$SECONDS
    if [ ! -d "$dir" ]; then
        meson setup "$dir" -Dwerror=true "${setup[@]}" >"$dir.setup.log" 2>&1 ||
            { cat "$dir.setup.log"; not_built=$((not_built + 1)); return; }
    fi
    # only_tests=1: a tree another stage compiles whole builds only what
    # its tests need (tests/lib/stage_targets.py).
    local targets=()
    if [ -n "${only_tests:-}" ]; then
        mapfile -t targets < <(python3 "$top/tests/lib/stage_targets.py" "$dir" "$@")
        [ ${#targets[@]} -eq 0 ] &&
            { echo "no tests selected in $dir"; not_built=$((not_built + 1)); return; }
    fi
    if ! ninja -C "$dir" "${targets[@]}" >"$dir.build.log" 2>&1; then
        tail -50 "$dir.build.log"
        not_built=$((not_built + 1))
        return
    fi
    local t1=$SECONDS
    meson test -C "$dir" --no-rebuild --print-errorlogs "$@"
    # Where the wall time goes, stage by stage (issue 18).
    echo "== $name: built in $((t1 - t0)) s, tested in $((SECONDS - t1)) s"
    [ -f "$dir/meson-logs/testlog.json" ] && logs+=("$dir/meson-logs/testlog.json")
}

# sim-random: a bounded batch of random simulator seeds, in the default build
# only (the sanitizer build gets through too few of them to matter).
run_suite "default build (debugoptimized)" build-test -- --no-suite fuzz --no-suite plain-only
# Under the sanitizers: every C test and the simulator's fixed seeds, and of
# the multi-process tests the set tests/meson.build names (asan_e2e, and
# there how it was chosen); the others are suite 'default-only'.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    LSAN_OPTIONS=suppressions="$top/tests/lib/lsan.supp" \
    run_suite "asan+ubsan build" build-test-asan -Db_sanitize=address,undefined \
    -Db_lundef=false -- --no-suite fuzz --no-suite sim-random --no-suite slow \
    --no-suite default-only --no-suite plain-only --timeout-multiplier 3
# The fuzz targets only: every other build compiles the whole tree.
CC=clang only_tests=1 run_suite "fuzz (libFuzzer, bounded)" build-test-fuzz -Dfuzz=true \
    -Db_sanitize=address,undefined -Db_lundef=false -- --suite fuzz

run_suite "plain build (packager flags only)" build-test-plain --buildtype=plain -- \
    --suite factor --no-suite slow
run_suite "release build" build-test-release --buildtype=release -- \
    --suite factor --suite install --no-suite slow --no-suite plain-only

# Failures again, at the end, where a CI log that keeps only its tail shows
# them; then the counts.
python3 "$top/tests/lib/test_summary.py" --not-built "$not_built" "${logs[@]}"
