/* bench_snapshot.c - what a raft snapshot of a big queue costs, split into
 * the part raft runs on the event loop (fsm snapshot, and finalize) and
 * the part it runs on the thread pool (snapshot_async, version 3 only).
 *   bench_snapshot [DONE_RESULTS]     (default 1000000)
 * Results are ~20-character texts, as for 13-digit numbers. */
#include <raft.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fsm.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void fill(struct queue *q, uint64_t count)
{
    char err[128];
    struct qcmd c = {.type = QCMD_SUBMIT};
    if (batch_range_init(&c.spec, "1000000000001", 2, count, err, sizeof err) != 0 ||
        queue_apply(q, &c, NULL, err, sizeof err) != 0)
        exit(1);
    qcmd_free(&c);
    enum { PER = 10000 };
    char text[64];
    for (uint64_t first = 0; first < count; first += PER) {
        c = (struct qcmd){.type = QCMD_COMPLETE, .batch_id = 1};
        c.results = calloc(PER, sizeof *c.results);
        for (uint64_t i = first; i < first + PER && i < count; i++) {
            snprintf(text, sizeof text, "%llu %llu", (unsigned long long)(3 + i % 997),
                     (unsigned long long)(333333333333 + i * 7));
            c.results[c.n_results++] = (struct qresult){.index = i, .text = strdup(text)};
        }
        queue_apply(q, &c, NULL, err, sizeof err);
        qcmd_free(&c);
    }
}

int main(int argc, char **argv)
{
    uint64_t count = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    struct queue *q = queue_new();
    double t0 = now_ms();
    fill(q, count);
    double t1 = now_ms();
    struct raft_fsm fsm;
    struct fsm_config cfg = {.queue = &q};
    if (fsm_init(&fsm, &cfg) != 0)
        return 1;
    struct raft_buffer *bufs = NULL;
    unsigned n = 0;
    double t2 = now_ms();
    if (fsm.snapshot(&fsm, &bufs, &n) != 0)
        return 1;
    double t3 = now_ms(), t4 = t3;
    if (fsm.version >= 3 && fsm.snapshot_async != NULL) {
        if (fsm.snapshot_async(&fsm, &bufs, &n) != 0)
            return 1;
        t4 = now_ms();
    }
    size_t bytes = 0;
    for (unsigned i = 0; i < n; i++)
        bytes += bufs[i].len;
    double t5 = now_ms();
    if (fsm.version >= 2 && fsm.snapshot_finalize != NULL) {
        fsm.snapshot_finalize(&fsm, &bufs, &n);
    } else {
        raft_free(bufs[0].base);
        raft_free(bufs);
    }
    double t6 = now_ms();
    printf("fsm version %d, %llu done results, snapshot %.1f MB (fill %.0f ms)\n",
           fsm.version, (unsigned long long)count, bytes / 1e6, t1 - t0);
    printf("  on the loop:   snapshot %.1f ms + finalize %.1f ms\n", t3 - t2, t6 - t5);
    printf("  on a thread:   snapshot_async %.1f ms\n", t4 - t3);
    fsm_close(&fsm);
    queue_free(q);
    return 0;
}
