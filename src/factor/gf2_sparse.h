/* gf2_sparse.h - null space of a large sparse matrix over GF(2)
 * (internal).
 *
 * The multi-precision SIQS's matrices have thousands to 100,000 columns
 * of ~20 entries each. Structured Gaussian elimination shrinks them
 * (a column holding a row no other column has is dropped; a row in few
 * columns is eliminated by adding its lightest column to the others).
 * Past GF2_LANCZOS_FROM columns left after a light pass (rows of up to 5
 * columns) block Lanczos (gf2_lanczos.h) finds the null vectors: its cost
 * is the size times the entries. Below it the pass goes on to rows of 24
 * columns, which leaves mostly the dense rows of the small primes, a third
 * or less of the original, for dense elimination (gf2.h), whose cost
 * grows with the cube of the size. */
#ifndef MESH_FACTOR_GF2_SPARSE_H
#define MESH_FACTOR_GF2_SPARSE_H

#include <stddef.h>
#include <stdint.h>

/* Column c holds the rows rows[start[c] .. start[c + 1]) (each < nrows,
 * sorted, no repeats). Fills deps[0..ncols): bit k of deps[c] is column
 * c's coefficient in null vector k (the columns of each vector sum to
 * zero in every row). Returns how many vectors (at most 64), or -1 when
 * out of memory. */
int gf2_sparse_null_space(uint32_t nrows, size_t ncols, const uint32_t *start,
                          const uint32_t *rows, uint64_t *deps);

/* Columns left after the structured elimination from which block Lanczos
 * (gf2_lanczos.h) replaces dense elimination (doc/DESIGN.md, "Block
 * Lanczos": where the two cross). */
#define GF2_LANCZOS_FROM ((size_t)1000)

/* gf2_sparse_null_space with that size as a parameter: 0 is always
 * Lanczos, SIZE_MAX always dense (tests and the benchmark); *left (when
 * left is not NULL) is set to the columns left for that step. */
int gf2_sparse_null_space_with(uint32_t nrows, size_t ncols, const uint32_t *start,
                               const uint32_t *rows, size_t lanczos_from, size_t *left,
                               uint64_t *deps);

#endif
