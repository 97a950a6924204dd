/* pari_path.h - libpari for the numbers beyond the 64-bit fast path
 * (internal).
 *
 * The only file that includes pari.h: PARI's headers define many short
 * macros that would leak into the rest of the kernel. */
#ifndef MESH_FACTOR_PARI_PATH_H
#define MESH_FACTOR_PARI_PATH_H

#include <stddef.h>
#include <stdint.h>

#include <gmp.h>

#include "prime_list.h"

/* pari_init once per process (PARI's state is process-global; a second
 * call is a no-op). 0 on success. */
int pari_path_init(size_t stack_bytes);

/* Factors c (composite, > 2^64) into primes appended to primes, dividing
 * each out of rest (which must start equal to c). Returns 0 when rest
 * reached 1, 1 when the budget ran out (or PARI failed) first: rest is then
 * the product of what is left. budget_ms == 0: unlimited. */
int pari_path_factor(const mpz_t c, uint64_t budget_ms,
                     struct prime_list *primes, mpz_t rest);

#endif
