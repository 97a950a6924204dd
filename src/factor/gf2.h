/* gf2.h - null space of a dense matrix over GF(2) (internal).
 *
 * SIQS's matrices at 65..135 bits are a few hundred rows square: dense
 * Gauss-Jordan elimination on 64-bit words takes well under a millisecond
 * there, simpler and no slower than block Lanczos at that size. */
#ifndef MESH_FACTOR_GF2_H
#define MESH_FACTOR_GF2_H

#include <stddef.h>
#include <stdint.h>

static inline size_t gf2_words(size_t ncols) { return (ncols + 63) / 64; }

/* rows holds nrows rows of gf2_words(ncols) words each (bit c of a row is
 * column c); it is reduced in place. Fills deps[0..ncols): bit k of
 * deps[c] is column c's coefficient in null vector k, so that the columns
 * of each vector sum to zero in every row. Returns how many vectors (at
 * most 64), or -1 when out of memory. */
int gf2_null_space(uint64_t *rows, size_t nrows, size_t ncols, uint64_t *deps);

#endif
