/* gf2_lanczos.h - null vectors of a large sparse matrix over GF(2) by
 * Montgomery's block Lanczos (internal).
 *
 * Dense elimination costs the cube of the size; block Lanczos costs about
 * size / 64 products of the matrix with a block of 64 vectors, so the
 * square times the column weight. It finds null vectors of B^T B from a
 * random start; a last small elimination over its 128 candidate vectors
 * turns them into null vectors of B. */
#ifndef MESH_FACTOR_GF2_LANCZOS_H
#define MESH_FACTOR_GF2_LANCZOS_H

#include <stddef.h>
#include <stdint.h>

#define GF2_LANCZOS_BROKE_DOWN (-2)

/* The matrix as in gf2_sparse.h: column c holds the rows rows[start[c] ..
 * start[c + 1]) (each < nrows, no repeats). seed picks the random start
 * (a breakdown restarts from a start derived from it): the same seed and
 * matrix give the same vectors. Fills deps[0..ncols): bit k of deps[c] is
 * column c's coefficient in null vector k; the vectors are nonzero and
 * independent, each checked against the matrix. Returns how many (at
 * most 64; 0: two finished runs found none), -1 when out of memory,
 * GF2_LANCZOS_BROKE_DOWN when every start broke down (deps all zero). */
int gf2_lanczos_null_space(uint32_t nrows, size_t ncols, const uint32_t *start,
                           const uint32_t *rows, uint64_t seed, uint64_t *deps);

#endif
