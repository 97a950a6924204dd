#!/usr/bin/env python3
"""failed_tests.py TESTLOG.json... - name every test that failed, with the end
of its output.

contrib/test.sh prints this last. CI keeps only the tail of what the suite
printed, and meson prints a failure's log where it happens, in the middle of a
20-minute run; without this summary a failure seen only in CI cannot be told
apart from the others (stop 15's CI run said "1 failed" and nothing more).
"""
import json
import sys

BAD = {"FAIL", "TIMEOUT", "ERROR", "UNEXPECTEDPASS"}
TAIL_LINES = 40


def failures(log_path):
    with open(log_path, encoding="utf-8", errors="replace") as log:
        for line in log:
            line = line.strip()
            if not line:
                continue
            test = json.loads(line)
            if test.get("result") in BAD:
                yield test


def main(paths):
    found = 0
    for path in paths:
        try:
            tests = list(failures(path))
        except FileNotFoundError:
            continue
        for test in tests:
            found += 1
            print(f"== FAILED {test['name']} ({test['result']}, "
                  f"{test.get('duration', 0):.1f} s) in {path}")
            out = (test.get("stdout") or "").splitlines()
            for text in out[-TAIL_LINES:]:
                print(f"   {text}")
    return found


if __name__ == "__main__":
    main(sys.argv[1:])
