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
# Builds 2-4, and stage 4's tests, run at nice 19 while stage 1's tests run
# (below, why); then stage 2's tests, then stage 3's.
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
testlogs=$top/build-test-logs.log  # the test logs of this run, one a line,
: >"$testlogs"                     # for tests/lib/test_summary.py

build_stage() { # build_stage NAME BUILDDIR [meson setup args...] -- [meson test args...]
    local name="$1" dir="$2"
    shift 2
    local setup=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do setup+=("$1"); shift; done
    [ "${1:-}" = -- ] && shift
    # A tree left by an earlier run: neither its "built" mark nor its tests'
    # log may count for this one.
    rm -f "$dir/.test-sh-built" "$dir/meson-logs/testlog.json"
    local t0=$SECONDS
    if [ ! -d "$dir" ]; then
        meson setup "$dir" -Dwerror=true "${setup[@]}" >"$dir.setup.log" 2>&1 ||
            { echo "== $name: setup failed"; cat "$dir.setup.log"; return; }
    fi
    # only_tests=1: a tree another stage compiles whole builds only what
    # its tests need (tests/lib/stage_targets.py).
    local targets=()
    if [ -n "${only_tests:-}" ]; then
        mapfile -t targets < <(python3 "$top/tests/lib/stage_targets.py" "$dir" "$@")
        [ ${#targets[@]} -eq 0 ] && { echo "== $name: no tests selected in $dir"; return; }
    fi
    if ! ninja -C "$dir" "${targets[@]}" >"$dir.build.log" 2>&1; then
        echo "== $name: build failed"
        tail -50 "$dir.build.log"
        return
    fi
    touch "$dir/.test-sh-built"
    # Where the wall time goes, stage by stage (issue 18).
    echo "== $name: built in $((SECONDS - t0)) s"
}

test_stage() { # test_stage NAME BUILDDIR [meson setup args...] -- [meson test args...]
    local name="$1" dir="$2"
    shift 2
    while [ $# -gt 0 ] && [ "$1" != -- ]; do shift; done
    [ "${1:-}" = -- ] && shift
    echo "== $name"
    if [ ! -f "$dir/.test-sh-built" ]; then
        echo "== $name: not built, no tests run"
        not_built=$((not_built + 1))
        return
    fi
    local t0=$SECONDS
    meson test -C "$dir" --no-rebuild --print-errorlogs "$@"
    echo "== $name: tested in $((SECONDS - t0)) s"
    [ -f "$dir/meson-logs/testlog.json" ] && echo "$dir/meson-logs/testlog.json" >>"$testlogs"
}

stage() { # stage NAME build_stage|test_stage: each stage's tree and options, once
    case "$1" in
    default)
        # sim-random: a bounded batch of random simulator seeds, in the
        # default build only (the sanitizer build gets through too few of
        # them to matter).
        "$2" "default build (debugoptimized)" build-test -- --no-suite fuzz \
            --no-suite plain-only ;;
    asan)
        # Under the sanitizers: every C test and the simulator's fixed
        # seeds, and of the multi-process tests the set tests/meson.build
        # names (asan_e2e, and there how it was chosen); the others are
        # suite 'default-only'.
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
            UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
            LSAN_OPTIONS=suppressions="$top/tests/lib/lsan.supp" \
            "$2" "asan+ubsan build" build-test-asan -Db_sanitize=address,undefined \
            -Db_lundef=false -- --no-suite fuzz --no-suite sim-random --no-suite slow \
            --no-suite default-only --no-suite plain-only --timeout-multiplier 3 ;;
    fuzz)
        # The fuzz targets only: every other build compiles the whole tree.
        CC=clang only_tests=1 "$2" "fuzz (libFuzzer, bounded)" build-test-fuzz \
            -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false -- --suite fuzz ;;
    plain)
        "$2" "plain build (packager flags only)" build-test-plain --buildtype=plain -- \
            --suite factor --no-suite slow ;;
    release)
        "$2" "release build" build-test-release --buildtype=release -- \
            --suite factor --suite install --no-suite slow --no-suite plain-only ;;
    esac
}

# The default stage's tests leave much of the two cores idle (its many
# multi-process tests wait on elections, timers and the network). The
# other four builds, and the plain and release builds' kernel tests (CPU
# bound, no time bounds), take that idle time meanwhile, at nice 19: the
# kernel gives a nice-0 test ~98.5% of a core against a nice-19 job
# (weights 1024 and 15), so a test's time bounds see them less than the
# other users of a shared host. The libFuzzer runs are bounded in time,
# so they run alone, last, as many inputs as before.
stage default build_stage
(
    renice -n 19 -p "$BASHPID" >/dev/null
    for s in asan fuzz plain release; do stage "$s" build_stage; done
    for s in plain release; do stage "$s" test_stage; done
    exit "$not_built"
) >build-test-overlap.log 2>&1 &
overlap=$!
stage default test_stage
wait "$overlap"
not_built=$((not_built + $?))
echo "== meanwhile, at nice 19:"
cat build-test-overlap.log
stage asan test_stage
stage fuzz test_stage

# Failures again, at the end, where a CI log that keeps only its tail shows
# them; then the counts.
mapfile -t logs <"$testlogs"
python3 "$top/tests/lib/test_summary.py" --not-built "$not_built" "${logs[@]}"
