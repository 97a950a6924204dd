/* fuzz_siqs_ctx.h - what the fuzz targets of relation decoders share: one
 * 149-bit n's SIQS context, set up once, and the check that every relation
 * a decoder kept multiplies out. */
#ifndef MESH_FUZZ_SIQS_CTX_H
#define MESH_FUZZ_SIQS_CTX_H

#include "siqs_mp_internal.h"

/* The context, set up on first call (the seeds of fuzz_siqs_wire and
 * fuzz_siqs_range are relations of this n). Aborts if set-up fails. */
struct mp_ctx *fuzz_siqs_ctx(void);

/* Aborts unless y^2 - kN of every kept relation is its factor-base slots
 * times its large primes: the decoder's own check, redone from what it
 * stored. */
void fuzz_siqs_check_kept(const struct mp_ctx *ctx);

#endif
