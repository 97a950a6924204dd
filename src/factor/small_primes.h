/* small_primes.h - the odd primes below 2^15.
 *
 * Those below 2^12 are the trial divisors of both the u64 fast path
 * (multiply-by-inverse divisibility tests) and the big-number path (which
 * strips the same primes with GMP); ECM's stage 2 walks the whole table. */
#ifndef MESH_FACTOR_SMALL_PRIMES_H
#define MESH_FACTOR_SMALL_PRIMES_H

#include <stdint.h>

enum {
    SMALL_PRIMES_COUNT = 3511, /* odd primes below 2^15 */
    TRIAL_PRIMES_COUNT = 563,  /* odd primes below SMALL_PRIMES_BOUND */
    SMALL_PRIMES_BOUND = 4096, /* trial division finds every prime below it */
};

struct small_prime {
    uint32_t p;
    uint64_t inv; /* p^-1 mod 2^64 */
    uint64_t lim; /* UINT64_MAX / p: n % p == 0  <=>  n * inv <= lim */
};

extern const struct small_prime small_primes[SMALL_PRIMES_COUNT];

#endif
