#!/usr/bin/env python3
"""Per-core kernel speed on the paths users take, against coreutils factor
and PARI/GP factor(), on the corpora of kernel_corpus.py (driven by
kernel.sh). Each round times, one after the other on one core:
  mesh factor   the whole process on the corpus (start-up included), CPU
  kernel        the bare kernel in-process on pre-read numbers (kernel_bench)
  coreutils     `factor` on the corpus, whole process, CPU (64-bit corpora)
  gp            factor() over the corpus inside gp (start-up excluded), CPU
and, once per round, the worker pipeline: a one-node batch of the corpus
with one worker, submit until `mesh results --wait` printed every line
(numbers per second per worker, wall clock).
Prints for each figure the median over the rounds and the spread
(min-max), and the ratios round by round (median, min-max): compare only
within one run.
usage: kernel_runs.py BUILDDIR CORPUSDIR ROUNDS"""
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

PIN = ["taskset", "-c", "0"] if shutil.which("taskset") else []
CORPORA = ["semi64", "rand64", "semi100", "semi124", "rand100", "mixed100"]


def cpu_us_per_number(argv, corpus, count):
    """CPU time (user + sys) of the whole process, per number."""
    with open(corpus, "rb") as f:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(PIN + argv, stdin=f, stdout=subprocess.DEVNULL, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu * 1e6 / count


def kernel_us(build, corpus):
    mode = "u64" if "64" in os.path.basename(corpus) else "decimal"
    # kernel_bench is not beside the PARI module as the binary is: say where.
    env = dict(os.environ, MESH_PARI_MODULE=os.path.join(build, "src/mesh-pari.so"))
    out = subprocess.run(PIN + [os.path.join(build, "tests/factor/kernel_bench"), mode, corpus],
                         capture_output=True, text=True, check=True, env=env).stdout
    return float(out.split()[4])


def gp_us(corpus):
    script = ('v=readvec("%s");t=getabstime();for(i=1,#v,factor(v[i]));'
              'print(1000.0*(getabstime()-t)/#v)\nquit\n' % corpus)
    out = subprocess.run(PIN + ["gp", "-q", "-f", "--default", "parisizemax=512M"],
                         input=script, capture_output=True, text=True, check=True).stdout
    return float(out.split()[0])


class Node:
    """One headless node with one worker on a private data dir."""

    def __init__(self, mesh):
        self.mesh, self.dir = mesh, tempfile.mkdtemp(prefix="mesh-bench-")
        self.proc = subprocess.Popen(
            [mesh, "--authkey", "bench", "--data-dir", self.dir, "--headless", "--no-mdns",
             "--port", "0", "--workers", "1", "--log-file", os.path.join(self.dir, "log")])
        for _ in range(200):
            if self.cli("status", check=False).returncode == 0:
                return
            time.sleep(0.05)
        raise RuntimeError("node did not start")

    def cli(self, *args, check=True):
        return subprocess.run([self.mesh, "--data-dir", self.dir] + list(args),
                              capture_output=True, text=True, check=check)

    def numbers_per_s(self, corpus, count):
        t0 = time.perf_counter()
        bid = self.cli("submit", "--file", corpus).stdout.strip()
        out = self.cli("results", bid, "--wait").stdout
        elapsed = time.perf_counter() - t0
        assert len(out.splitlines()) == count, "incomplete results"
        return count / elapsed

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def spread(values):
    v = sorted(values)
    return v[len(v) // 2], v[0], v[-1]


def fmt(values, digits=1):
    med, lo, hi = spread(values)
    return "%.*f (%.*f-%.*f)" % (digits, med, digits, lo, digits, hi)


def main():
    build, corpdir, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    mesh = os.path.join(build, "src/mesh")
    node = Node(mesh)
    try:
        for name in CORPORA:
            corpus = os.path.join(corpdir, name + ".txt")
            count = sum(1 for line in open(corpus) if line.strip())
            small = name.endswith("64")
            fig = {k: [] for k in ("mesh", "kernel", "coreutils", "gp", "worker")}
            for _ in range(rounds):
                fig["mesh"].append(cpu_us_per_number([mesh, "factor"], corpus, count))
                fig["kernel"].append(kernel_us(build, corpus))
                if small:
                    fig["coreutils"].append(cpu_us_per_number(["factor"], corpus, count))
                fig["gp"].append(gp_us(corpus))
                fig["worker"].append(node.numbers_per_s(corpus, count))
            print("%s (%d numbers), %d rounds: median (min-max)" % (name, count, rounds))
            print("  us per number, 1 core:  mesh factor %s   bare kernel %s   %s   gp %s"
                  % (fmt(fig["mesh"]), fmt(fig["kernel"]),
                     "coreutils " + fmt(fig["coreutils"]) if small else "", fmt(fig["gp"])))
            print("  worker pipeline, one-node batch, 1 worker: %s numbers/s"
                  % fmt(fig["worker"], 0))
            if small:
                print("  mesh factor vs coreutils: %sx faster" % fmt(
                    [c / m for c, m in zip(fig["coreutils"], fig["mesh"])], 2))
            print("  mesh factor vs gp factor(): %sx faster" % fmt(
                [g / m for g, m in zip(fig["gp"], fig["mesh"])], 2))
            sys.stdout.flush()
    finally:
        node.stop()


if __name__ == "__main__":
    main()
