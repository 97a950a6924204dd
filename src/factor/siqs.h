/* siqs.h - self-initialising quadratic sieve for 65..140-bit composites
 * (internal).
 *
 * Balanced semiprimes of this size survive trial division and rho; SIQS
 * splits them in well under half the time of PARI's MPQS (which stays the
 * fallback, and takes the larger numbers). 140 bits is where A and B of
 * the polynomials (64-bit words, siqs_poly.c) run out; SIQS was still
 * ahead of PARI there. */
#ifndef MESH_FACTOR_SIQS_H
#define MESH_FACTOR_SIQS_H

#include <stdbool.h>

#include <gmp.h>

enum { SIQS_MIN_BITS = 60, SIQS_MAX_BITS = 140 };

/* Sets factor to a nontrivial factor of n (not necessarily prime) and
 * returns true; false when SIQS gave up (then the caller falls back).
 * n must be odd, composite and SIQS_MIN_BITS..SIQS_MAX_BITS bits; perfect
 * squares are split by their square root, higher powers are refused.
 * Deterministic: the same n always takes the same path. */
bool siqs_factor(const mpz_t n, mpz_t factor);

#endif
