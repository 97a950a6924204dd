#!/usr/bin/env python3
"""The worker child: spawn `DRIVER __worker`, check the protocol answers,
the budget (partial), and that the child exits 0 at EOF on stdin."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import primes  # noqa: E402


def nextprime(n):
    """The smallest prime > n."""
    return primes.nextprime(n + 1)


def run_child(driver, args, requests):
    proc = subprocess.Popen([driver, "__worker"] + args, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        out, err = proc.communicate("".join(requests), timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()  # only the process this test started, by its handle
            proc.wait()
    return proc.returncode, out, err


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)


def test_answers(driver):
    requests = ["1 12\n", "2 0\n", "3 1\n", "4 18446744073709551617\n",
                "5 abc\n", "6 +007\n", "\n", "garbage\n",
                "18446744073709551615 18446744073709551557\n",
                "8 " + "9" * 310 + "\n", "9 4"]  # last line without newline
    rc, out, err = run_child(driver, [], requests)
    check(rc == 0, "exit code %r at EOF (stderr %r)" % (rc, err))
    want = ["1 done 2 2 3", "2 done", "3 done", "4 done 274177 67280421310721",
            "5 error not a valid positive integer", "6 done 7",
            "0 error malformed request",
            "18446744073709551615 done 18446744073709551557",
            "8 error number exceeds 1024 bits", "9 done 2 2"]
    got = out.splitlines()
    check(got == want, "answers\n got %r\nwant %r" % (got, want))


def test_budget(driver):
    p = nextprime(2 ** 100 + 99991)
    q = nextprime(2 ** 100 + 7 * 99991 + 12345)
    n = p * q * 6
    small = nextprime(2 ** 50) * nextprime(2 ** 49)
    requests = ["10 %d\n" % n, "11 %d\n" % small]
    rc, out, err = run_child(driver, ["--number-timeout", "50"], requests)
    check(rc == 0, "exit code %r (stderr %r)" % (rc, err))
    got = out.splitlines()
    check(got[0] == "10 partial %d 2 3" % (p * q), "partial answer %r" % got[0])
    check(got[1] == "11 done %d %d" % (nextprime(2 ** 49), nextprime(2 ** 50)),
          "after a partial the child still works: %r" % got[1])


def test_budget_per_request(driver):
    # A child without a budget of its own (0: unlimited) told one per
    # request: the 200-bit semiprime stops at its 50 ms; the next line,
    # with no budget, is unlimited again; a bad budget is a bad request.
    p = nextprime(2 ** 100 + 99991)
    q = nextprime(2 ** 100 + 7 * 99991 + 12345)
    small = nextprime(2 ** 50) * nextprime(2 ** 49)
    requests = ["20 %d 50\n" % (p * q * 6), "21 %d\n" % small, "22 %d 5s\n" % small,
                "23 %d 0\n" % small]
    rc, out, err = run_child(driver, ["--number-timeout", "0"], requests)
    check(rc == 0, "exit code %r (stderr %r)" % (rc, err))
    done = "done %d %d" % (nextprime(2 ** 49), nextprime(2 ** 50))
    want = ["20 partial %d 2 3" % (p * q), "21 " + done, "22 error malformed request",
            "23 " + done]
    check(out.splitlines() == want, "answers\n got %r\nwant %r" % (out.splitlines(), want))


def test_bad_option(driver):
    rc, _, _ = run_child(driver, ["--bogus"], [])
    check(rc == 2, "bad option must fail with 2, got %r" % rc)


def main():
    driver = sys.argv[1]
    test_answers(driver)
    test_budget(driver)
    test_budget_per_request(driver)
    test_bad_option(driver)
    print("child: ok")


if __name__ == "__main__":
    main()
