/* gf2_block.h - dense helpers for block Lanczos over GF(2) (internal).
 *
 * A 64 x 64 matrix is uint64_t[64]: word i is row i, bit j column j. A
 * block of 64 vectors of length n is uint64_t[n]: word r is row r, bit j
 * vector j. The products below are the only dense arithmetic block
 * Lanczos needs (gf2_lanczos.c); the block ones go a byte at a time
 * through 256-entry tables, 8 lookups a row instead of up to 64 xors. */
#ifndef MESH_FACTOR_GF2_BLOCK_H
#define MESH_FACTOR_GF2_BLOCK_H

#include <stddef.h>
#include <stdint.h>

/* out = a b; out may be a or b. */
void gf2_mul_64x64(const uint64_t a[64], const uint64_t b[64], uint64_t out[64]);

/* out ^= v m for the n x 64 block v. */
void gf2_mul_block_acc(const uint64_t *v, const uint64_t m[64], uint64_t *out, size_t n);

/* out = v^T w for the n x 64 blocks v and w. */
void gf2_mul_block_t(const uint64_t *v, const uint64_t *w, uint64_t out[64], size_t n);

#endif
