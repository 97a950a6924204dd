/* factor_u128.h - the 65..128-bit pre-pass of the factoring kernel
 * (internal).
 *
 * Random numbers of this size usually have a factor of 16..32 bits left
 * after trial division; SIQS (siqs.h), which takes these sizes, does not
 * find it any faster than it splits a balanced semiprime.
 * Bounded rho finds it in microseconds. */
#ifndef MESH_FACTOR_U128_H
#define MESH_FACTOR_U128_H

#include <stdint.h>

typedef unsigned __int128 u128;

/* A nontrivial factor of the odd composite n (not necessarily prime), or
 * 0 when max_steps Pollard-Brent steps (x -> x^2 + 1) found none. */
u128 u128_rho(u128 n, uint64_t max_steps);

#endif
