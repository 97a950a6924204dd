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

enum { WIRE_MAGIC = 'R', WIRE_VERSION = 1, VARINT_MAX = 10 };

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

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void put_relation(struct writer *w, const struct mp_relations *r, const struct mp_rel *rel)
{
    uint32_t slots[SIQS_WIRE_MAX_FACTORS];
    uint32_t n = rel->nfactors;
    memcpy(slots, r->factors + rel->first, n * sizeof *slots);
    qsort(slots, n, sizeof *slots, cmp_u32);
    put_varint(w, rel->at.a_index);
    put_varint(w, rel->at.b_index);
    int64_t x = rel->at.x;
    put_varint(w, x < 0 ? ((uint64_t)(-x) << 1) - 1 : (uint64_t)x << 1);
    put_varint(w, n);
    uint32_t prev = 0;
    for (uint32_t i = 0; i < n; i++) {
        put_varint(w, slots[i] - prev);
        prev = slots[i];
    }
    put_varint(w, rel->large[0]);
    put_varint(w, rel->large[1]);
}

bool siqs_wire_encode(const struct mp_ctx *ctx, size_t first, size_t last, uint8_t **out,
                      size_t *out_len)
{
    if (last < first || last - first > SIQS_WIRE_MAX_RELS)
        return false;
    size_t count = 0; /* a relation of more slots than a message allows stays home */
    for (size_t i = first; i < last; i++)
        count += ctx->rels.rel[i].nfactors <= SIQS_WIRE_MAX_FACTORS;
    struct writer w = {0};
    put_varint(&w, WIRE_MAGIC);
    put_varint(&w, WIRE_VERSION);
    put_varint(&w, count);
    for (size_t i = first; i < last && !w.failed; i++)
        if (ctx->rels.rel[i].nfactors <= SIQS_WIRE_MAX_FACTORS)
            put_relation(&w, &ctx->rels, &ctx->rels.rel[i]);
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

/* Parses one relation; only the syntax and the ranges of its fields. */
static void get_relation(struct reader *r, const struct mp_ctx *ctx, struct wire_rel *w)
{
    w->at.a_index = (uint32_t)get_varint(r, UINT32_MAX);
    w->at.b_index = (uint32_t)get_varint(r, UINT32_MAX);
    uint64_t zx = get_varint(r, (uint64_t)UINT32_MAX);
    w->at.x = (zx & 1) ? -(int32_t)(zx >> 1) - 1 : (int32_t)(zx >> 1);
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

/* The check: |x| < M, A and B of its indices, and the slots and large
 * primes multiply to exactly (A x + B)^2 - kN. Leaves y in ctx->y. */
static bool relation_holds(struct mp_ctx *ctx, const struct wire_rel *w)
{
    int64_t x = w->at.x;
    if (x < -(int64_t)ctx->m || x >= (int64_t)ctx->m || !large_ok(ctx, w->large) ||
        !siqs_mp_set_ab(ctx, w->at.a_index, w->at.b_index))
        return false;
    mpz_mul_si(ctx->y, ctx->poly.a, (long)x);
    mpz_add(ctx->y, ctx->y, ctx->poly.b);
    mpz_mul(ctx->tmp, ctx->y, ctx->y);
    mpz_sub(ctx->tmp, ctx->tmp, ctx->kn);
    mpz_set_ui(ctx->q, w->large[0]);
    mpz_mul_ui(ctx->q, ctx->q, w->large[1]);
    for (uint32_t i = 0; i < w->nfactors; i++) {
        if (w->slot[i] == MP_FB_SIGN)
            mpz_neg(ctx->q, ctx->q);
        else if (w->slot[i] == MP_FB_TWO)
            mpz_mul_2exp(ctx->q, ctx->q, 1);
        else
            mpz_mul_ui(ctx->q, ctx->q, ctx->fb.p[w->slot[i]]);
    }
    return mpz_sgn(ctx->tmp) != 0 && mpz_cmp(ctx->q, ctx->tmp) == 0;
}

bool siqs_wire_decode(struct mp_ctx *ctx, const uint8_t *buf, size_t len,
                      struct siqs_wire_stats *stats)
{
    struct reader r = {.p = buf, .end = buf + len};
    bool header_ok = get_varint(&r, WIRE_MAGIC) == WIRE_MAGIC &&
                     get_varint(&r, WIRE_VERSION) == WIRE_VERSION;
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
        if (!relation_holds(ctx, &w)) {
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
