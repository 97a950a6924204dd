/* fuzz_siqs_wire.c - siqs_wire_decode (src/factor/siqs_mp_wire.h) on
 * arbitrary bytes, what a worker (or a peer, later) sends the receiver of
 * one number's relations: no crash, no read past the input, no relation
 * kept unless it holds, counts that add up. The context is one 149-bit n
 * (the seeds are relations of it, from test_siqs_mp_wire --write-seed). */
#include <stdint.h>
#include <stdlib.h>

#include <gmp.h>

#include "fuzz_siqs_ctx.h"
#include "siqs_mp_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mp_ctx *ctx = fuzz_siqs_ctx();
    struct siqs_wire_stats st = {0};
    bool ok = siqs_wire_decode(ctx, data, size, &st);
    if (st.added != ctx->rels.nrel || (ok && st.malformed != 0) || st.malformed > 1)
        abort();
    fuzz_siqs_check_kept(ctx);
    siqs_mp_relations_free(&ctx->rels);
    return 0;
}
