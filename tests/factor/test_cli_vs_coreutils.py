#!/usr/bin/env python3
"""`BINARY SUBCOMMAND` (e.g. `mesh factor`) must be a drop-in for coreutils
`factor`: identical stdout, stderr and exit code on the same input, as
arguments and on stdin, including invalid tokens, mixed whitespace, '+'
signs and leading zeros."""
import os
import random
import subprocess
import sys

ENV = dict(os.environ, LC_ALL="C.UTF-8")


def run(cmd, args, stdin_text):
    proc = subprocess.run(cmd + args, input=stdin_text.encode(), env=ENV,
                          capture_output=True, timeout=90)
    return proc.returncode, proc.stdout, proc.stderr


def corpus():
    rng = random.Random(4242)
    tokens = ["0", "1", "2", "3", "4", "+5", "007", "+0007", "000", "abc", "+",
              "++5", "-", "5a", "1e5", "0x1f", "18446744073709551557",
              "18446744073709551615", "18446744073709551616",
              "18446744073709551617", "561", "41041", "3215031751",
              str(2 ** 89 - 1), str((2 ** 61 - 1) * (2 ** 31 - 1)), "+" + "0" * 40 + "97"]
    for bits in (8, 16, 24, 32, 40, 48, 56, 62, 63, 64, 70, 80, 90):
        tokens += [str(rng.getrandbits(bits)) for _ in range(12)]
    return tokens


def compare(cmd, args, stdin_text, what):
    want = run(["factor"], args, stdin_text)
    got = run(cmd, args, stdin_text)
    if got != want:
        print("FAIL (%s)" % what)
        for name, g, w in zip(("rc", "stdout", "stderr"), got, want):
            if g != w:
                print(" %s:\n  got  %r\n  want %r" % (name, g[:2000], w[:2000]))
        sys.exit(1)


def main():
    cmd = sys.argv[1:]
    tokens = corpus()
    compare(cmd, tokens, "", "arguments")
    seps = [" ", "\t", "\n", "  \n\t", "\r\n", "\v", "\f"]
    rng = random.Random(7)
    text = "".join(t + rng.choice(seps) for t in tokens)
    compare(cmd, [], "\n\t " + text, "stdin")
    compare(cmd, [], "", "empty stdin")
    compare(cmd, ["--", "12", "-5"], "", "after --")
    # --help prints different text; only the exit code and silence on stderr
    rc, out, err = run(cmd, ["--help"], "")
    if rc != 0 or not out or err:
        print("FAIL: --help"); sys.exit(1)
    # bad options: same stdout (none) and exit code; the hint line differs
    for bad in (["-3"], ["12", "--bogus"]):
        want, got = run(["factor"], bad, ""), run(cmd, bad, "")
        if got[0] != want[0] or got[1] != want[1] or \
                got[2].splitlines()[0] != want[2].splitlines()[0]:
            print("FAIL: option error %r: got %r want %r" % (bad, got, want))
            sys.exit(1)
    print("cli vs coreutils: ok")


if __name__ == "__main__":
    main()
