/* spill.c - finished batches' results leave memory for the data dir.
 *
 * A node's memory should not grow with the results it retains: once a
 * batch is done or cancelled its results never change, so they move to a
 * file (src/sm/spill.c) and are read from there through a mapping; a
 * running batch's full pages do the same in segments of 64 pages. The
 * file is written a few milliseconds per tick on the loop (no thread: the
 * queue is the loop's), one batch at a time. A full disk (ENOSPC) leaves
 * the batch in memory, says so once, and tries again later: nothing is
 * lost, the budget still bounds what is retained. A finished batch's
 * segment files go once its own file is written (src/sm/spill_segments.c:
 * that file holds them). */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "result_fetch.h"
#include "spill.h"

enum {
    /* writing per tick (250 ms), at most. 5 ms wrote ~4.5 MB/s: a mesh
     * finishing 5M trivial numbers every 12 s (soak.sh) makes ~4.7 MB/s of
     * result files, and the batches not written yet piled up in memory and
     * in every snapshot. 15 ms (6% of the loop) keeps up with three times
     * that, and stays under the 30 ms heartbeat. */
    SPILL_SLICE_NS = 15 * 1000 * 1000,
    SPILL_PAGES_PER_STEP = 16,
    SPILL_RETRY_MS = 30000,            /* after a failed write */
    /* segments' pages freed are given back at most this often: on a soak.sh
     * leader the heap kept 48 MiB of them free (malloc_trim by gdb: 137 ->
     * 89 MiB anonymous); a trim walks the heap, so not after each one */
    SPILL_TRIM_MS = 2000,
    /* Behind: more than this of the replica's results in memory (the
     * running batch's pages not in segments yet, finished batches not in
     * their files). At the fast result plane (soak.sh, 5M numbers in 6-9 s)
     * 15 ms a tick wrote ~7 MB/s under load, results came at ~8 MB/s and
     * were written twice (segments, then the whole file): 65-91 MiB stayed
     * in memory, and raft's log, whose snapshot waits for as many bytes,
     * grew with it. Behind, spill also runs SPILL_CATCHUP_NS every
     * SPILL_CATCHUP_MS (at most a quarter of the loop, in slices short
     * beside the 30 ms heartbeat) until it is not. */
    SPILL_BEHIND_BYTES = 8 << 20,
    SPILL_CATCHUP_MS = 20,
    SPILL_CATCHUP_NS = 5 * 1000 * 1000,
    SPILL_OVERRUN_NS = 20 * 1000 * 1000,   /* past its slice: told in the debug log */
    SPILL_SYNC_TOLD_NS = 10 * 1000 * 1000,  /* a file's fdatasync and rename, likewise */
};

/* One job slot: a finished batch's file (n->spill) or a running batch's
 * segment (n->spill_seg). */
struct slot {
    struct queue_spill **job;
    struct spill_sync **sync;   /* its job being named on the pool, or NULL */
    struct queue_spill *(*start)(const struct queue *q, const char *dir);
};

/* A job written and hashed, named durably on the libuv pool: the file's
 * fdatasync, rename and the dir's fsync took 20-26 ms (median) and up
 * to 1.5 s on the loop on soak.sh nodes under load (load average 12-22,
 * other builds writing), holding heartbeats and links meanwhile. The slot waits
 * for it: a new job for the same segment would write the same temp file. */
struct spill_sync {
    uv_work_t req;
    struct node *n;
    struct queue_spill *job;
    struct spill_sync **slot;
    bool dropped;               /* the replica was replaced or the node stops */
    uint64_t took_ns;
};

static void spill_drop(struct node *n)
{
    queue_spill_abort(n->spill);
    queue_spill_abort(n->spill_seg);
    n->spill = n->spill_seg = NULL;
    n->spill_queue = NULL;
    /* a job on the pool is the pool's until it returns (on_named) */
    if (n->spill_sync != NULL)
        n->spill_sync->dropped = true;
    if (n->spill_seg_sync != NULL)
        n->spill_seg_sync->dropped = true;
}

static void spill_failed(struct node *n, struct queue_spill **job, int err)
{
    uint64_t batch = queue_spill_batch(*job);
    queue_spill_abort(*job);
    *job = NULL;
    if (err == ENOENT)
        return; /* forgotten (or finished) meanwhile: nothing to keep */
    n->spill_retry_ms = uv_now(&n->loop) + SPILL_RETRY_MS;
    mlog(&n->log, LOG_WARN, "cannot move the results of batch %llu to %s: %s; they stay "
         "in memory (retrying in %d s)", (unsigned long long)batch, n->cfg->data_dir,
         strerror(err), SPILL_RETRY_MS / 1000);
}

static bool spill_begin(struct node *n, const struct slot *sl)
{
    const char *dir = node_results_dir(n);
    if (dir == NULL) {
        n->spill_retry_ms = uv_now(&n->loop) + SPILL_RETRY_MS;
        mlog(&n->log, LOG_WARN, "cannot make %s/results: %s", n->cfg->data_dir,
             strerror(errno));
        return false;
    }
    *sl->job = sl->start(n->queue, dir);
    if (*sl->job == NULL) {
        if (errno != ENOENT) {
            n->spill_retry_ms = uv_now(&n->loop) + SPILL_RETRY_MS;
            mlog(&n->log, LOG_WARN, "cannot write results to %s: %s", n->cfg->data_dir,
                 strerror(errno));
        }
        return false;
    }
    n->spill_queue = n->queue;
    return true;
}

/* A job written and hashed: the file named and mapped. false when the
 * tick should stop (a failure, retried later). */
static bool spill_done(struct node *n, struct queue_spill **job)
{
    struct queue_spill *s = *job;
    *job = NULL;
    uint64_t batch = queue_spill_batch(s);
    bool segment = queue_spill_is_segment(s);
    int rc = queue_spill_finish(s, n->queue);   /* maps it (names it if not yet) */
    if (rc == 0 && segment) {
        /* 64 pages of a running batch: trimmed with others (spill_trim) */
        n->spill_trim_due = true;
        mlog(&n->log, LOG_DEBUG, "batch %llu: full pages moved to disk",
             (unsigned long long)batch);
    } else if (rc == 0) {
        mlog(&n->log, LOG_DEBUG, "batch %llu: results moved to disk",
             (unsigned long long)batch);
        /* The batch's pages were thousands of small blocks inside the
         * heap: without a trim glibc keeps them, and the memory moved to
         * disk would still count against the machine. */
        malloc_trim(0);
    }
    if (rc != 0 && errno != ENOENT) {
        n->spill_retry_ms = uv_now(&n->loop) + SPILL_RETRY_MS;
        mlog(&n->log, LOG_WARN, "cannot map the results of batch %llu: %s",
             (unsigned long long)batch, strerror(errno));
        return false;
    }
    return true;
}

static void do_name(uv_work_t *req)
{
    struct spill_sync *y = req->data;
    uint64_t t0 = uv_hrtime();
    queue_spill_name(y->job);   /* its outcome is the job's: finish reports it */
    y->took_ns = uv_hrtime() - t0;
}

static void on_named(uv_work_t *req, int status)
{
    (void)status;
    struct spill_sync *y = req->data;
    struct node *n = y->n;
    *y->slot = NULL;
    if (y->took_ns > SPILL_SYNC_TOLD_NS)
        mlog(&n->log, LOG_DEBUG, "spill: naming a file durably took %llu ms (on the pool)",
             (unsigned long long)(y->took_ns / 1000000));
    if (y->dropped || n->stopping || n->spill_queue != n->queue)
        queue_spill_abort(y->job);
    else
        spill_done(n, &y->job);
    free(y);
    if (n->stopping && n->spill_on_closed != NULL && --n->spill_closing == 0)
        n->spill_on_closed(n);
}

/* The job's durable naming to the pool; false (and nothing done) when it
 * cannot go: then it is named on the loop, as before. */
static bool name_on_pool(struct node *n, const struct slot *sl)
{
    struct spill_sync *y = calloc(1, sizeof *y);
    if (y == NULL)
        return false;
    *y = (struct spill_sync){.n = n, .job = *sl->job, .slot = sl->sync};
    y->req.data = y;
    if (uv_queue_work(&n->loop, &y->req, do_name, on_named) != 0) {
        free(y);
        return false;
    }
    *sl->job = NULL;
    *sl->sync = y;
    return true;
}

/* Runs one slot's jobs until `until` or nothing is left to write: false
 * when the tick should stop. */
static bool spill_run(struct node *n, const struct slot *sl, uint64_t until)
{
    while (uv_hrtime() < until && *sl->sync == NULL) {
        if (*sl->job == NULL && !spill_begin(n, sl))
            return uv_now(&n->loop) >= n->spill_retry_ms;
        int rc = queue_spill_step(*sl->job, n->queue, SPILL_PAGES_PER_STEP);
        if (rc < 0) {
            spill_failed(n, sl->job, errno);
            return false;
        }
        if (rc == 0 && !name_on_pool(n, sl) && !spill_done(n, sl->job))
            return false;
    }
    return true;
}

/* The heap the segments' freed pages left, back to the kernel now and
 * then (glibc keeps it otherwise: new pages reuse only part of it). */
static void spill_trim(struct node *n)
{
    uint64_t now = uv_now(&n->loop);
    if (!n->spill_trim_due || now < n->spill_trim_ms + SPILL_TRIM_MS)
        return;
    malloc_trim(0);
    n->spill_trim_due = false;
    n->spill_trim_ms = now;
}

static bool spill_can_run(const struct node *n)
{
    return n->queue != NULL && !n->stopping && n->cons != NULL && !n->cluster_restarting &&
           uv_now(&n->loop) >= n->spill_retry_ms;
}

/* Segments first: they are what a running batch holds in memory; a
 * finished batch's own file (its pages mostly in segments already) takes
 * what is left of the slice. Under load (soak.sh, load average 30) the
 * segments' fdatasyncs could take most slices and the whole file was
 * written at ~130 KB/s, its segments' mappings kept meanwhile (file-backed
 * RSS); taking turns instead left the segments behind, and the running
 * batch's pages and the snapshots grew (heap 90-103 MiB, against 34-68).
 * Spills for up to `ns`: false when no job was left or could start (nothing
 * ready to write, or a failure to retry later). */
static bool spill_slice(struct node *n, uint64_t ns)
{
    bool jobs = n->spill != NULL || n->spill_seg != NULL || n->spill_sync != NULL ||
                n->spill_seg_sync != NULL;
    if (jobs && n->spill_queue != n->queue)
        spill_drop(n); /* the replica was rebuilt (a snapshot, a restart) */
    uint64_t start = uv_hrtime(), until = start + ns;
    const struct slot segs = {&n->spill_seg, &n->spill_seg_sync, queue_spill_start_segment};
    const struct slot whole = {&n->spill, &n->spill_sync, queue_spill_start_whole};
    if (spill_run(n, &segs, until))
        spill_run(n, &whole, until);
    spill_trim(n);
    /* a step, an fdatasync or a preempted loop may overrun the slice */
    uint64_t took = uv_hrtime() - start;
    if (took > ns + SPILL_OVERRUN_NS)
        mlog(&n->log, LOG_DEBUG, "spill held the loop %llu ms (slice %llu ms)",
             (unsigned long long)(took / 1000000), (unsigned long long)(ns / 1000000));
    return n->spill != NULL || n->spill_seg != NULL || n->spill_sync != NULL ||
           n->spill_seg_sync != NULL;
}

static bool spill_behind(const struct node *n)
{
    return queue_inline_bytes(n->queue) > SPILL_BEHIND_BYTES;
}

/* Catching up: stops once not behind or nothing can be written now (results
 * inline in pages not full yet); the next tick starts it again if need be. */
static void on_catchup(uv_timer_t *t)
{
    struct node *n = t->data;
    if (!spill_can_run(n) || !spill_behind(n) || !spill_slice(n, SPILL_CATCHUP_NS))
        uv_timer_stop(t);
}

void node_spill_tick(struct node *n)
{
    if (!spill_can_run(n))
        return;
    spill_slice(n, n->spill_slice_ns);
    if (spill_behind(n) && !uv_is_active((uv_handle_t *)&n->spill_timer))
        uv_timer_start(&n->spill_timer, on_catchup, SPILL_CATCHUP_MS, SPILL_CATCHUP_MS);
}

/* MESH_SPILL_SLICE_US=N (tests only): the tick's slice, so a test can starve
 * it as a loaded host does and see the catch-up bound what memory holds. */
void node_spill_init(struct node *n)
{
    uv_timer_init(&n->loop, &n->spill_timer);
    n->spill_timer.data = n;
    n->spill_slice_ns = SPILL_SLICE_NS;
    const char *us = getenv("MESH_SPILL_SLICE_US");
    if (us != NULL) {
        n->spill_slice_ns = strtoull(us, NULL, 10) * 1000;
        mlog(&n->log, LOG_WARN, "spill: %llu us a tick (MESH_SPILL_SLICE_US)",
             (unsigned long long)(n->spill_slice_ns / 1000));
    }
}

unsigned node_spill_close(struct node *n, void (*on_closed)(void *ud))
{
    uv_close((uv_handle_t *)&n->spill_timer, NULL);
    spill_drop(n);
    n->spill_on_closed = on_closed;
    n->spill_closing = (n->spill_sync != NULL) + (n->spill_seg_sync != NULL);
    return n->spill_closing;
}

void node_spill_stop(struct node *n)
{
    spill_drop(n);
}
