/* prime64.h - (sm-internal) the next prime above a 64-bit number, exactly.
 *
 * Batch recipes draw semiprimes' factors with "the next prime above a
 * random start". GMP's mpz_nextprime costs ~4 us a prime, paid by every
 * worker that makes the number and by the leader that checks its result;
 * below 2^64 a deterministic Miller-Rabin gives the very same prime (GMP's
 * answer there is exact: no BPSW pseudoprime is below 2^64) in a fraction
 * of that. */
#ifndef MESH_SM_PRIME64_H
#define MESH_SM_PRIME64_H

#include <stdbool.h>
#include <stdint.h>

bool prime64_is_prime(uint64_t n);
/* The smallest prime > n, or 0 when there is none below 2^64. */
uint64_t prime64_next(uint64_t n);

#endif
