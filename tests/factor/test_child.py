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


def test_range_jobs(driver):
    # A hard number's range job (src/factor/siqs_range.h): the answer is
    # "done rels:" and base-32 letters only; the same job answers the same
    # text (any node can sieve any range); another range differs; a job of
    # 1 ms still answers (what it found by then); a malformed job is an
    # error; an ordinary number after them is answered as ever.
    n = 509210500453231419516077995770618553170047119
    alphabet = set("0123456789abcdefghijklmnopqrstuv")
    small = nextprime(2 ** 50) * nextprime(2 ** 49)
    requests = ["30 siqs:%d:0:2\n" % n, "31 siqs:%d:2:4\n" % n, "32 siqs:%d:0:2\n" % n,
                "33 siqs:%d:4:64 1\n" % n, "34 siqs:%d:2:1\n" % n, "35 %d\n" % small]
    rc, out, err = run_child(driver, ["--number-timeout", "0"], requests)
    check(rc == 0, "exit code %r (stderr %r)" % (rc, err))
    got = out.splitlines()
    check(len(got) == 6, "answers %r" % [g[:40] for g in got])
    for line, rid in zip(got[:4], range(30, 34)):
        head = "%d done rels:" % rid
        check(line.startswith(head) and set(line[len(head):]) <= alphabet,
              "range answer %r" % line[:60])
    texts = [line.split(" ", 2)[2] for line in got[:4]]
    check(texts[0] == texts[2] and texts[0] != texts[1], "ranges are deterministic")
    check(len(texts[0]) > 1000 and len(texts[3]) < len(texts[0]) * 10,
          "sizes %r" % [len(t) for t in texts])
    check(got[4] == "34 error malformed range job", "bad job: %r" % got[4])
    check(got[5] == "35 done %d %d" % (nextprime(2 ** 49), nextprime(2 ** 50)), got[5])


def test_bad_option(driver):
    rc, _, _ = run_child(driver, ["--bogus"], [])
    check(rc == 2, "bad option must fail with 2, got %r" % rc)


def nice_of(pid):
    """The nice value of a process (field 19 of /proc/PID/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[16])


def test_runs_nicer_than_its_parent(driver):
    # A worker gives way to its node (child.c, WORKER_NICE): 10 more than
    # the process that started it, read while it waits for requests.
    proc = subprocess.Popen([driver, "__worker"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        proc.stdin.write("1 12\n")
        proc.stdin.flush()
        answer = proc.stdout.readline()  # set up and serving: its nice is set
        check(answer == "1 done 2 2 3\n", "first answer %r" % answer)
        want = min(os.nice(0) + 10, 19)
        check(nice_of(proc.pid) == want,
              "worker nice %d, want %d" % (nice_of(proc.pid), want))
        proc.stdin.close()
        check(proc.wait(timeout=30) == 0, "exit code at EOF")
    finally:
        if proc.poll() is None:
            proc.kill()  # only the process this test started, by its handle
            proc.wait()


def main():
    driver = sys.argv[1]
    test_runs_nicer_than_its_parent(driver)
    test_answers(driver)
    test_budget(driver)
    test_budget_per_request(driver)
    test_range_jobs(driver)
    test_bad_option(driver)
    print("child: ok")


if __name__ == "__main__":
    main()
