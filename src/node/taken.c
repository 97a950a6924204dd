/* taken.c - the results a leadership took and has not yet seen committed
 * (taken.h says what and why).
 *
 * A sorted array of disjoint ranges [lo, hi) by (batch, lo); neighbours
 * that touch are merged, so a lease's run is one range however long. */
#include "taken.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"

struct span {
    uint64_t batch, lo, hi;
    uint64_t since_ms;          /* taken, or its first index last moved on */
};

struct taken {
    struct span *spans;
    size_t n, cap;
    size_t hint;                /* the span last found: the run being read */
};

struct taken *taken_new(void)
{
    return calloc(1, sizeof(struct taken));
}

void taken_free(struct taken *t)
{
    if (t == NULL)
        return;
    free(t->spans);
    free(t);
}

static bool before(const struct span *s, uint64_t batch, uint64_t index)
{
    return s->batch < batch || (s->batch == batch && s->lo <= index);
}

/* The last span that starts at or before (batch, index), or t->n when
 * none does. */
static size_t floor_of(struct taken *t, uint64_t batch, uint64_t index)
{
    size_t h = t->hint;
    if (h < t->n && before(&t->spans[h], batch, index) &&
        (h + 1 == t->n || !before(&t->spans[h + 1], batch, index)))
        return h;
    size_t lo = 0, hi = t->n; /* the answer is the count of spans before, minus one */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (before(&t->spans[mid], batch, index))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? t->n : lo - 1;
}

bool taken_has(struct taken *t, uint64_t batch, uint64_t index)
{
    size_t k = floor_of(t, batch, index);
    if (k == t->n)
        return false;
    t->hint = k;
    const struct span *s = &t->spans[k];
    return s->batch == batch && index < s->hi;
}

/* Span k and the one after it touch: one span. */
static void merge_next(struct taken *t, size_t k)
{
    if (k + 1 >= t->n || t->spans[k + 1].batch != t->spans[k].batch ||
        t->spans[k + 1].lo != t->spans[k].hi)
        return;
    t->spans[k].hi = t->spans[k + 1].hi;
    memmove(t->spans + k + 1, t->spans + k + 2, (t->n - k - 2) * sizeof *t->spans);
    t->n--;
}

bool taken_add(struct taken *t, uint64_t batch, uint64_t index, uint64_t now_ms)
{
    size_t k = floor_of(t, batch, index);
    if (k < t->n && t->spans[k].batch == batch && index <= t->spans[k].hi) {
        if (index == t->spans[k].hi) {
            t->spans[k].hi++;
            merge_next(t, k);
        }
        t->hint = k;
        return true;
    }
    size_t at = k == t->n ? 0 : k + 1; /* the new span's place */
    if (at < t->n && t->spans[at].batch == batch && t->spans[at].lo == index + 1) {
        t->spans[at].lo = index;
        t->hint = at;
        return true;
    }
    if (!grow_array((void **)&t->spans, &t->cap, t->n + 1, sizeof *t->spans))
        return false;
    memmove(t->spans + at + 1, t->spans + at, (t->n - at) * sizeof *t->spans);
    t->spans[at] = (struct span){batch, index, index + 1, now_ms};
    t->n++;
    t->hint = at;
    return true;
}

void taken_clear(struct taken *t)
{
    t->n = 0;
    t->hint = 0;
}

/* Span s moved on to its first index not done; false when nothing of it
 * is left to hold. */
static bool still_held(struct span *s, const struct queue *q, uint64_t now_ms)
{
    struct batch_info info;
    if (queue_batch_get(q, s->batch, &info) != 0 || info.state != BATCH_RUNNING)
        return false;
    uint64_t next = queue_next_pending(q, s->batch, s->lo);
    if (next > s->lo) {
        s->lo = next;
        s->since_ms = now_ms;
    }
    return s->lo < s->hi && now_ms - s->since_ms < TAKEN_STALE_MS;
}

void taken_prune(struct taken *t, const struct queue *q, uint64_t now_ms)
{
    size_t kept = 0;
    for (size_t k = 0; k < t->n; k++)
        if (still_held(&t->spans[k], q, now_ms))
            t->spans[kept++] = t->spans[k];
    t->n = kept;
    t->hint = 0;
}

size_t taken_ranges(const struct taken *t)
{
    return t->n;
}
