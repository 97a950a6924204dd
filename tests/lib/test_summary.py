#!/usr/bin/env python3
"""test_summary.py [--not-built N] TESTLOG.json... - the suite's closing
lines: every test that failed, with the end of its output, then
"mesh: N passed, N failed, N skipped".

contrib/test.sh prints this last. CI keeps only the tail of what the suite
printed, and meson prints a failure's log where it happens, in the middle of a
20-minute run: without the failures here, one seen only in CI cannot be named
(stop 15's CI run said "1 failed" and nothing more). --not-built counts the
builds that did not compile (their tests never ran) as failures.
"""
import json
import sys

PASSED = {"OK", "EXPECTEDFAIL"}
FAILED = {"FAIL", "TIMEOUT", "ERROR", "UNEXPECTEDPASS"}
SKIPPED = {"SKIP"}
TAIL_LINES = 40


def results(log_path):
    with open(log_path, encoding="utf-8", errors="replace") as log:
        for line in log:
            if line.strip():
                yield json.loads(line)


def report_failure(test, log_path):
    print("== FAILED %s (%s, %.1f s) in %s" % (test["name"], test["result"],
                                              test.get("duration", 0), log_path))
    for text in (test.get("stdout") or "").splitlines()[-TAIL_LINES:]:
        print("   " + text)


def main(argv):
    failed = 0
    if argv[:1] == ["--not-built"]:
        failed, argv = int(argv[1]), argv[2:]
    passed = skipped = 0
    for path in argv:
        for test in results(path):
            result = test.get("result")
            if result in FAILED:
                failed += 1
                report_failure(test, path)
            passed += result in PASSED
            skipped += result in SKIPPED
    print("mesh: %d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
