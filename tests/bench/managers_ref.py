"""managers_ref.py START COUNT STEP CHUNK [PROCS] - the reference mesh is
measured against: the Python multiprocessing.managers job server of the
blog post in shared/seed (a server process holding a job queue and a result
queue on a loopback TCP port behind an authkey; a client with PROCS worker
processes taking chunks of numbers and putting back {n: factors} dicts),
with its naive trial-division factorizer.

Prints the seconds from the first job put to the last result got. Run on
the same machine in the same benchmark as mesh, so ratios compare like with
like. Test-only: python3 is never needed at run time."""
import multiprocessing
import queue
import sys
import time
from multiprocessing.managers import SyncManager

AUTHKEY = b"benchmark"


def factorize_naive(n):
    """The seed's factorizer: trial division."""
    if n < 2:
        return []
    factors = []
    p = 2
    while True:
        if n == 1:
            return factors
        r = n % p
        if r == 0:
            factors.append(p)
            n = n // p
        elif p * p >= n:
            factors.append(n)
            return factors
        elif p > 2:
            p += 2
        else:
            p += 1


def factorizer_worker(job_q, result_q):
    while True:
        try:
            job = job_q.get_nowait()
        except queue.Empty:
            return
        result_q.put({n: factorize_naive(n) for n in job})


_job_q = queue.Queue()
_result_q = queue.Queue()


def _get_job_q():
    return _job_q


def _get_result_q():
    return _result_q


class JobQueueManager(SyncManager):
    pass


def serve(port_box):
    JobQueueManager.register("get_job_q", callable=_get_job_q)
    JobQueueManager.register("get_result_q", callable=_get_result_q)
    manager = JobQueueManager(address=("127.0.0.1", 0), authkey=AUTHKEY)
    server = manager.get_server()
    port_box.put(server.address[1])
    server.serve_forever()


def client_manager(port):
    JobQueueManager.register("get_job_q")
    JobQueueManager.register("get_result_q")
    m = JobQueueManager(address=("127.0.0.1", port), authkey=AUTHKEY)
    m.connect()
    return m


def main():
    start, count, step, chunk = (int(a) for a in sys.argv[1:5])
    procs = int(sys.argv[5]) if len(sys.argv) > 5 else multiprocessing.cpu_count()
    port_box = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(port_box,), daemon=True)
    server.start()
    port = port_box.get()
    try:
        m = client_manager(port)
        job_q, result_q = m.get_job_q(), m.get_result_q()
        numbers = [start + i * step for i in range(count)]
        t0 = time.perf_counter()
        for i in range(0, count, chunk):
            job_q.put(numbers[i:i + chunk])
        workers = [multiprocessing.Process(target=factorizer_worker, args=(job_q, result_q))
                   for _ in range(procs)]
        for w in workers:
            w.start()
        got = {}
        while len(got) < count:
            got.update(result_q.get())
        t1 = time.perf_counter()
        for w in workers:
            w.join()
        print("%.4f" % (t1 - t0))
    finally:
        server.terminate()
        server.join()


if __name__ == "__main__":
    main()
