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

#include "fuzz_siqs_ctx.h"
#include "siqs_range.h"

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
    struct mp_ctx *ctx = fuzz_siqs_ctx();
    job(data, size);
    struct siqs_wire_stats st = {0};
    bool ok = siqs_range_result_decode(ctx, (const char *)data, size, &st);
    if (st.added != ctx->rels.nrel || (ok && st.malformed != 0) || st.malformed > 1)
        abort();
    fuzz_siqs_check_kept(ctx);
    siqs_mp_relations_free(&ctx->rels);
    return 0;
}
