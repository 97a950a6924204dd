/* result_fetch.c - finished batches' result files: found here, or fetched.
 *
 * A snapshot names a finished batch's results file by its hash instead of
 * carrying it (doc/DESIGN.md, "Manifest snapshots"). A replica restored
 * from one has those batches' results "elsewhere" (queue.h) until the file
 * is loaded: from DATA_DIR/results when it is there and checks (a
 * restart), else fetched from the peers over the encrypted links, one
 * chunk at a time (FILE_GET by hash and offset, FILE_PART back), written
 * to <hash>.part, renamed when complete and checked whole by the load,
 * which refuses a damaged file (then another peer is asked, from the
 * start). The load's hash and layout check runs on the libuv pool (a big
 * file took tenths of a second of the loop). Any peer holding the file
 * answers; one that does not says so and the next is asked; a file no
 * linked peer has is told once and skipped for a while (round_refused).
 * One file at a time: catching up never holds more than a chunk in memory.
 * A finished batch's segment whose file is gone here is answered from the
 * batch's own file (queue_segment_read: its pages, re-headed).
 *
 * The same module keeps the directory clean: when the replica is replaced
 * (start, a snapshot), forgets a batch or no longer waits for any file,
 * files no batch names are removed (at start also the leftovers of
 * interrupted writes), but while a batch waits for segments those it may
 * rebuild them from (a segment of a batch that has since finished here is
 * made again from the batch's own file, before any peer is asked). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dispatch.h"
#include "event_log.h"
#include "meshmsg.h"
#include "node.h"
#include "peers.h"
#include "result_fetch.h"
#include "wallclock.h"

enum {
    ASK_TIMEOUT_MS = 3000,    /* a peer that does not answer: ask the next */
    ROUND_PAUSE_MS = 1000,    /* no peer had it: ask around again after */
    DAMAGED_PAUSE_MS = 5000,  /* every peer sent a damaged copy: again after */
    MISSING_ROUNDS = 3,       /* rounds of "not here" from every linked peer... */
    MISSING_RETRY_MS = 30000, /* ...then the next batch's file; this one again after */
};

struct result_fetch {
    char dir[4200];
    bool dir_made, swept_leftovers;
    const struct queue *swept_queue;
    uint64_t swept_forgotten;
    bool swept_waiting;       /* some batch waited for files at the sweep */
    bool active;              /* fetching ref */
    struct queue_file_ref ref;
    int fd;                   /* the .part file */
    uint64_t got, peer, asked_ms, pause_until_ms;
    size_t next_peer;         /* round robin over peer_info */
    unsigned refused;         /* peers that said "not here" this round */
    size_t damaged;           /* damaged copies fetched in a row */
    struct load_job *job;     /* the file being checked, or NULL */
    struct results_wait *waits;  /* batches whose file is not here, ... */
    size_t n_waits, cap_waits;   /* ... by batch id */
};

static struct result_fetch *state(struct node *n)
{
    if (n->results == NULL) {
        n->results = calloc(1, sizeof *n->results);
        if (n->results == NULL)
            return NULL;
        n->results->fd = -1;
        snprintf(n->results->dir, sizeof n->results->dir, "%s/results", n->cfg->data_dir);
    }
    struct result_fetch *f = n->results;
    if (!f->dir_made) {
        if (mkdir(f->dir, 0700) != 0 && errno != EEXIST)
            return NULL;
        f->dir_made = true;
    }
    return f;
}

const char *node_results_dir(struct node *n)
{
    struct result_fetch *f = state(n);
    return f != NULL ? f->dir : NULL;
}

/* The batch's wait record, made if need be (NULL: out of memory). */
static struct results_wait *wait_of(struct result_fetch *f, const struct queue_file_ref *ref)
{
    for (size_t i = 0; i < f->n_waits; i++)
        if (f->waits[i].batch_id == ref->batch_id)
            return &f->waits[i];
    if (f->n_waits == f->cap_waits) {
        size_t cap = f->cap_waits ? 2 * f->cap_waits : 4;
        struct results_wait *w = realloc(f->waits, cap * sizeof *w);
        if (w == NULL)
            return NULL;
        f->waits = w;
        f->cap_waits = cap;
    }
    struct results_wait *w = &f->waits[f->n_waits++];
    *w = (struct results_wait){.batch_id = ref->batch_id, .since_ms = wallclock_ms()};
    memcpy(w->hash, ref->hash, sizeof w->hash);
    return w;
}

/* Batches no longer waiting (loaded, forgotten, a new replica): dropped. */
static void prune_waits(struct node *n, struct result_fetch *f)
{
    size_t k = 0;
    for (size_t i = 0; i < f->n_waits; i++) {
        struct batch_info b;
        if (queue_batch_get(n->queue, f->waits[i].batch_id, &b) == 0 && b.results_elsewhere)
            f->waits[k++] = f->waits[i];
    }
    f->n_waits = k;
}

static bool skipped_for_now(const struct node *n, const struct result_fetch *f, uint64_t batch)
{
    for (size_t i = 0; i < f->n_waits; i++)
        if (f->waits[i].batch_id == batch)
            return f->waits[i].missing && uv_now((uv_loop_t *)&n->loop) < f->waits[i].retry_ms;
    return false;
}

bool node_results_waiting(const struct node *n, uint64_t batch_id, struct results_wait *out)
{
    const struct result_fetch *f = n->results;
    for (size_t i = 0; f != NULL && i < f->n_waits; i++)
        if (f->waits[i].batch_id == batch_id) {
            *out = f->waits[i];
            return true;
        }
    return false;
}

static void part_path(const struct result_fetch *f, char *out, size_t size)
{
    char path[4300];
    queue_file_path(f->dir, f->ref.hash, path, sizeof path);
    snprintf(out, size, "%s.part", path);
}

static void drop_fetch(struct result_fetch *f)
{
    if (f->fd >= 0) {
        char part[4400];
        close(f->fd);
        f->fd = -1;
        part_path(f, part, sizeof part);
        unlink(part);
    }
    f->active = false;
}

static void sweep(struct node *n, struct result_fetch *f)
{
    uint64_t forgotten = queue_forgotten_total(n->queue);
    size_t at = 0;
    struct queue_file_ref ref;
    bool waiting = queue_results_wanted(n->queue, &at, &ref);
    if (f->swept_queue == n->queue && f->swept_forgotten == forgotten &&
        !(f->swept_waiting && !waiting))
        return;
    f->swept_waiting = waiting;   /* files kept for a rebuild go once none waits */
    bool leftovers = !f->swept_leftovers && !f->active;
    size_t removed = queue_results_sweep(n->queue, f->dir, leftovers);
    f->swept_leftovers |= leftovers;
    f->swept_queue = n->queue;
    f->swept_forgotten = forgotten;
    if (removed > 0)
        mlog(&n->log, LOG_DEBUG, "removed %zu result files no batch names", removed);
}

/* The next linked peer, round robin; 0 when none is linked. */
static uint64_t pick_peer(struct node *n, struct result_fetch *f)
{
    for (size_t k = 0; k < n->n_peer_info; k++) {
        const struct peer_cluster *pc = &n->peer_info[f->next_peer++ % n->n_peer_info];
        if (node_linked(n, pc->id))
            return pc->id;
    }
    return 0;
}

static size_t linked_peers(const struct node *n)
{
    size_t k = 0;
    for (size_t i = 0; i < n->n_peer_info; i++)
        k += node_linked(n, n->peer_info[i].id);
    return k;
}

static void ask(struct node *n, struct result_fetch *f, bool next_peer)
{
    if (next_peer || f->peer == 0 || !node_linked(n, f->peer))
        f->peer = pick_peer(n, f);
    f->asked_ms = uv_now(&n->loop);
    if (f->peer == 0)
        return;   /* nobody linked: the timeout asks again */
    struct msg_file_get g = {.offset = f->got};
    memcpy(g.hash, f->ref.hash, sizeof g.hash);
    uint8_t *buf;
    size_t len;
    if (msg_file_get_encode(&g, &buf, &len) == 0) {
        node_send(n, f->peer, MESH_MSG_FILE_GET, buf, len);
        free(buf);
    }
}

static void start_fetch(struct node *n, struct result_fetch *f, const struct queue_file_ref *ref)
{
    char part[4400];
    f->ref = *ref;
    part_path(f, part, sizeof part);
    f->fd = open(part, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
    if (f->fd < 0) {
        mlog(&n->log, LOG_WARN, "cannot write %s: %s", part, strerror(errno));
        f->pause_until_ms = uv_now(&n->loop) + ROUND_PAUSE_MS;
        return;
    }
    f->active = true;
    f->got = 0;
    f->refused = 0;
    struct results_wait *w = wait_of(f, ref);
    if (w != NULL && w->rounds == 0 && !w->missing)
        mlog(&n->log, LOG_INFO, "batch %llu: its results (%llu bytes) are not here: fetching "
             "them from the peers", (unsigned long long)ref->batch_id,
             (unsigned long long)ref->len);
    if (w != NULL)
        w->rounds = 0;
    ask(n, f, true);
}

static void load_or_fetch(struct node *n, struct result_fetch *f);
static void fetched_damaged(struct node *n, struct result_fetch *f, int err);

/* A file's hash and layout are checked on a worker thread (a 10M-result
 * batch's file takes tenths of a second): the loop keeps serving links,
 * heartbeats and readers meanwhile. Only where a batch's results live
 * changes when the check is done, never the replicated state, so the
 * timing of a load cannot make replicas differ. One job at a time. */
struct load_job {
    uv_work_t req;
    struct node *n;
    struct queue_load *load;
    struct queue_file_ref ref;
    bool fetched;             /* just fetched from f->peer */
};

static void load_work(uv_work_t *req)
{
    struct load_job *job = req->data;
    queue_load_check(job->load);
}

static void damaged_here(struct node *n, struct result_fetch *f, const struct queue_file_ref *ref)
{
    char path[4300];
    queue_file_path(f->dir, ref->hash, path, sizeof path);
    mlog(&n->log, LOG_WARN, "batch %llu: its results file %s is damaged: removed, "
         "fetching it again", (unsigned long long)ref->batch_id, path);
    unlink(path);
}

static void load_done(uv_work_t *req, int status)
{
    struct load_job *job = req->data;
    struct node *n = job->n;
    struct result_fetch *f = n->results;
    if (status != 0 || f == NULL || f->job != job || n->stopping) {
        queue_load_abort(job->load);   /* stopping: the loop ran it out */
        free(job);
        return;
    }
    f->job = NULL;
    int rc = queue_load_finish(job->load, n->queue), err = errno;
    if (rc == 0) {
        if (job->fetched)
            mlog(&n->log, LOG_INFO, "batch %llu: results fetched from node %016llx (%llu "
                 "bytes)", (unsigned long long)job->ref.batch_id, (unsigned long long)f->peer,
                 (unsigned long long)job->ref.len);
        else
            mlog(&n->log, LOG_DEBUG, "batch %llu: results loaded from %s",
                 (unsigned long long)job->ref.batch_id, f->dir);
        if (job->fetched)
            f->damaged = 0;
        dispatch_readable(n->routes, n);
    } else if (err == EBADMSG && job->fetched) {
        fetched_damaged(n, f, err);
        free(job);
        return;
    } else if (err == EBADMSG) {
        damaged_here(n, f, &job->ref);
    }
    free(job);
    load_or_fetch(n, f);   /* the next one at once (ENOENT: it no longer waits) */
}

/* 0 when the check runs; -1 with errno from queue_load_start. */
static int start_load(struct node *n, struct result_fetch *f, const struct queue_file_ref *ref,
                      bool fetched)
{
    struct load_job *job = calloc(1, sizeof *job);
    if (job == NULL)
        return -1;
    job->load = queue_load_start(n->queue, ref->batch_id, f->dir);
    if (job->load == NULL) {
        int e = errno;
        free(job);
        errno = e;
        return -1;
    }
    job->req.data = job;
    job->n = n;
    job->ref = *ref;
    job->fetched = fetched;
    if (uv_queue_work(&n->loop, &job->req, load_work, load_done) != 0) {
        queue_load_abort(job->load);   /* cannot happen with a live loop */
        free(job);
        errno = EAGAIN;
        return -1;
    }
    f->job = job;
    return 0;
}

/* A segment of a batch that has since finished here, named by the
 * snapshot this node restarted from: its file went once the batch's own
 * file held it, and is made again from that one (checked by its hash). */
static bool rebuilt_here(struct node *n, const struct result_fetch *f,
                         const struct queue_file_ref *ref)
{
    if (queue_segment_rebuild(n->queue, ref->batch_id, f->dir) != 0)
        return false;
    mlog(&n->log, LOG_DEBUG, "batch %llu: a segment file made again from its own file",
         (unsigned long long)ref->batch_id);
    return true;
}

/* Loads what is here; the first batch whose file is not becomes the
 * fetch. A damaged file is removed (and fetched). */
static void load_or_fetch(struct node *n, struct result_fetch *f)
{
    struct queue_file_ref ref;
    size_t at = 0;
    if (f->job != NULL || f->active)
        return;
    bool found;
    while ((found = queue_results_wanted(n->queue, &at, &ref)) &&
           skipped_for_now(n, f, ref.batch_id))
        ;   /* no peer had it lately: the others meanwhile */
    if (!found)
        return;
    if (start_load(n, f, &ref, false) == 0)
        return;
    if (errno == EBADMSG)
        damaged_here(n, f, &ref);   /* its size is wrong */
    else if (errno == ENOENT && rebuilt_here(n, f, &ref) && start_load(n, f, &ref, false) == 0)
        return;
    if (uv_now(&n->loop) >= f->pause_until_ms)
        start_fetch(n, f, &ref);
}

void node_results_tick(struct node *n)
{
    if (n->queue == NULL || n->stopping)
        return;
    struct result_fetch *f = state(n);
    if (f == NULL)
        return;
    sweep(n, f);
    prune_waits(n, f);
    if (f->active && !queue_names_file(n->queue, f->ref.hash)) {
        drop_fetch(f);   /* forgotten meanwhile, or the replica was replaced */
    }
    if (!f->active)
        load_or_fetch(n, f);   /* nothing while a check runs */
    else if (uv_now(&n->loop) >= f->asked_ms + ASK_TIMEOUT_MS)
        ask(n, f, true);
}

void node_results_on_restored(struct node *n)
{
    /* The new queue may sit where the old one was: sweep by this, not by
     * the pointer alone. */
    if (n->results != NULL)
        n->results->swept_queue = NULL;
    node_results_tick(n);
}

/* A chunk of the file of hash from dir: false when it is not here. */
static bool chunk_from_file(const char *dir, const struct msg_file_get *g, uint8_t *chunk,
                            struct msg_file_part *p)
{
    char path[4300];
    queue_file_path(dir, g->hash, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    bool ok = false;
    if (fd >= 0 && fstat(fd, &st) == 0 && (uint64_t)st.st_size >= g->offset) {
        ssize_t r = pread(fd, chunk, MESH_MSG_FILE_CHUNK, (off_t)g->offset);
        if (r >= 0) {
            *p = (struct msg_file_part){.offset = g->offset, .total = (uint64_t)st.st_size,
                                        .data = chunk, .len = (size_t)r};
            ok = true;
        }
    }
    if (fd >= 0)
        close(fd);
    return ok;
}

/* A segment whose file is gone (a finished batch's, once its own file was
 * written) from that own file: the same bytes, which the asker checks by
 * the hash its snapshot names, as any file. */
static bool chunk_from_batch(const struct node *n, const struct msg_file_get *g, uint8_t *chunk,
                             struct msg_file_part *p)
{
    uint64_t total;
    int64_t r = queue_segment_read(n->queue, g->hash, g->offset, chunk, MESH_MSG_FILE_CHUNK,
                                   &total);
    if (r < 0 || total < g->offset)
        return false;
    *p = (struct msg_file_part){.offset = g->offset, .total = total, .data = chunk,
                                .len = (size_t)r};
    return true;
}

void node_results_on_get(struct node *n, uint64_t peer, const uint8_t *data, size_t len)
{
    struct msg_file_get g;
    struct result_fetch *f = state(n);
    if (f == NULL || msg_file_get_decode(&g, data, len) != 0)
        return;
    struct msg_file_part p = {.offset = 0, .total = 0};
    uint8_t *chunk = malloc(MESH_MSG_FILE_CHUNK);
    if (chunk != NULL && !chunk_from_file(f->dir, &g, chunk, &p))
        chunk_from_batch(n, &g, chunk, &p);
    memcpy(p.hash, g.hash, sizeof p.hash);
    uint8_t *buf;
    size_t blen;
    if (msg_file_part_encode(&p, &buf, &blen) == 0) {
        node_send(n, peer, MESH_MSG_FILE_PART, buf, blen);
        free(buf);
    }
    free(chunk);
}

static void complete(struct node *n, struct result_fetch *f)
{
    char part[4400], path[4300];
    part_path(f, part, sizeof part);
    queue_file_path(f->dir, f->ref.hash, path, sizeof path);
    int rc = fsync(f->fd);
    close(f->fd);
    f->fd = -1;
    if (rc != 0 || rename(part, path) != 0) {
        mlog(&n->log, LOG_WARN, "cannot store the results of batch %llu: %s",
             (unsigned long long)f->ref.batch_id, strerror(errno));
        unlink(part);
        f->active = false;
        f->pause_until_ms = uv_now(&n->loop) + ROUND_PAUSE_MS;
        return;
    }
    f->active = false;
    if (start_load(n, f, &f->ref, true) != 0 && errno != ENOENT)
        fetched_damaged(n, f, errno);
}

/* The file fetched from f->peer failed its check: removed, and fetched
 * from the next peer. */
static void fetched_damaged(struct node *n, struct result_fetch *f, int err)
{
    char path[4300];
    queue_file_path(f->dir, f->ref.hash, path, sizeof path);
    mlog(&n->log, LOG_WARN, "batch %llu: the results file fetched from node %016llx is "
         "damaged (%s): refused, fetching it again", (unsigned long long)f->ref.batch_id,
         (unsigned long long)f->peer, strerror(err));
    unlink(path);
    if (++f->damaged >= linked_peers(n)) {
        /* as many damaged copies as peers: not a fetch loop at link speed */
        f->damaged = 0;
        f->pause_until_ms = uv_now(&n->loop) + DAMAGED_PAUSE_MS;
        return;
    }
    struct queue_file_ref ref = f->ref;
    start_fetch(n, f, &ref);   /* from the next peer */
}

/* Every linked peer said "not here". After MISSING_ROUNDS of that, the
 * batch is missing: told once (an event, not one a second), its readers
 * without --wait answered, and the fetch moves on to the next batch's
 * file, asking for this one again every MISSING_RETRY_MS. Nothing else of
 * the node waits for it. */
static void round_refused(struct node *n, struct result_fetch *f)
{
    struct results_wait *w = wait_of(f, &f->ref);
    if (w == NULL || ++w->rounds < MISSING_ROUNDS)
        return;
    w->asked = (unsigned)linked_peers(n);
    w->missing = true;
    w->retry_ms = uv_now(&n->loop) + MISSING_RETRY_MS;
    if (!w->told) {
        w->told = true;
        char hex[2 * QUEUE_FILE_HASH_BYTES + 1], since[16];
        sodium_bin2hex(hex, sizeof hex, w->hash, sizeof w->hash);
        time_t t = (time_t)(w->since_ms / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(since, sizeof since, "%H:%M:%S", &tm);
        node_event(n, MESH_EV_WARNING, "batch %llu: its results file %.16s is on no reachable "
                   "node (asked %u, %d times); waiting since %s UTC",
                   (unsigned long long)w->batch_id, hex, w->asked, MISSING_ROUNDS, since);
    }
    drop_fetch(f);
    dispatch_readable(n->routes, n);
    load_or_fetch(n, f);
}

void node_results_on_part(struct node *n, uint64_t peer, const uint8_t *data, size_t len)
{
    struct msg_file_part p;
    struct result_fetch *f = n->results;
    if (f == NULL || !f->active || peer != f->peer || msg_file_part_decode(&p, data, len) != 0 ||
        memcmp(p.hash, f->ref.hash, sizeof p.hash) != 0)
        return;
    if (p.total == 0 || p.total != f->ref.len) {
        /* not here (or not the file the manifest names): the next peer;
         * once every linked peer said no, pause before the next round */
        if (++f->refused >= linked_peers(n)) {
            f->refused = 0;
            f->asked_ms = uv_now(&n->loop) + ROUND_PAUSE_MS - ASK_TIMEOUT_MS;
            f->peer = 0;
            round_refused(n, f);
            return;
        }
        ask(n, f, true);
        return;
    }
    struct results_wait *w = wait_of(f, &f->ref);
    if (w != NULL)
        w->missing = false;   /* a peer has it */
    if (p.offset != f->got)
        return;   /* a late answer to an earlier ask */
    size_t done = 0;
    while (done < p.len) {
        ssize_t w = pwrite(f->fd, p.data + done, p.len - done, (off_t)(p.offset + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            mlog(&n->log, LOG_WARN, "cannot write the results of batch %llu: %s",
                 (unsigned long long)f->ref.batch_id, strerror(w < 0 ? errno : EIO));
            drop_fetch(f);
            f->pause_until_ms = uv_now(&n->loop) + ROUND_PAUSE_MS;
            return;
        }
        done += (size_t)w;
    }
    f->got += p.len;
    if (f->got == f->ref.len)
        complete(n, f);
    else if (p.len == 0)
        ask(n, f, true);   /* a peer that sends nothing: another */
    else
        ask(n, f, false);
}

void node_results_stop(struct node *n)
{
    if (n->results == NULL)
        return;
    drop_fetch(n->results);
    free(n->results->waits);
    free(n->results);
    n->results = NULL;
}
