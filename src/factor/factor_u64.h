/* factor_u64.h - the 64-bit fast path of the factoring kernel.
 *
 * Nearly every number the mesh sees fits in 64 bits, so this is the hot
 * path: written by hand on Montgomery arithmetic, no allocation, no global
 * state, no budget (the worst case, a balanced 64-bit semiprime, takes tens
 * of microseconds). Exposed separately so the benchmark can time it. */
#ifndef MESH_FACTOR_U64_H
#define MESH_FACTOR_U64_H

#include <stdbool.h>
#include <stdint.h>

#include "factor.h"

/* A 64-bit number has at most 63 prime factors with multiplicity. */
enum { FACTOR_U64_MAX = FACTOR_U64_FACTORS_MAX };

/* Deterministic for every n < 2^64: Miller-Rabin to bases 2, 7, 61 below
 * 4759123141, Baillie-PSW above (no counterexample below 2^64). */
bool u64_is_prime(uint64_t n);

/* A strong probable-prime test to base 2 alone: every prime passes, and of
 * the composites below 2^64 only the base-2 strong pseudoprimes (about one
 * in 6 * 10^11 of them) do. The answer check's second opinion, see
 * line_u64.c. */
bool u64_is_sprp2(uint64_t n);

/* Writes the prime factors of n ascending with multiplicity into out and
 * returns their count; 0 and 1 have none. Never fails. */
int factor_u64(uint64_t n, uint64_t out[FACTOR_U64_MAX]);

/* Splitting engines for an odd composite n without factors below 2^12 that
 * is not a perfect square. Each returns a nontrivial factor, or 0 when it
 * gave up (the caller then tries another engine). */
uint64_t u64_rho_brent(uint64_t n, uint64_t max_iterations);
uint64_t u64_ecm(uint64_t n);
/* Pollard p-1 with the fixed bounds of pm1_plan.h: finds p when p - 1 is
 * smooth, at about the price of one ECM curve. */
uint64_t u64_pm1(uint64_t n);
/* One rho polynomial for about `iterations` steps: a cheap first try. */
uint64_t u64_rho_once(uint64_t n, uint64_t iterations);

#endif
