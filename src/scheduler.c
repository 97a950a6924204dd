/* scheduler.c - see scheduler.h.
 *
 * Per running batch we keep a cursor and a small vector of handed-back
 * ranges. Batches are few (tens), so a linear scan in id order is simpler
 * and faster than any index. */
#include "scheduler.h"

#include <stdlib.h>
#include <string.h>

struct backrange {
    uint64_t lo, hi;
    uint32_t crashes;
};

struct sched_batch {
    uint64_t id;
    uint64_t cursor;            /* first index never handed out */
    double ms_per_number;       /* EWMA; 0 = not measured yet */
    struct backrange *back;
    size_t n_back, cap_back;
};

struct sched {
    const struct queue *q;
    struct sched_batch *batches;
    size_t n_batches, cap_batches;
    uint64_t next_job_id;
    sched_held_fn *held;
    void *held_ud;
};

struct sched *sched_new(const struct queue *q)
{
    struct sched *s = calloc(1, sizeof *s);
    if (s != NULL) {
        s->q = q;
        s->next_job_id = 1;
    }
    return s;
}

void sched_free(struct sched *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_batches; i++)
        free(s->batches[i].back);
    free(s->batches);
    free(s);
}

void sched_set_hold(struct sched *s, sched_held_fn *held, void *ud)
{
    s->held = held;
    s->held_ud = ud;
}

static uint64_t first_held(const struct sched *s, uint64_t batch_id, uint64_t from)
{
    return s->held != NULL ? s->held(s->held_ud, batch_id, from) : UINT64_MAX;
}

uint64_t sched_next_free(const struct sched *s, uint64_t batch_id, uint64_t from)
{
    for (;;) {
        uint64_t lo = queue_next_pending(s->q, batch_id, from);
        struct batch_info info;
        if (queue_batch_get(s->q, batch_id, &info) != 0 || lo >= info.total ||
            first_held(s, batch_id, lo) != lo)
            return lo;
        from = lo + 1;
    }
}

/* A job from lo stops before the next held index. */
static uint64_t cut_at_hold(const struct sched *s, uint64_t batch_id, uint64_t lo, uint64_t hi)
{
    uint64_t h = first_held(s, batch_id, lo);
    return h < hi ? h : hi;
}

static struct sched_batch *find_batch(const struct sched *s, uint64_t id)
{
    for (size_t i = 0; i < s->n_batches; i++)
        if (s->batches[i].id == id)
            return &s->batches[i];
    return NULL;
}

static struct sched_batch *track_batch(struct sched *s, uint64_t id)
{
    struct sched_batch *b = find_batch(s, id);
    if (b != NULL)
        return b;
    if (s->n_batches == s->cap_batches) {
        size_t cap = s->cap_batches ? s->cap_batches * 2 : 8;
        struct sched_batch *nb = realloc(s->batches, cap * sizeof *nb);
        if (nb == NULL)
            return NULL;
        s->batches = nb;
        s->cap_batches = cap;
    }
    b = &s->batches[s->n_batches++];
    memset(b, 0, sizeof *b);
    b->id = id;
    return b;
}

static uint64_t chunk_for(const struct sched_batch *b, const struct batch_info *info)
{
    if (info->chunk > 0)
        return info->chunk;
    if (b->ms_per_number <= 0)
        return SCHED_FIRST_CHUNK;
    double n = SCHED_TARGET_JOB_MS / b->ms_per_number;
    if (n < SCHED_MIN_CHUNK)
        return SCHED_MIN_CHUNK;
    if (n > SCHED_MAX_CHUNK)
        return SCHED_MAX_CHUNK;
    return (uint64_t)n;
}

/* Takes the first handed-back range with something left to do. */
static bool take_back(struct sched *s, struct sched_batch *b, struct sched_job *out)
{
    while (b->n_back > 0) {
        struct backrange r = b->back[--b->n_back];
        uint64_t lo = sched_next_free(s, b->id, r.lo);
        if (lo >= r.hi)
            continue;
        uint64_t hi = cut_at_hold(s, b->id, lo, r.hi);
        if (hi < r.hi) /* the rest after the held index stays handed back */
            b->back[b->n_back++] = (struct backrange){hi, r.hi, 0};
        out->batch_id = b->id;
        out->lo = lo;
        out->hi = hi;
        out->crashes = lo == r.lo ? r.crashes : 0;
        return true;
    }
    return false;
}

static bool take_new(struct sched *s, struct sched_batch *b,
                     const struct batch_info *info, struct sched_job *out)
{
    uint64_t lo = sched_next_free(s, b->id, b->cursor);
    if (lo >= info->total) {
        b->cursor = info->total;
        return false;
    }
    uint64_t hi = lo + chunk_for(b, info);
    if (hi > info->total)
        hi = info->total;
    hi = cut_at_hold(s, b->id, lo, hi);
    b->cursor = hi;
    out->batch_id = b->id;
    out->lo = lo;
    out->hi = hi;
    out->crashes = 0;
    return true;
}

bool sched_next_job(struct sched *s, struct sched_job *out)
{
    size_t n = queue_batch_count(s->q);
    for (size_t i = 0; i < n; i++) {
        struct batch_info info;
        if (queue_batch_at(s->q, i, &info) != 0 || info.state != BATCH_RUNNING)
            continue;
        struct sched_batch *b = track_batch(s, info.id);
        if (b == NULL)
            return false;
        if (take_back(s, b, out) || take_new(s, b, &info, out)) {
            out->job_id = s->next_job_id++;
            out->granter = 0;
            out->budget_ms = info.spec->budget_ms;
            return true;
        }
    }
    return false;
}

bool sched_left_at_least(const struct sched *s, uint64_t enough)
{
    uint64_t left = 0;
    size_t n = queue_batch_count(s->q);
    for (size_t i = 0; i < n && left < enough; i++) {
        struct batch_info info;
        if (queue_batch_at(s->q, i, &info) != 0 || info.state != BATCH_RUNNING)
            continue;
        const struct sched_batch *b = find_batch(s, info.id);
        uint64_t from = b != NULL ? b->cursor : 0;
        uint64_t fresh = from < info.total ? info.total - from : 0;
        uint64_t undone = info.total - info.done;
        left += fresh < undone ? fresh : undone;
    }
    return left >= enough;
}

void sched_give_back(struct sched *s, const struct sched_job *job, uint64_t from,
                     uint32_t crashes)
{
    if (from >= job->hi)
        return;
    struct sched_batch *b = track_batch(s, job->batch_id);
    if (b == NULL)
        return;
    if (b->n_back == b->cap_back) {
        size_t cap = b->cap_back ? b->cap_back * 2 : 8;
        struct backrange *nb = realloc(b->back, cap * sizeof *nb);
        if (nb == NULL)
            return; /* the range stays undone until sched_rescan() */
        b->back = nb;
        b->cap_back = cap;
    }
    b->back[b->n_back++] = (struct backrange){from, job->hi, crashes};
}

void sched_observe(struct sched *s, uint64_t batch_id, uint64_t numbers, double ms)
{
    struct sched_batch *b = find_batch(s, batch_id);
    if (b == NULL || numbers == 0)
        return;
    double per = ms / (double)numbers;
    /* EWMA: follows a batch whose numbers get harder without jumping on
     * one outlier. */
    b->ms_per_number = b->ms_per_number > 0 ? 0.7 * b->ms_per_number + 0.3 * per : per;
}

void sched_prune(struct sched *s)
{
    size_t kept = 0;
    for (size_t i = 0; i < s->n_batches; i++) {
        struct batch_info info;
        if (queue_batch_get(s->q, s->batches[i].id, &info) == 0 &&
            info.state == BATCH_RUNNING) {
            s->batches[kept++] = s->batches[i];
            continue;
        }
        free(s->batches[i].back);
    }
    s->n_batches = kept;
}

void sched_rescan(struct sched *s)
{
    for (size_t i = 0; i < s->n_batches; i++)
        s->batches[i].cursor = 0;
}
