/* fuzz_siqs_range.c - the decoders of a hard number's mesh work
 * (src/factor/siqs_range.h) on arbitrary bytes: a result text as a key
 * holder could commit it, decoded into one 149-bit n's context, and a job
 * text as a worker would be handed it. No crash, no read past the input;
 * every relation kept multiplies out (the decoder's own check, redone);
 * a text taken as a job re-formats to exactly itself. */
#include <stdio.h> /* before gmp.h */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gmp.h>

#include "siqs_mp_internal.h"
#include "siqs_range.h"

static struct mp_ctx ctx;
static bool ready;

static void set_up(void)
{
    mpz_t n, f;
    mpz_inits(n, f, NULL);
    mpz_set_str(n, "509210500453231419516077995770618553170047119", 10);
    siqs_mp_ctx_init(&ctx, n);
    if (siqs_mp_setup(&ctx, f) != 0)
        abort();
    mpz_clears(n, f, NULL);
    ready = true;
}

static void check_kept(void)
{
    const struct mp_relations *r = &ctx.rels;
    mpz_t y, prod;
    mpz_inits(y, prod, NULL);
    for (size_t i = 0; i < r->nrel; i++) {
        const struct mp_rel *rel = &r->rel[i];
        mpz_import(y, (size_t)abs(rel->y_size), -1, sizeof(mp_limb_t), 0, 0,
                   r->ylimbs + rel->y_first);
        if (rel->y_size < 0)
            mpz_neg(y, y);
        mpz_mul(y, y, y);
        mpz_sub(y, y, ctx.kn);
        mpz_set_ui(prod, rel->large[0]);
        mpz_mul_ui(prod, prod, rel->large[1]);
        for (uint32_t k = 0; k < rel->nfactors; k++) {
            uint32_t slot = r->factors[rel->first + k];
            if (slot == MP_FB_SIGN)
                mpz_neg(prod, prod);
            else
                mpz_mul_ui(prod, prod, slot == MP_FB_TWO ? 2 : ctx.fb.p[slot]);
        }
        if (mpz_cmp(prod, y) != 0)
            abort();
    }
    mpz_clears(y, prod, NULL);
}

static void job(const uint8_t *data, size_t size)
{
    mpz_t n;
    mpz_init(n);
    uint32_t lo, hi;
    if (siqs_range_job_parse((const char *)data, size, n, &lo, &hi)) {
        char buf[SIQS_RANGE_JOB_MAX + 1];
        size_t len = siqs_range_job_format(buf, sizeof buf, n, lo, hi);
        if (len != size || memcmp(buf, data, size) != 0)
            abort();
    }
    mpz_clear(n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready)
        set_up();
    job(data, size);
    struct siqs_wire_stats st = {0};
    bool ok = siqs_range_result_decode(&ctx, (const char *)data, size, &st);
    if (st.added != ctx.rels.nrel || (ok && st.malformed != 0) || st.malformed > 1)
        abort();
    check_kept();
    siqs_mp_relations_free(&ctx.rels);
    return 0;
}
