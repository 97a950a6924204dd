/* siqs.h - self-initialising quadratic sieve for 60..340-bit composites
 * (internal): a 128-bit engine up to 140 bits, a GMP one past it.
 *
 * Balanced semiprimes of this size survive trial division and rho; SIQS
 * splits them in well under half the time of PARI's MPQS (which stays the
 * fallback, and takes the larger numbers). 140 bits is where A and B of
 * the polynomials (64-bit words, siqs_poly.c) run out; SIQS was still
 * ahead of PARI there. */
#ifndef MESH_FACTOR_SIQS_H
#define MESH_FACTOR_SIQS_H

#include <stdbool.h>
#include <stdint.h>

#include <gmp.h>

enum { SIQS_MIN_BITS = 60, SIQS_MAX_BITS = 140,
       /* The multi-precision engine (siqs_mp.c): what comes after 140
        * bits. It works from 100 bits (so tests can run it cheaply) but
        * only takes over past SIQS_MAX_BITS, where the 128-bit one stops. */
       SIQS_MP_MIN_BITS = 100, SIQS_MP_MAX_BITS = 340 };

/* Sets factor to a nontrivial factor of n (not necessarily prime) and
 * returns true; false when SIQS gave up (then the caller falls back).
 * n must be odd, composite and SIQS_MIN_BITS..SIQS_MAX_BITS bits; perfect
 * squares are split by their square root, higher powers are refused.
 * Deterministic: the same n always takes the same path. */
bool siqs_factor(const mpz_t n, mpz_t factor);

/* The same for SIQS_MP_MIN_BITS..SIQS_MP_MAX_BITS bits (GMP polynomials,
 * bucket sieve, large-prime cycles): 1 and a nontrivial factor, 0 when it
 * gave up or n is out of its range, -1 when deadline_ms (CLOCK_MONOTONIC
 * milliseconds; 0: none) passed first. Deterministic like siqs_factor. */
int siqs_mp_factor(const mpz_t n, mpz_t factor, uint64_t deadline_ms);

/* The same on `jobs` cores (jobs > 1: forked workers, siqs_mp_par.c; call
 * it only from a single-threaded process). Not deterministic in which
 * factor it finds: the relations arrive in the order the workers finish.
 * jobs is cut to the CPUs the process may run on (siqs_mp_usable_jobs). */
int siqs_mp_factor_jobs(const mpz_t n, mpz_t factor, uint64_t deadline_ms, unsigned jobs);

/* jobs, or fewer: the CPUs this process's affinity mask allows (taskset, a
 * cpuset) when that is less. More workers than CPUs only add the parallel
 * path's costs (every relation encoded, sent, decoded and checked, the
 * leases in flight at the end) to the same CPU time. */
unsigned siqs_mp_usable_jobs(unsigned jobs);

/* The same, telling progress (progress.h; NULL: nobody) where it is:
 * sieving (relation sets found of those wanted, after each A), matrix,
 * square roots. */
struct factor_progress_sink;
int siqs_mp_factor_watched(const mpz_t n, mpz_t factor, uint64_t deadline_ms, unsigned jobs,
                           const struct factor_progress_sink *progress);

#endif
