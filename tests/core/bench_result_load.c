/* bench_result_load.c - how long loading a big results file holds the
 * event loop: the hash and the layout check on the loop (as before), and
 * on the libuv pool (queue_load_start/check/finish, as result_fetch.c now
 * runs it). A finished batch of COUNT trivial results (2..COUNT+1, their
 * factors from a sieve) is spilled to its file, snapshotted as a manifest
 * and restored twice; each replica loads the file while a 1 ms timer
 * ticks, and the longest gap between ticks is the loop's stall.
 *   bench_result_load [COUNT [DIR]]      (default 10000000, /tmp)
 * The file is hot in the page cache (a node that spilled it, or just
 * fetched it); a cold read adds the disk's time to both columns. Timing:
 * run it on a quiet machine, the minimum of a few runs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "queue.h"

static double ms_since(uint64_t t0)
{
    return (double)(uv_hrtime() - t0) / 1e6;
}

/* "p1 p2 ..." of v from its smallest prime factors. */
static void factor_text(const uint32_t *spf, uint64_t v, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    while (v > 1) {
        uint64_t p = spf[v];
        len += (size_t)snprintf(out + len, cap - len, len ? " %llu" : "%llu",
                                (unsigned long long)p);
        v /= p;
    }
}

static void apply_or_die(struct queue *q, struct qcmd *c)
{
    struct queue_outcome out;
    char err[256];
    if (queue_apply(q, c, &out, err, sizeof err) != 0) {
        fprintf(stderr, "apply: %s\n", err);
        exit(1);
    }
}

/* Batch 1: 2..count+1, every result applied. */
static struct queue *finished_batch(uint64_t count)
{
    uint64_t top = count + 2;
    uint32_t *spf = calloc(top, sizeof *spf);
    for (uint64_t i = 2; i < top; i++)
        if (spf[i] == 0)
            for (uint64_t j = i; j < top; j += i)
                if (spf[j] == 0)
                    spf[j] = (uint32_t)i;
    struct queue *q = queue_new();
    struct qcmd s = {.type = QCMD_SUBMIT, .batch_id = 1};
    char err[128];
    if (batch_range_init(&s.spec, "2", 1, count, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    s.spec.chunk = 1000;
    apply_or_die(q, &s);
    batch_spec_free(&s.spec);
    enum { PER = 4096 };
    static char texts[PER][96];
    struct qresult rs[PER];
    for (uint64_t i = 0; i < count;) {
        struct qcmd c = {.type = QCMD_COMPLETE, .batch_id = 1, .results = rs};
        for (; i < count && c.n_results < PER; i++) {
            factor_text(spf, i + 2, texts[c.n_results], sizeof texts[0]);
            rs[c.n_results] = (struct qresult){i, texts[c.n_results]};
            c.n_results++;
        }
        apply_or_die(q, &c);
    }
    free(spf);
    return q;
}

struct run {
    struct queue *q;
    const char *dir;
    bool worker;
    uv_timer_t tick;
    uv_work_t req;
    struct queue_load *load;
    uint64_t last, max_gap, t0, loaded_at;
    int state;     /* 0 not started, 1 loading, 2 loaded */
};

static void check_work(uv_work_t *req)
{
    struct run *r = req->data;
    queue_load_check(r->load);
}

static void check_done(uv_work_t *req, int status)
{
    struct run *r = req->data;
    if (status != 0 || queue_load_finish(r->load, r->q) != 0) {
        fprintf(stderr, "load failed\n");
        exit(1);
    }
    r->state = 2;
    r->loaded_at = uv_hrtime();
}

static void on_tick(uv_timer_t *t)
{
    struct run *r = t->data;
    uint64_t now = uv_hrtime();
    if (r->last != 0 && now - r->last > r->max_gap)
        r->max_gap = now - r->last;
    r->last = now;
    if (r->state == 0) {
        r->state = 1;
        r->t0 = uv_hrtime();
        if (!r->worker) {
            if (queue_results_load(r->q, 1, r->dir) != 0) {
                fprintf(stderr, "load failed: %s\n", strerror(errno));
                exit(1);
            }
            r->state = 2;
            r->loaded_at = uv_hrtime();
        } else {
            r->load = queue_load_start(r->q, 1, r->dir);
            r->req.data = r;
            if (r->load == NULL ||
                uv_queue_work(t->loop, &r->req, check_work, check_done) != 0)
                exit(1);
        }
    } else if (r->state == 2 && now - r->loaded_at > 50 * 1000 * 1000) {
        uv_timer_stop(t);
        uv_close((uv_handle_t *)t, NULL);
    }
}

static void load_while_ticking(struct run *r)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_timer_init(&loop, &r->tick);
    r->tick.data = r;
    uv_timer_start(&r->tick, on_tick, 1, 1);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    printf("%-22s %9.1f ms to load   longest loop stall %7.1f ms\n",
           r->worker ? "check on the pool:" : "check on the loop:",
           (double)(r->loaded_at - r->t0) / 1e6, (double)r->max_gap / 1e6);
}

int main(int argc, char **argv)
{
    uint64_t count = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/mesh-bench-load-XXXXXX", argc > 2 ? argv[2] : "/tmp");
    if (count == 0 || mkdtemp(dir) == NULL)
        return 2;
    uint64_t t0 = uv_hrtime();
    struct queue *q = finished_batch(count);
    printf("%llu results applied in %.0f ms\n", (unsigned long long)count, ms_since(t0));
    t0 = uv_hrtime();
    struct queue_spill *s = queue_spill_start(q, dir);
    int rc;
    while (s != NULL && (rc = queue_spill_step(s, q, 1024)) == 1)
        ;
    if (s == NULL || rc != 0 || queue_spill_finish(s, q) != 0)
        return 1;
    uint8_t *snap;
    size_t len, at = 0;
    struct queue_file_ref ref;
    if (queue_snapshot(q, &snap, &len) != 0)
        return 1;
    struct queue *a = queue_new(), *b = queue_new();
    if (queue_restore(a, snap, len) != 0 || queue_restore(b, snap, len) != 0 ||
        !queue_results_wanted(a, &at, &ref))
        return 1;
    printf("file %.1f MB, spilled in %.0f ms, snapshot %zu bytes\n", (double)ref.len / 1e6,
           ms_since(t0), len);
    struct run on_loop = {.q = a, .dir = dir, .worker = false};
    struct run on_pool = {.q = b, .dir = dir, .worker = true};
    load_while_ticking(&on_loop);
    load_while_ticking(&on_pool);
    char path[4200];
    queue_file_path(dir, ref.hash, path, sizeof path);
    unlink(path);
    rmdir(dir);
    free(snap);
    queue_free(a);
    queue_free(b);
    queue_free(q);
    return 0;
}
