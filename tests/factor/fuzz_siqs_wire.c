/* fuzz_siqs_wire.c - siqs_wire_decode (src/factor/siqs_mp_wire.h) on
 * arbitrary bytes, what a worker (or a peer, later) sends the receiver of
 * one number's relations: no crash, no read past the input, no relation
 * kept unless it holds, counts that add up. The context is one 149-bit n
 * (the seeds are relations of it, from test_siqs_mp_wire --write-seed). */
#include <stdint.h>
#include <stdlib.h>

#include <gmp.h>

#include "siqs_mp_internal.h"
#include "siqs_mp_wire.h"

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

/* Every relation kept multiplies out: y^2 - kN is its slots times its
 * large primes (the decoder's own check, redone here from what it stored). */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready)
        set_up();
    struct siqs_wire_stats st = {0};
    bool ok = siqs_wire_decode(&ctx, data, size, &st);
    if (st.added != ctx.rels.nrel || (ok && st.malformed != 0) || st.malformed > 1)
        abort();
    check_kept();
    siqs_mp_relations_free(&ctx.rels);
    return 0;
}
