/* siqs_mp_wire.c - encoder and checked decoder of SIQS relations
 * (siqs_mp_wire.h). Sending the slots costs ~20 bytes a relation but
 * makes the check one product and one compare, where re-deriving the
 * factors would trial-divide Q by the whole factor base (tens of
 * microseconds each, the receiver's whole budget at 200 bits). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "siqs_mp_internal.h"
#include "siqs_mp_wire.h"

/* Version 1 sent every slot; version 2 (written since) leaves out what
 * the receiver finds itself: one occurrence of each of A's primes, which
 * divide every relation of that A (y^2 - kN = A Q(x)) and which it knows
 * from the A index, and the slots of -1 and 2, the sign and the power of
 * two of y^2 - kN; and it sends the A index as a signed difference from
 * the previous relation's. At 200 bits that is ~23 bytes a relation
 * instead of 34 (8 A primes, the sign and ~2 twos of ~20 slots), bytes
 * every node carries through its log and apply. Both are read: committed
 * results of either version replay. */
enum { WIRE_MAGIC = 'R', WIRE_V1 = 1, WIRE_V2 = 2, WIRE_VERSION_MAX = WIRE_V2, VARINT_MAX = 10 };

struct writer {
    uint8_t *buf;
    size_t len, cap;
    bool failed;
};

static void put_varint(struct writer *w, uint64_t v)
{
    if (w->len + VARINT_MAX > w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 4096;
        uint8_t *b = realloc(w->buf, cap);
        if (b == NULL) {
            w->failed = true;
            return;
        }
        w->buf = b, w->cap = cap;
    }
    do {
        w->buf[w->len++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v != 0);
}

static uint64_t zigzag(int64_t v)
{
    return v < 0 ? ((uint64_t)(-v) << 1) - 1 : (uint64_t)v << 1;
}

static int64_t unzigzag(uint64_t z)
{
    return (z & 1) ? -(int64_t)(z >> 1) - 1 : (int64_t)(z >> 1);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The slots of A number a_index, sorted, in out[0 .. *count); false when
 * there is no such A. Moves ctx->poly to it. */
static bool a_slots(struct mp_ctx *ctx, uint32_t a_index, uint32_t *out, int *count)
{
    if (!siqs_mp_set_ab(ctx, a_index, 0))
        return false;
    *count = ctx->poly.s;
    memcpy(out, ctx->poly.a_idx, (size_t)ctx->poly.s * sizeof *out);
    qsort(out, (size_t)*count, sizeof *out, cmp_u32);
    return true;
}

/* The relation as version 2 sends it: its sorted slots less -1's and 2's
 * and one of each of A's (sorted, a[0 .. na)). False when one of A's is
 * missing: such a relation would not check, and stays home. */
static bool slots_sent(const struct mp_relations *r, const struct mp_rel *rel,
                            const uint32_t *a, int na, uint32_t *out, uint32_t *n)
{
    uint32_t slots[SIQS_WIRE_MAX_FACTORS];
    uint32_t all = rel->nfactors;
    memcpy(slots, r->factors + rel->first, all * sizeof *slots);
    qsort(slots, all, sizeof *slots, cmp_u32);
    int k = 0;
    *n = 0;
    for (uint32_t i = 0; i < all; i++) {
        if (k < na && slots[i] == a[k])
            k++;
        else if (slots[i] >= MP_FB_ODD)
            out[(*n)++] = slots[i];
    }
    return k == na;
}

struct a_cache {
    uint32_t index;
    int count; /* -1: none yet (or no such A) */
    uint32_t slot[MP_MAX_A_PRIMES];
};

/* Version 2's relation, or false when it cannot be sent (no such A, an A
 * prime missing, too many slots). */
static bool v2_relation(struct mp_ctx *ctx, struct a_cache *a, const struct mp_rel *rel,
                        uint32_t *slots, uint32_t *n)
{
    if (rel->nfactors > SIQS_WIRE_MAX_FACTORS)
        return false;
    if (a->count < 0 || a->index != rel->at.a_index) {
        a->index = rel->at.a_index;
        if (!a_slots(ctx, a->index, a->slot, &a->count))
            a->count = -1;
    }
    return a->count >= 0 && slots_sent(&ctx->rels, rel, a->slot, a->count, slots, n);
}

static void put_relation(struct writer *w, const struct mp_rel *rel, int64_t a_step,
                         const uint32_t *slots, uint32_t n)
{
    put_varint(w, zigzag(a_step));
    put_varint(w, rel->at.b_index);
    put_varint(w, zigzag(rel->at.x));
    put_varint(w, n);
    uint32_t prev = 0;
    for (uint32_t i = 0; i < n; i++) {
        put_varint(w, slots[i] - prev);
        prev = slots[i];
    }
    put_varint(w, rel->large[0]);
    put_varint(w, rel->large[1]);
}

bool siqs_wire_encode(struct mp_ctx *ctx, size_t first, size_t last, uint8_t **out,
                      size_t *out_len)
{
    if (last < first || last - first > SIQS_WIRE_MAX_RELS)
        return false;
    /* The count leads the message: a first pass finds the relations that
     * go (A's slots are found once an A: a range's relations come A by A). */
    struct a_cache a = {.count = -1};
    uint32_t slots[SIQS_WIRE_MAX_FACTORS], n;
    size_t count = 0;
    for (size_t i = first; i < last; i++)
        count += v2_relation(ctx, &a, &ctx->rels.rel[i], slots, &n);
    struct writer w = {0};
    put_varint(&w, WIRE_MAGIC);
    put_varint(&w, WIRE_V2);
    put_varint(&w, count);
    int64_t prev_a = 0;
    for (size_t i = first; i < last && !w.failed; i++) {
        const struct mp_rel *rel = &ctx->rels.rel[i];
        if (!v2_relation(ctx, &a, rel, slots, &n))
            continue;
        put_relation(&w, rel, (int64_t)rel->at.a_index - prev_a, slots, n);
        prev_a = rel->at.a_index;
    }
    if (w.failed) {
        free(w.buf);
        return false;
    }
    *out = w.buf;
    *out_len = w.len;
    return true;
}

struct reader {
    const uint8_t *p, *end;
    bool bad;
    int version;
    int64_t prev_a;     /* version 2: the A index the next one steps from */
    struct a_cache a;   /* version 2: its A's slots */
};

/* A varint of at most 'max': anything longer, larger or cut short marks
 * the reader bad (and returns 0). */
static uint64_t get_varint(struct reader *r, uint64_t max)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && r->p < r->end; shift += 7) {
        uint8_t byte = *r->p++;
        v |= (uint64_t)(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) {
            if (v > max)
                break;
            return v;
        }
    }
    r->bad = true;
    return 0;
}

struct wire_rel {
    struct mp_origin at;
    uint32_t nfactors;
    uint32_t slot[SIQS_WIRE_MAX_FACTORS];
    uint32_t large[2];
};

static uint32_t get_a_index(struct reader *r)
{
    if (r->version == WIRE_V1)
        return (uint32_t)get_varint(r, UINT32_MAX);
    int64_t a = r->prev_a + unzigzag(get_varint(r, (uint64_t)UINT32_MAX * 2 + 1));
    if (a < 0 || a > UINT32_MAX)
        r->bad = true;
    r->prev_a = a;
    return (uint32_t)a;
}

/* Parses one relation; only the syntax and the ranges of its fields. */
static void get_relation(struct reader *r, const struct mp_ctx *ctx, struct wire_rel *w)
{
    w->at.a_index = get_a_index(r);
    w->at.b_index = (uint32_t)get_varint(r, UINT32_MAX);
    w->at.x = (int32_t)unzigzag(get_varint(r, (uint64_t)UINT32_MAX));
    w->nfactors = (uint32_t)get_varint(r, SIQS_WIRE_MAX_FACTORS);
    uint64_t slot = 0;
    for (uint32_t i = 0; i < w->nfactors && !r->bad; i++) {
        slot += get_varint(r, ctx->fb.count);
        if (slot >= ctx->fb.count)
            r->bad = true;
        w->slot[i] = (uint32_t)slot;
    }
    w->large[0] = (uint32_t)get_varint(r, UINT32_MAX);
    w->large[1] = (uint32_t)get_varint(r, UINT32_MAX);
}

static bool large_ok(const struct mp_ctx *ctx, const uint32_t large[2])
{
    if (large[0] == 0 || large[0] > large[1] || large[1] >= ctx->large_bound)
        return false;
    if (large[1] == 1)
        return true;
    uint64_t pmax = ctx->fb.p[ctx->fb.count - 1];
    if (large[0] == 1)
        return large[1] > pmax;
    return large[0] > pmax && large[0] != large[1];
}

/* Version 2: A's slots, sorted, for the A the reader is on (ctx->poly,
 * set to the relation's A by siqs_mp_set_ab): sorted once an A, as a
 * range's relations come A by A. */
static void a_slots_of_poly(const struct mp_ctx *ctx, struct a_cache *a)
{
    if (a->count >= 0 && a->index == ctx->poly.a_index)
        return;
    a->index = ctx->poly.a_index;
    a->count = ctx->poly.s;
    memcpy(a->slot, ctx->poly.a_idx, (size_t)a->count * sizeof *a->slot);
    qsort(a->slot, (size_t)a->count, sizeof *a->slot, cmp_u32);
}

/* The relation's slots from those sent: -1 when negative, 2 twos times,
 * and A's slots (sorted, a[0 .. na)) merged in. False when that makes
 * more than a message allows (no encoder sends such a relation). */
static bool restore_slots(struct wire_rel *w, bool negative, uint32_t twos, const uint32_t *a,
                          int na)
{
    uint32_t low = (negative ? 1 : 0) + twos;
    if ((uint64_t)w->nfactors + (uint32_t)na + low > SIQS_WIRE_MAX_FACTORS)
        return false;
    uint32_t sent = w->nfactors, all = sent + (uint32_t)na;
    /* From the back, in place. */
    for (uint32_t out = all, i = sent; out > 0; out--) {
        if (na > 0 && (i == 0 || a[na - 1] > w->slot[i - 1]))
            w->slot[out - 1] = a[--na];
        else
            w->slot[out - 1] = w->slot[--i];
    }
    memmove(w->slot + low, w->slot, all * sizeof *w->slot);
    for (uint32_t i = 0; i < low; i++)
        w->slot[i] = negative && i == 0 ? MP_FB_SIGN : MP_FB_TWO;
    w->nfactors = all + low;
    return true;
}

/* Version 2's product: the slots sent (odd primes only), times A, times
 * the sign and power of two of y^2 - kN (in ctx->tmp, not 0). */
static bool v2_product(struct mp_ctx *ctx, const struct wire_rel *w, uint32_t twos)
{
    mpz_mul(ctx->q, ctx->q, ctx->poly.a);
    for (uint32_t i = 0; i < w->nfactors; i++) {
        if (w->slot[i] < MP_FB_ODD)
            return false;
        mpz_mul_ui(ctx->q, ctx->q, ctx->fb.p[w->slot[i]]);
    }
    mpz_mul_2exp(ctx->q, ctx->q, twos);
    if (mpz_sgn(ctx->tmp) < 0)
        mpz_neg(ctx->q, ctx->q);
    return true;
}

/* The check: |x| < M, A and B of its indices, and the slots and large
 * primes multiply to exactly (A x + B)^2 - kN. Leaves y in ctx->y. A
 * version 2 relation's product is that of the slots sent times A and the
 * sign and twos of (A x + B)^2 - kN; the slots left out are added after. */
static bool relation_holds(struct mp_ctx *ctx, struct reader *r, struct wire_rel *w)
{
    int64_t x = w->at.x;
    if (x < -(int64_t)ctx->m || x >= (int64_t)ctx->m || !large_ok(ctx, w->large) ||
        !siqs_mp_set_ab(ctx, w->at.a_index, w->at.b_index))
        return false;
    mpz_mul_si(ctx->y, ctx->poly.a, (long)x);
    mpz_add(ctx->y, ctx->y, ctx->poly.b);
    mpz_mul(ctx->tmp, ctx->y, ctx->y);
    mpz_sub(ctx->tmp, ctx->tmp, ctx->kn);
    if (mpz_sgn(ctx->tmp) == 0)
        return false;
    mpz_set_ui(ctx->q, w->large[0]);
    mpz_mul_ui(ctx->q, ctx->q, w->large[1]);
    if (r->version == WIRE_V2) {
        uint32_t twos = (uint32_t)mpz_scan1(ctx->tmp, 0);
        if (!v2_product(ctx, w, twos) || mpz_cmp(ctx->q, ctx->tmp) != 0)
            return false;
        a_slots_of_poly(ctx, &r->a);
        return restore_slots(w, mpz_sgn(ctx->tmp) < 0, twos, r->a.slot, r->a.count);
    }
    for (uint32_t i = 0; i < w->nfactors; i++) {
        if (w->slot[i] == MP_FB_SIGN)
            mpz_neg(ctx->q, ctx->q);
        else if (w->slot[i] == MP_FB_TWO)
            mpz_mul_2exp(ctx->q, ctx->q, 1);
        else
            mpz_mul_ui(ctx->q, ctx->q, ctx->fb.p[w->slot[i]]);
    }
    return mpz_cmp(ctx->q, ctx->tmp) == 0;
}

bool siqs_wire_decode(struct mp_ctx *ctx, const uint8_t *buf, size_t len,
                      struct siqs_wire_stats *stats)
{
    struct reader r = {.p = buf, .end = buf + len, .a = {.count = -1}};
    bool header_ok = get_varint(&r, WIRE_MAGIC) == WIRE_MAGIC;
    r.version = (int)get_varint(&r, WIRE_VERSION_MAX);
    header_ok = header_ok && r.version >= WIRE_V1;
    size_t count = (size_t)get_varint(&r, SIQS_WIRE_MAX_RELS);
    if (!header_ok || r.bad) {
        stats->malformed++;
        return false;
    }
    struct wire_rel w;
    for (size_t i = 0; i < count; i++) {
        get_relation(&r, ctx, &w);
        if (r.bad) {
            stats->malformed++;
            return false;
        }
        if (!relation_holds(ctx, &r, &w)) {
            stats->dropped++;
            continue;
        }
        size_t before = ctx->rels.nrel;
        if (!siqs_mp_add_relation(ctx, w.at, ctx->y, w.slot, w.nfactors, w.large[0], w.large[1]))
            return false;
        if (ctx->rels.nrel > before)
            stats->added++;
        else
            stats->repeats++;
    }
    if (r.p != r.end) {
        stats->malformed++;
        return false;
    }
    return true;
}
