/* worker.c - see worker.h.
 *
 * Life of a worker: spawn -> (idle <-> busy)* -> exit -> all three handles
 * (process, stdin pipe, stdout pipe) closed -> job settled -> respawn.
 * The child's stdout is read to EOF before the worker is settled, so an
 * answer written just before a crash is never lost.
 *
 * A worker whose numbers come back fast holds a queue of jobs (up to
 * JOBS_MAX), their numbers written to the child together once per answer
 * read, not one job at a time: with chunks of 1 (or 43) a round trip to
 * the child per job was most of a node's system time (context switches on
 * the pipe). A worker on slow numbers takes one job at a time, as before,
 * so no job waits behind a hard number while another worker idles. */
#include "worker.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "numtext.h"

enum {
    WINDOW = 32,                 /* numbers written ahead of the answers */
    FAST_WINDOW = 1024,          /* ... while the numbers come back fast */
    FAST_MS = 1,                 /* fast: at most this a number on average
                                    (trivial numbers take about a microsecond) */
    JOBS_MAX = 16,               /* jobs queued on one fast worker */
    MAX_LINE = 1 << 20,          /* longest answer line we accept */
    READ_CHUNK = 64 * 1024,
    RESPAWN_MIN_MS = 50,
    RESPAWN_MAX_MS = 5000,
    DEADLINE_MARGIN_MS = 2000,   /* the child enforces the budget itself; this
                                    catches a child that cannot */
};

/* A job given to a worker, and how far its numbers have been written. */
struct queued {
    struct sched_job job;
    uint64_t next_send;         /* next index to write */
};

struct worker {
    struct worker_pool *pool;
    uv_process_t proc;
    uv_pipe_t to_child;
    uv_pipe_t from_child;
    uv_timer_t timer;           /* number deadline while busy, respawn delay while dead */
    unsigned open_handles;      /* of proc, to_child, from_child */
    bool alive;                 /* spawned and not yet settled */
    bool exited, eof;
    bool feeding;
    bool fast;                  /* its last answers came back fast */
    bool feed_due;              /* numbers to write when the loop is idle */
    bool killing;
    enum worker_end kill_reason;
    uint64_t kill_batch;        /* ABORTED: the batch cancelled */
    struct queued q[JOBS_MAX];  /* q[0] is answered first */
    unsigned n_jobs;
    uint64_t head;              /* oldest unanswered index, of q[0] */
    uint64_t head_start_ms;
    uint64_t respawn_delay_ms;
    bool has_progress;          /* the head number told its progress */
    struct factor_progress_record progress;
    uint64_t progress_ms;
    char *line;
    size_t line_len, line_cap;
    char readbuf[READ_CHUNK];
};

struct worker_pool {
    struct worker_pool_config cfg;
    struct worker *workers;
    char exe[4096];
    char budget_arg[32];
    bool stopping;
    unsigned timers_open;       /* the workers' timers and the writer */
    uv_idle_t writer;           /* writes the numbers due, once an iteration */
    void (*stop_done)(void *ud);
    void *stop_ud;
};

struct write_req {
    uv_write_t req;
    char data[];
};

static void spawn_worker(struct worker *w);
static void end_job(struct worker *w, unsigned at, uint64_t next, enum worker_end why);
static void settle_unsent(struct worker *w);
static void maybe_stop_done(struct worker_pool *p);

/* ---- writing numbers ---------------------------------------------------- */

static void on_written(uv_write_t *req, int status)
{
    (void)status; /* EPIPE means the child died: its exit settles the job */
    free(req);
}

/* v in decimal at dst; returns its length (at most 20). */
static size_t put_u64(char *dst, uint64_t v)
{
    char digits[24];
    size_t n = 0, at = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        dst[at++] = digits[--n];
    return at;
}

/* The budget (ms, 0 = unlimited) a job's numbers get: its batch's own,
 * else the pool's. */
static uint64_t job_budget(const struct worker *w, const struct sched_job *job)
{
    return batch_budget_resolve(job->budget_ms, w->pool->cfg.budget_ms);
}

/* "INDEX NUMBER\n", or "INDEX NUMBER BUDGET\n" when the job's budget is
 * not the one the child was started with (snprintf per number was a
 * visible cost with trivial numbers); dst has room for MESH_MAX_DIGITS + 48
 * bytes. */
static size_t request_line(const struct worker *w, const struct sched_job *job, char *dst,
                           uint64_t index, const char *num)
{
    size_t at = put_u64(dst, index);
    dst[at++] = ' ';
    size_t len = strlen(num);
    memcpy(dst + at, num, len);
    at += len;
    uint64_t budget = job_budget(w, job);
    if (budget != w->pool->cfg.budget_ms) {
        dst[at++] = ' ';
        at += put_u64(dst + at, budget);
    }
    dst[at++] = '\n';
    return at;
}

/* Numbers written to the child and not yet answered. */
static uint64_t written_ahead(const struct worker *w)
{
    if (w->n_jobs == 0)
        return 0;
    uint64_t n = 0;
    for (unsigned i = 0; i < w->n_jobs; i++)
        n += w->q[i].next_send - w->q[i].job.lo;
    return n - (w->head - w->q[0].job.lo);
}

/* The first job with numbers not yet written; n_jobs when none. */
static unsigned first_unwritten(const struct worker *w)
{
    unsigned i = 0;
    while (i < w->n_jobs && w->q[i].next_send == w->q[i].job.hi)
        i++;
    return i;
}

/* Writes `room` numbers at most, from the queued jobs in order; a number
 * that cannot be made (its batch is not in this replica) is never
 * factored: feeding stops and the jobs hand the rest back once what was
 * written is answered. Only what really went out counts as written. */
static void write_numbers(struct worker *w, uint64_t room)
{
    size_t per = MESH_MAX_DIGITS + 48; /* index, number, budget, blanks, \n */
    struct write_req *wr = malloc(sizeof *wr + room * per);
    if (wr == NULL)
        return;
    uint64_t upto[JOBS_MAX];
    for (unsigned i = 0; i < w->n_jobs; i++)
        upto[i] = w->q[i].next_send;
    size_t len = 0;
    char num[MESH_MAX_DIGITS + 2];
    for (unsigned i = first_unwritten(w); i < w->n_jobs && room > 0 && w->feeding; i++) {
        const struct sched_job *job = &w->q[i].job;
        for (; upto[i] < job->hi && room > 0; upto[i]++, room--) {
            if (w->pool->cfg.make_number(w->pool->cfg.ud, job->batch_id, upto[i], num,
                                         sizeof num) != 0) {
                w->feeding = false;
                break;
            }
            len += request_line(w, job, wr->data + len, upto[i], num);
        }
    }
    uv_buf_t buf = uv_buf_init(wr->data, (unsigned)len);
    if (len == 0 || uv_write(&wr->req, (uv_stream_t *)&w->to_child, &buf, 1, on_written) != 0) {
        free(wr); /* not sent: the next answer (or respawn) tries again */
        return;
    }
    for (unsigned i = 0; i < w->n_jobs; i++)
        w->q[i].next_send = upto[i];
}

static void feed(struct worker *w);

/* Every job given and every answer read in this loop iteration, written in
 * one go: the leader's lease ends (and so the next leases) arrive at the
 * end of an iteration, and a write per job woke the child once a job. */
static void on_writer(uv_idle_t *h)
{
    struct worker_pool *p = h->data;
    uv_idle_stop(h);
    for (unsigned i = 0; i < p->cfg.count; i++) {
        struct worker *w = &p->workers[i];
        if (w->feed_due) {
            w->feed_due = false;
            feed(w);
        }
    }
}

static void feed_soon(struct worker *w)
{
    w->feed_due = true;
    if (!w->pool->stopping)
        uv_idle_start(&w->pool->writer, on_writer);
}

static void feed(struct worker *w)
{
    if (w->alive && w->n_jobs > 0 && w->feeding) {
        uint64_t ahead = written_ahead(w);
        uint64_t window = w->fast ? FAST_WINDOW : WINDOW;
        /* Top the window up only once half of it is answered: one write
         * per half window, not one per answer (trivial numbers answer in
         * microseconds, and a write each was a tenth of a node's time). */
        if (ahead <= window / 2 && first_unwritten(w) < w->n_jobs)
            write_numbers(w, window - ahead);
    }
    settle_unsent(w);
}

/* ---- deadlines ---------------------------------------------------------- */

static void on_deadline(uv_timer_t *t)
{
    struct worker *w = t->data;
    if (!w->alive || w->n_jobs == 0)
        return;
    mlog(w->pool->cfg.log, LOG_WARN,
         "worker %d: number %llu of batch %llu exceeded its budget; killing it",
         w->proc.pid, (unsigned long long)w->head, (unsigned long long)w->q[0].job.batch_id);
    w->killing = true;
    w->kill_reason = WORKER_JOB_TIMEOUT;
    if (!w->exited) /* after exit the pid may already be someone else's */
        uv_process_kill(&w->proc, SIGKILL);
}

/* The head number's clock starts (a job began, or answers came). */
static void arm_deadline(struct worker *w)
{
    uint64_t budget = job_budget(w, &w->q[0].job);
    w->head_start_ms = uv_now(w->pool->cfg.loop);
    if (budget == 0)
        return;
    uv_timer_start(&w->timer, on_deadline, budget + budget / 2 + DEADLINE_MARGIN_MS, 0);
}

/* ---- jobs ending ---------------------------------------------------------- */

/* Job q[at] leaves the worker, then its end is told (the callbacks may
 * give this worker another job at once, so nothing here holds on to the
 * queue across them). */
static void end_job(struct worker *w, unsigned at, uint64_t next, enum worker_end why)
{
    struct worker_pool *p = w->pool;
    struct sched_job job = w->q[at].job;
    memmove(&w->q[at], &w->q[at + 1], (w->n_jobs - at - 1) * sizeof w->q[0]);
    w->n_jobs--;
    if (at == 0) {
        w->has_progress = false;
        uv_timer_stop(&w->timer);
        if (w->n_jobs > 0) {
            w->head = w->q[0].job.lo;
            if (w->alive)
                arm_deadline(w);
        }
    }
    p->cfg.on_job_end(p->cfg.ud, &job, next, why);
    if (p->cfg.on_idle != NULL && !p->stopping)
        p->cfg.on_idle(p->cfg.ud);
}

/* Not feeding (drain, or a number that could not be made): the jobs none
 * of whose numbers went out go back now, the one being answered once what
 * was written of it is answered. */
static void settle_unsent(struct worker *w)
{
    while (!w->feeding && w->n_jobs > 0 && !w->killing) {
        unsigned last = w->n_jobs - 1;
        if (last > 0 && w->q[last].next_send == w->q[last].job.lo)
            end_job(w, last, w->q[last].job.lo, WORKER_JOB_RETURNED);
        else if (w->head == w->q[0].next_send && w->head < w->q[0].job.hi)
            end_job(w, 0, w->head, WORKER_JOB_RETURNED);
        else
            return;
    }
}

/* ---- reading answers ---------------------------------------------------- */

/* Turns the child's "done ..." / "partial C ..." (rest[0..len), NUL at
 * rest[len]) into the canonical text; its length, or -1. */
static long canonical_text(char *rest, size_t len, char *out, size_t outlen, bool *unfactored)
{
    *unfactored = false;
    if (strncmp(rest, "done", 4) == 0 && (rest[4] == '\0' || rest[4] == ' ')) {
        size_t skip = rest[4] ? 5 : 4;
        if (len - skip >= outlen)
            return -1;
        memcpy(out, rest + skip, len - skip + 1);
        return (long)(len - skip);
    }
    if (strncmp(rest, "partial ", 8) == 0) {
        char *cof = rest + 8;
        char *sp = strchr(cof, ' ');
        int n;
        *unfactored = true;
        if (sp == NULL)
            n = snprintf(out, outlen, "unfactored:%s", cof);
        else
            n = snprintf(out, outlen, "%s unfactored:%.*s", sp + 1, (int)(sp - cof), cof);
        return n >= 0 && (size_t)n < outlen ? n : -1;
    }
    return -1;
}

static void kill_for_protocol_error(struct worker *w, const char *why)
{
    mlog(w->pool->cfg.log, LOG_ERROR, "worker %d: %s; restarting it", w->proc.pid, why);
    w->killing = true;
    w->kill_reason = WORKER_JOB_CRASHED;
    if (!w->exited)
        uv_process_kill(&w->proc, SIGKILL);
}

/* "ID progress ...": where the head number is; not an answer. A record
 * that does not parse, or names another number, is a broken child. */
static void handle_progress(struct worker *w, const char *line)
{
    struct factor_progress_record r;
    if (factor_progress_parse(line, strlen(line), &r) != 0) {
        kill_for_protocol_error(w, "malformed progress record");
        return;
    }
    if (w->n_jobs == 0 || r.id != w->head) {
        kill_for_protocol_error(w, "progress record out of order");
        return;
    }
    w->progress = r;
    w->has_progress = true;
    w->progress_ms = uv_now(w->pool->cfg.loop);
}

/* One answer line (len bytes, NUL-terminated); returns whether it
 * answered a number. */
static bool handle_answer(struct worker *w, char *line, size_t len)
{
    struct worker_pool *p = w->pool;
    char *end;
    if (factor_progress_is_record(line, len)) {
        handle_progress(w, line);
        return false;
    }
    unsigned long long id = strtoull(line, &end, 10);
    if (w->n_jobs == 0 || end == line || *end != ' ' || id != w->head ||
        w->head >= w->q[0].next_send) {
        kill_for_protocol_error(w, "answer out of order");
        return false;
    }
    char small[256];
    size_t rest = len - (size_t)(end + 1 - line), cap = rest + MESH_MAX_DIGITS + 32;
    char *text = cap <= sizeof small ? small : malloc(cap);
    if (text == NULL)
        return false;
    bool unfactored;
    long text_len = canonical_text(end + 1, rest, text, cap, &unfactored);
    if (text_len < 0) {
        /* "error ...": the kernel refused (e.g. a failed verification).
         * Counted as a crash on this number: tried again (maybe on another
         * node), then reported unfactored by the crash rule, which the
         * leader accepts early (an early "unfactored" of any other kind it
         * refuses: doc/DESIGN.md, "Results are checked"). */
        mlog(p->cfg.log, LOG_WARN, "worker %d: kernel error on index %llu: %s",
             w->proc.pid, id, end + 1);
        if (text != small)
            free(text);
        kill_for_protocol_error(w, "the kernel failed on a number");
        return false;
    }
    uint64_t now = uv_now(p->cfg.loop);
    struct worker_result r = {w->q[0].job.batch_id, id, text, (size_t)text_len, unfactored,
                              (double)(now - w->head_start_ms)};
    p->cfg.on_result(p->cfg.ud, &r);
    if (text != small)
        free(text);
    w->head++;
    w->has_progress = false;
    w->respawn_delay_ms = 0;
    if (w->head == w->q[0].job.hi)
        end_job(w, 0, w->head, WORKER_JOB_DONE);
    return true;
}

static int append_bytes(struct worker *w, const char *data, size_t n)
{
    if (w->line_len + n > MAX_LINE)
        return -1;
    if (w->line_len + n + 1 > w->line_cap) {
        size_t cap = (w->line_len + n + 1) * 2;
        char *nl = realloc(w->line, cap);
        if (nl == NULL)
            return -1;
        w->line = nl;
        w->line_cap = cap;
    }
    memcpy(w->line + w->line_len, data, n);
    w->line_len += n;
    return 0;
}

static void settle_if_gone(struct worker *w);

/* After the answers of one read: is the worker fast (at most FAST_MS a
 * number since the last answers), and its window topped up. */
static void after_answers(struct worker *w, uint64_t answered)
{
    if (!w->alive || w->killing || answered == 0 || w->n_jobs == 0)
        return;
    uint64_t now = uv_now(w->pool->cfg.loop);
    w->fast = now - w->head_start_ms <= answered * FAST_MS;
    arm_deadline(w);
    feed_soon(w);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct worker *w = s->data;
    if (nread < 0) {
        uv_read_stop(s);
        w->eof = true;
        settle_if_gone(w);
        return;
    }
    const char *p = buf->base, *end = buf->base + nread;
    uint64_t answered = 0;
    while (p < end && !w->killing) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);
        if (append_bytes(w, p, n) != 0) {
            kill_for_protocol_error(w, "answer line too long");
            return;
        }
        if (nl == NULL)
            break;
        w->line[w->line_len] = '\0';
        size_t len = w->line_len;
        w->line_len = 0;
        answered += handle_answer(w, w->line, len);
        p = nl + 1;
    }
    after_answers(w, answered);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct worker *w = h->data;
    *buf = uv_buf_init(w->readbuf, sizeof w->readbuf);
}

/* ---- process life ------------------------------------------------------- */

static void on_respawn_timer(uv_timer_t *t)
{
    spawn_worker(t->data);
}

/* How a job of a dead worker ends: the one being answered by the reason
 * it was killed (a crash if it was not); the ones queued behind it never
 * started and go back, unless their batch was the one cancelled. */
static enum worker_end dead_end(const struct worker *w, unsigned at)
{
    enum worker_end why = w->killing ? w->kill_reason : WORKER_JOB_CRASHED;
    if (why == WORKER_JOB_ABORTED)
        return w->q[at].job.batch_id == w->kill_batch ? why : WORKER_JOB_RETURNED;
    return at == 0 ? why : WORKER_JOB_RETURNED;
}

static void on_handle_closed(uv_handle_t *h)
{
    struct worker *w = h->data;
    if (--w->open_handles > 0)
        return;
    struct worker_pool *p = w->pool;
    w->alive = false;
    while (w->n_jobs > 0) { /* the last first: the head's end is told last */
        unsigned last = w->n_jobs - 1;
        end_job(w, last, last == 0 ? w->head : w->q[last].job.lo, dead_end(w, last));
    }
    w->killing = false;
    w->fast = false;
    if (p->stopping) {
        maybe_stop_done(p);
        return;
    }
    /* Back off when a worker keeps dying right away (broken binary, OOM). */
    w->respawn_delay_ms = w->respawn_delay_ms == 0 ? RESPAWN_MIN_MS
                                                   : w->respawn_delay_ms * 2;
    if (w->respawn_delay_ms > RESPAWN_MAX_MS)
        w->respawn_delay_ms = RESPAWN_MAX_MS;
    uv_timer_start(&w->timer, on_respawn_timer, w->respawn_delay_ms, 0);
}

static void settle_if_gone(struct worker *w)
{
    if (!w->exited || !w->eof)
        return;
    uv_close((uv_handle_t *)&w->proc, on_handle_closed);
    uv_close((uv_handle_t *)&w->to_child, on_handle_closed);
    uv_close((uv_handle_t *)&w->from_child, on_handle_closed);
}

static void on_child_exit(uv_process_t *proc, int64_t status, int signal)
{
    struct worker *w = proc->data;
    if (!w->killing && !w->pool->stopping)
        mlog(w->pool->cfg.log, LOG_WARN, "worker %d exited (status %lld, signal %d)",
             proc->pid, (long long)status, signal);
    w->exited = true;
    settle_if_gone(w);
}

static void spawn_worker(struct worker *w)
{
    struct worker_pool *p = w->pool;
    uv_loop_t *loop = p->cfg.loop;
    uv_pipe_init(loop, &w->to_child, 0);
    uv_pipe_init(loop, &w->from_child, 0);
    w->to_child.data = w->from_child.data = w->proc.data = w;
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_CREATE_PIPE | UV_READABLE_PIPE, .data.stream = (uv_stream_t *)&w->to_child},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&w->from_child},
        {.flags = UV_INHERIT_FD, .data.fd = p->cfg.stderr_fd},
    };
    char *args[] = {p->exe, "__worker", "--number-timeout", p->budget_arg, NULL};
    uv_process_options_t opts = {
        .exit_cb = on_child_exit, .file = p->exe, .args = args,
        .stdio = stdio, .stdio_count = 3,
    };
    w->exited = w->eof = false;
    w->fast = false;
    w->open_handles = 3;
    int rc = uv_spawn(loop, &w->proc, &opts);
    if (rc != 0) {
        mlog(p->cfg.log, LOG_ERROR, "cannot start worker %s: %s", p->exe, uv_strerror(rc));
        w->exited = w->eof = true; /* uv_spawn left proc initialised: close all */
        w->alive = true;
        settle_if_gone(w);
        return;
    }
    w->alive = true;
    uv_read_start((uv_stream_t *)&w->from_child, on_alloc, on_read);
    if (p->cfg.on_idle != NULL)
        p->cfg.on_idle(p->cfg.ud);
}

/* ---- pool --------------------------------------------------------------- */

int worker_pool_start(struct worker_pool **out, const struct worker_pool_config *cfg)
{
    struct worker_pool *p = calloc(1, sizeof *p);
    if (p == NULL)
        return -1;
    p->cfg = *cfg;
    p->workers = calloc(cfg->count, sizeof *p->workers);
    size_t len = sizeof p->exe;
    if (p->workers == NULL || uv_exepath(p->exe, &len) != 0) {
        free(p->workers);
        free(p);
        return -1;
    }
    snprintf(p->budget_arg, sizeof p->budget_arg, "%llu",
             (unsigned long long)cfg->budget_ms);
    for (unsigned i = 0; i < cfg->count; i++) {
        struct worker *w = &p->workers[i];
        w->pool = p;
        uv_timer_init(cfg->loop, &w->timer);
        w->timer.data = w;
        p->timers_open++;
    }
    uv_idle_init(cfg->loop, &p->writer);
    p->writer.data = p;
    p->timers_open++;
    for (unsigned i = 0; i < cfg->count; i++)
        spawn_worker(&p->workers[i]);
    *out = p;
    return 0;
}

/* Alive and not being killed: it may be given a job. */
static bool worker_usable(const struct worker *w)
{
    return w->alive && !w->exited && !w->killing;
}

/* Its job queue has room: empty, or fast and still feeding. */
static bool worker_takes(const struct worker *w)
{
    return worker_usable(w) &&
           (w->n_jobs == 0 || (w->n_jobs < JOBS_MAX && w->fast && w->feeding));
}

static void add_job(struct worker *w, const struct sched_job *job)
{
    bool first = w->n_jobs == 0;
    w->q[w->n_jobs++] = (struct queued){*job, job->lo};
    if (first) {
        w->feeding = true;
        w->head = job->lo;
        arm_deadline(w);
    }
    feed_soon(w);
}

/* An idle worker first; else a fast one with room in its queue. */
bool worker_pool_assign(struct worker_pool *p, const struct sched_job *job)
{
    for (int pass = 0; pass < 2; pass++)
        for (unsigned i = 0; i < p->cfg.count; i++) {
            struct worker *w = &p->workers[i];
            if (pass == 0 ? worker_usable(w) && w->n_jobs == 0 : worker_takes(w)) {
                add_job(w, job);
                return true;
            }
        }
    return false;
}

size_t worker_pool_progress(const struct worker_pool *p, struct worker_progress *out,
                            size_t max)
{
    size_t n = 0;
    for (unsigned i = 0; i < p->cfg.count && n < max; i++) {
        const struct worker *w = &p->workers[i];
        if (w->n_jobs == 0 || !w->has_progress || w->killing)
            continue;
        out[n++] = (struct worker_progress){w->q[0].job.batch_id, w->head, i, w->progress,
                                            w->progress_ms};
    }
    return n;
}

size_t worker_pool_jobs(const struct worker_pool *p, struct worker_at *out, size_t max)
{
    size_t n = 0;
    for (unsigned i = 0; i < p->cfg.count && n < max; i++) {
        const struct worker *w = &p->workers[i];
        if (w->n_jobs > 0 && !w->killing) /* the head is in the first job */
            out[n++] = (struct worker_at){w->q[0].job.batch_id, w->head, i};
    }
    return n;
}

unsigned worker_pool_idle(const struct worker_pool *p)
{
    unsigned n = 0;
    for (unsigned i = 0; i < p->cfg.count; i++)
        n += worker_takes(&p->workers[i]);
    return n;
}

unsigned worker_pool_busy(const struct worker_pool *p)
{
    unsigned n = 0;
    for (unsigned i = 0; i < p->cfg.count; i++)
        n += p->workers[i].n_jobs > 0;
    return n;
}

unsigned worker_pool_size(const struct worker_pool *p)
{
    return p->cfg.count;
}

void worker_pool_return_unstarted(struct worker_pool *p)
{
    for (unsigned i = 0; i < p->cfg.count; i++) {
        struct worker *w = &p->workers[i];
        if (w->n_jobs == 0 || w->killing)
            continue;
        w->feeding = false;
        settle_unsent(w);
    }
}

static bool holds_batch(const struct worker *w, uint64_t batch_id)
{
    for (unsigned i = 0; i < w->n_jobs; i++)
        if (w->q[i].job.batch_id == batch_id)
            return true;
    return false;
}

void worker_pool_abort_batch(struct worker_pool *p, uint64_t batch_id)
{
    for (unsigned i = 0; i < p->cfg.count; i++) {
        struct worker *w = &p->workers[i];
        if (!holds_batch(w, batch_id) || w->killing || w->exited)
            continue;
        w->killing = true;
        w->kill_reason = WORKER_JOB_ABORTED;
        w->kill_batch = batch_id;
        w->respawn_delay_ms = 0;
        uv_process_kill(&w->proc, SIGKILL);
    }
}

static void on_timer_closed(uv_handle_t *h)
{
    struct worker *w = h->data;
    struct worker_pool *p = w->pool;
    if (--p->timers_open == 0 && p->stop_done != NULL)
        p->stop_done(p->stop_ud);
}

static void on_writer_closed(uv_handle_t *h)
{
    struct worker_pool *p = h->data;
    if (--p->timers_open == 0 && p->stop_done != NULL)
        p->stop_done(p->stop_ud);
}

static void maybe_stop_done(struct worker_pool *p)
{
    for (unsigned i = 0; i < p->cfg.count; i++)
        if (p->workers[i].alive)
            return;
    for (unsigned i = 0; i < p->cfg.count; i++)
        if (!uv_is_closing((uv_handle_t *)&p->workers[i].timer))
            uv_close((uv_handle_t *)&p->workers[i].timer, on_timer_closed);
    if (!uv_is_closing((uv_handle_t *)&p->writer))
        uv_close((uv_handle_t *)&p->writer, on_writer_closed);
}

void worker_pool_stop(struct worker_pool *p, void (*done)(void *ud), void *ud)
{
    p->stopping = true;
    p->stop_done = done;
    p->stop_ud = ud;
    for (unsigned i = 0; i < p->cfg.count; i++) {
        struct worker *w = &p->workers[i];
        uv_timer_stop(&w->timer);
        if (w->alive && !w->exited) {
            w->killing = true;
            w->kill_reason = WORKER_JOB_RETURNED;
            uv_process_kill(&w->proc, SIGKILL);
        }
    }
    maybe_stop_done(p);
}

void worker_pool_free(struct worker_pool *p)
{
    if (p == NULL)
        return;
    for (unsigned i = 0; i < p->cfg.count; i++)
        free(p->workers[i].line);
    free(p->workers);
    free(p);
}
