/* siqs_coord.c - one hard number's merge and combine (siqs_coord.h). */
#include <stdlib.h>

#include "siqs.h"
#include "siqs_coord.h"
#include "siqs_mp_internal.h"
#include "siqs_range.h"

/* A indices a spread batch publishes, at least: ~40 split 180 bits, 66-90
 * 196 bits. */
enum { SPREAD_A_MIN = 2048 };

struct siqs_coord {
    struct mp_ctx ctx;
    struct siqs_wire_stats wire;
    size_t results;
    uint32_t width;
    int combines;
};

/* A indices a job. What bounds it is the result's size more than time: a
 * result text holds ~1770 relations (~23 bytes each at 200 bits, base 32), and an A
 * brings ~300 of them at 180 bits (2^(s-1) polynomials each, s growing
 * with the size), ~70 ms of one core's sieving; past ~190 bits one A is
 * already a good share of a text. A range's relations beyond one text are
 * lost (siqs_range_result_encode): the coordinator leases more A. */
static uint32_t width_for(size_t bits)
{
    return bits < 170 ? 4 : bits < 190 ? 2 : 1;
}

/* The count is fixed at submit, and were every range sieved without a
 * split, N would go to one worker: hours past 300 bits. An A brings at
 * least ~15 relation sets at 280-330 bits before any cycle of partials
 * counts (measured: 16 a A at 280 bits over the first 50 A, 15 at 330),
 * and the combine wants about the factor base's size; the cycles add
 * more as relations pile up (23 a A by the 217th at 280 bits), so a
 * number needs well under fb/15 A. fb/4 A leave a margin of four: 7,000
 * at 280 bits where ~1,000 split it, 16,000 at 330. A range never leased
 * costs an empty result at the end. */
void siqs_coord_plan(const mpz_t n, uint32_t *width, uint64_t *ranges)
{
    size_t bits = mpz_sizeinbase(n, 2);
    uint64_t a = siqs_mp_fb_size((unsigned)bits) / 4;
    *width = width_for(bits);
    *ranges = (a > SPREAD_A_MIN ? a : SPREAD_A_MIN) / *width;
}

enum siqs_coord_open siqs_coord_open(struct siqs_coord **out, const mpz_t n, mpz_t factor)
{
    *out = NULL;
    size_t bits = mpz_sizeinbase(n, 2);
    if (bits < SIQS_MP_MIN_BITS || bits > SIQS_MP_MAX_BITS || mpz_even_p(n) ||
        mpz_perfect_power_p(n))
        return SIQS_COORD_NOT_SIQS;
    struct siqs_coord *c = calloc(1, sizeof *c);
    if (c == NULL)
        return SIQS_COORD_NO_MEMORY;
    siqs_mp_ctx_init(&c->ctx, n);
    int ready = siqs_mp_setup(&c->ctx, factor);
    if (ready != 0) {
        siqs_coord_free(c);
        return ready == 1 ? SIQS_COORD_SPLIT : SIQS_COORD_NO_MEMORY;
    }
    c->width = width_for(bits);
    *out = c;
    return SIQS_COORD_OPENED;
}

void siqs_coord_free(struct siqs_coord *c)
{
    if (c == NULL)
        return;
    siqs_mp_ctx_free(&c->ctx);
    free(c);
}

size_t siqs_coord_job(const struct siqs_coord *c, uint64_t i, char *buf, size_t cap)
{
    if (i >= UINT32_MAX / c->width)
        return 0;
    uint32_t lo = (uint32_t)i * c->width;
    return siqs_range_job_format(buf, cap, c->ctx.n, lo, lo + c->width);
}

bool siqs_coord_take(struct siqs_coord *c, const char *text, size_t len)
{
    c->results++;
    return siqs_range_result_decode(&c->ctx, text, len, &c->wire);
}

bool siqs_coord_ready(const struct siqs_coord *c)
{
    return siqs_mp_enough(&c->ctx);
}

int siqs_coord_combine(struct siqs_coord *c, mpz_t factor)
{
    if (c->combines >= SIQS_MP_COMBINE_TRIES)
        return -1;
    enum mp_combined r = siqs_mp_combine(&c->ctx, factor);
    c->combines += r != MP_COMBINE_SHORT; /* a short check ran no matrix */
    if (r == MP_COMBINE_SPLIT)
        return 1;
    return c->combines >= SIQS_MP_COMBINE_TRIES ? -1 : 0;
}

void siqs_coord_stats(const struct siqs_coord *c, struct siqs_coord_stats *st)
{
    *st = (struct siqs_coord_stats){.wire = c->wire, .results = c->results,
                                    .sets = siqs_mp_sets(&c->ctx.rels),
                                    .want_sets = c->ctx.want_sets, .width = c->width,
                                    .combines = c->combines};
}
