/* fuzz_siqs_ctx.c - see fuzz_siqs_ctx.h. A fuzz target is one process that
 * calls its entry point millions of times, so the context lives for the
 * process: building it per input would cost more than the decoding. */
#include <stdio.h> /* before gmp.h */
#include <stdlib.h>

#include <gmp.h>

#include "fuzz_siqs_ctx.h"

struct mp_ctx *fuzz_siqs_ctx(void)
{
    static struct mp_ctx ctx;
    static bool ready;
    if (!ready) {
        mpz_t n, f;
        mpz_inits(n, f, NULL);
        mpz_set_str(n, "509210500453231419516077995770618553170047119", 10);
        siqs_mp_ctx_init(&ctx, n);
        if (siqs_mp_setup(&ctx, f) != 0)
            abort();
        mpz_clears(n, f, NULL);
        ready = true;
    }
    return &ctx;
}

void fuzz_siqs_check_kept(const struct mp_ctx *ctx)
{
    const struct mp_relations *r = &ctx->rels;
    mpz_t y, prod;
    mpz_inits(y, prod, NULL);
    for (size_t i = 0; i < r->nrel; i++) {
        const struct mp_rel *rel = &r->rel[i];
        mpz_import(y, (size_t)abs(rel->y_size), -1, sizeof(mp_limb_t), 0, 0,
                   r->ylimbs + rel->y_first);
        if (rel->y_size < 0)
            mpz_neg(y, y);
        mpz_mul(y, y, y);
        mpz_sub(y, y, ctx->kn);
        mpz_set_ui(prod, rel->large[0]);
        mpz_mul_ui(prod, prod, rel->large[1]);
        for (uint32_t k = 0; k < rel->nfactors; k++) {
            uint32_t slot = r->factors[rel->first + k];
            if (slot == MP_FB_SIGN)
                mpz_neg(prod, prod);
            else
                mpz_mul_ui(prod, prod, slot == MP_FB_TWO ? 2 : ctx->fb.p[slot]);
        }
        if (mpz_cmp(prod, y) != 0)
            abort();
    }
    mpz_clears(y, prod, NULL);
}
