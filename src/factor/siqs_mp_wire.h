/* siqs_mp_wire.h - relations of the multi-precision SIQS in a compact
 * form for a pipe or the network, and the receiver's checked decoder.
 *
 * A relation travels as its origin (A index, B index, x) and its factor
 * base slots and large primes; the receiver re-derives y = A x + B itself
 * and keeps the relation only when the factors multiply to exactly
 * y^2 - kN (= A Q(x)), so nothing a sender claims is taken on trust.
 * Layout (doc/DESIGN.md, "One number on all cores"): byte 'R', version,
 * varint count, then per relation varints:
 *   version 1: a_index, b_index, zigzag x, nfactors, slot deltas (slots
 *              non-decreasing), large0, large1;
 *   version 2: zigzag (a_index - the previous relation's, 0 before the
 *              first), then as version 1 but with odd primes' slots only
 *              and without one occurrence of each of A's primes (the
 *              receiver adds back A's from the A index, and -1 and 2 as
 *              the sign and power of two of y^2 - kN; nfactors counts
 *              those sent).
 * The encoder writes version 2; the decoder reads both. */
#ifndef MESH_FACTOR_SIQS_MP_WIRE_H
#define MESH_FACTOR_SIQS_MP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mp_ctx;

enum {
    SIQS_WIRE_MAX_RELS = 1 << 16,    /* relations in one message */
    SIQS_WIRE_MAX_FACTORS = 256,     /* slots in one relation */
};

struct siqs_wire_stats {
    size_t added;     /* checked and new: now in ctx->rels */
    size_t repeats;   /* checked, but its y was there already */
    size_t dropped;   /* failed the check */
    size_t malformed; /* messages that did not parse (the rest of one is lost) */
};

/* Encodes ctx->rels.rel[first .. last) into a malloc'd buffer (*out,
 * *out_len). False when out of memory or more than SIQS_WIRE_MAX_RELS.
 * A relation that could not check (more than SIQS_WIRE_MAX_FACTORS slots,
 * or one of its A's primes missing) is left out. Moves ctx->poly (to find
 * A's primes): sieving restarts with siqs_mp_first_b. */
bool siqs_wire_encode(struct mp_ctx *ctx, size_t first, size_t last, uint8_t **out,
                      size_t *out_len);

/* Decodes a message, checks every relation against ctx's n, factor base
 * and bounds and adds the good ones to ctx->rels; counts in *stats (added
 * to, not reset). Leaves ctx->poly on the last A decoded (sieving restarts
 * with siqs_mp_first_b). False when the message is malformed (relations
 * before the fault are kept) or memory ran out. */
bool siqs_wire_decode(struct mp_ctx *ctx, const uint8_t *buf, size_t len,
                      struct siqs_wire_stats *stats);

#endif
