/* siqs_mp_internal.h - the state of the multi-precision SIQS (private to
 * siqs_mp*.c; the entry point is siqs_mp_factor in siqs.h).
 *
 * The engine for 141..SIQS_MP_MAX_BITS bits, where the 128-bit engine
 * (siqs.c) runs out: A, B and C are GMP integers (set up once per A or B,
 * not in the inner loops), factor-base primes up to 2^22 with 32-bit
 * roots, an interval of several 32 KB blocks (L1) with the primes larger
 * than a block sieved through per-block buckets, one or two large primes
 * per relation, and a sparse-then-dense GF(2) step.
 *
 * Polynomials Q(x) = ((A x + B)^2 - kN) / A = A x^2 + 2 B x + C over
 * x in [-M, M), sieve index i = x + M. A is chosen by its index alone
 * (siqs_mp_poly.c), so any range of A indices can be sieved apart from
 * the rest and its relations merged (doc/DESIGN.md, "SIQS past 140
 * bits"). */
#ifndef MESH_FACTOR_SIQS_MP_INTERNAL_H
#define MESH_FACTOR_SIQS_MP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gmp.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "progress.h"

enum {
    MP_BLOCK_BITS = 15,
    MP_BLOCK = 1 << MP_BLOCK_BITS, /* sieve block: fits L1 */
    MP_MAX_A_PRIMES = 20,
    MP_FB_SIGN = 0,                /* slot 0: -1 */
    MP_FB_TWO = 1,                 /* slot 1: 2 (divided out by shifts) */
    MP_FB_ODD = 2,                 /* odd primes from slot 2 on */
    MP_MAX_FB = 1 << 17,           /* bucket entries hold the slot in 17 bits */
    MP_NO_ROOT = UINT32_MAX,
    SIQS_MP_COMBINE_TRIES = 8,     /* combines before giving up */
    SIQS_MP_MAX_JOBS = 64,         /* workers of one number (siqs_mp_par.c) */
    MP_HIT_LANES = 16,             /* siqs_mp_hits.c's widest vector of 16-bit lanes */
};

struct mp_params {
    uint16_t bits;
    uint32_t fb_size;
    uint16_t blocks;       /* interval 2M in blocks */
    uint16_t lp_mult;      /* large prime bound: multiple of the largest p */
    uint16_t slack_tenths; /* threshold: log2 max|Q| - this/10 * log2 pmax */
    uint16_t dlp;          /* 1: keep relations with two large primes */
};

struct mp_fb {
    uint32_t count;
    uint32_t first_sieved; /* smaller primes are only trial-divided */
    uint32_t first_bucket; /* primes from here on (>= MP_BLOCK) go to buckets */
    uint32_t *p, *sqrt_kn;
    uint64_t *magic;       /* 2^64 / p + 1: x mod p by two products */
    uint8_t *logp;         /* scaled log2 p (ctx->log_scale) */
};

struct mp_poly {
    uint32_t a_index;      /* which A: everything else follows from it */
    uint32_t b_index;      /* Gray-code index of B within this A */
    int s;
    uint32_t a_idx[MP_MAX_A_PRIMES];
    mpz_t a, b, c, b_terms[MP_MAX_A_PRIMES];
    uint32_t gamma[MP_MAX_A_PRIMES]; /* B_l = (A / q_l) gamma_l */
    uint32_t *root1, *root2;   /* sieve indices (x + M) mod p of Q's roots */
    uint32_t *bainv;           /* s rows: 2 B_l A^-1 mod p */
};

/* One relation: y^2 == A Q(x) (mod N); its factor-base slots (with
 * multiplicity) in factors[first .. first + nfactors); large[] the large
 * primes (1 when absent), large[0] <= large[1]. y is kept as GMP limbs. */
struct mp_origin {
    uint32_t a_index, b_index; /* the polynomial */
    int32_t x;                 /* the point: y = A x + B */
};

struct mp_rel {
    struct mp_origin at;   /* enough to re-derive y and Q (siqs_mp_wire.c) */
    uint32_t first, nfactors;
    uint32_t large[2];
    uint32_t y_first;      /* into ylimbs */
    int32_t y_size;        /* limbs, negative for y < 0 (mpz convention) */
};

/* The large-prime graph: vertices are large primes (vertex 0 stands for
 * 1), each partial an edge (1, p), each partial-partial an edge (p, q);
 * every cycle is a combination of relations whose large primes square. */
struct mp_graph {
    uint32_t *key;         /* open addressing: large prime -> vertex + 1 */
    uint32_t *vertex_of;
    uint32_t mask;
    uint32_t nvertices;
    uint32_t *parent;      /* union-find over vertices */
    uint32_t cap;
    size_t cycles;         /* edges that closed a cycle */
};

struct mp_relations {
    struct mp_rel *rel;
    size_t nrel, rel_cap;
    uint32_t *factors;
    size_t nfactors, factors_cap;
    mp_limb_t *ylimbs;
    size_t nylimbs, ylimbs_cap;
    uint64_t *seen;        /* hash set of y, to drop repeats */
    size_t seen_mask, nseen;
    size_t fulls;
    struct mp_graph graph;
};

struct mp_ctx {
    mpz_t n, kn, tmp, q, y;
    uint32_t k;
    struct mp_params prm;
    uint32_t m;            /* half the interval */
    uint32_t interval;     /* 2M = blocks * MP_BLOCK */
    uint64_t large_bound;  /* single large primes below this */
    uint64_t dlp_bound;    /* two large primes: cofactor below this */
    double log_scale;      /* sieve logs are log2 p * this (bytes stay < 256) */
    uint8_t init_byte;     /* 128 - threshold: candidates reach 128 */
    uint64_t seed;         /* of the A choice: fixed per n */
    struct mp_fb fb;
    struct mp_poly poly;
    /* The primes sieved block by block (index: slot - first_sieved), as
     * separate arrays so that the candidates' test loads vectors of each
     * (siqs_mp_hits.c): p, 2^16 / p, logp (0 for A's primes: sieved for
     * nothing) and the roots' next hits, next1 <= next2 < next1 + p,
     * block-relative. Padded to MP_HIT_LANES. */
    uint16_t *small_p, *small_recip, *small_next1, *small_next2;
    uint8_t *small_logp;
    bool hits_avx2;            /* the CPU has AVX2 */
    uint8_t *sieve;            /* one block */
    uint32_t *bucket;          /* blocks x bucket_cap entries: slot<<15|offset */
    uint32_t *bucket_fill;
    uint32_t bucket_cap;
    uint32_t first_large;      /* bucket primes from here on exceed the
                                  interval: each root hits it once or not */
    uint32_t *slice_first;     /* per logp step: its first slot (fixed per n) */
    uint32_t *slice_start;     /* per logp step and block: where it starts */
    uint8_t *slice_logp;
    uint32_t nslices;
    bool buckets_filled;       /* siqs_mp_next_b filled them as it moved the
                                  roots (siqs_mp_move_fill) */
    uint32_t *hits;            /* factor slots of the candidate */
    uint32_t *bucket_hits;     /* this block's bucket entries on candidates */
    uint32_t nbucket_hits;
    struct mp_relations rels;
    size_t want_sets;          /* sets to collect before the next combine */
    const struct factor_progress_sink *progress; /* told after each A; NULL: none */
};

/* siqs_mp_base.c: parameters, factor base, arithmetic mod p. */
bool siqs_mp_params(struct mp_ctx *ctx);
/* The factor base's size for n of `bits` bits (the table's); 0 outside it. */
uint32_t siqs_mp_fb_size(unsigned bits);
/* 0: ready; 1: a factor-base prime divides n (in found); -1: failure. */
int siqs_mp_factor_base(struct mp_ctx *ctx, mpz_t found);
uint32_t siqs_mp_mulmod(uint32_t a, uint32_t b, uint32_t p);
uint32_t siqs_mp_invmod(uint32_t a, uint32_t p);

/* x mod p for 32-bit x from magic = 2^64 / p + 1 (Lemire, Kaser, Kurz). */
static inline uint32_t siqs_mp_mod32(uint32_t x, uint64_t magic, uint32_t p)
{
    return (uint32_t)(((unsigned __int128)(magic * x) * p) >> 64);
}

/* siqs_mp_poly.c: init (GMP values) before anything can fail, alloc
 * (root arrays) once the factor base is known. */
void siqs_mp_poly_init(struct mp_poly *poly);
bool siqs_mp_poly_alloc(struct mp_ctx *ctx);
void siqs_mp_poly_free(struct mp_poly *poly);
/* Sets up A number a_index and its first B. False: no A to be had. */
bool siqs_mp_first_b(struct mp_ctx *ctx, uint32_t a_index);
void siqs_mp_next_b(struct mp_ctx *ctx);
/* A number a_index and its B number b_index in poly->a and poly->b, no
 * roots (what a receiver needs to re-derive a relation). Sieving after it
 * starts with siqs_mp_first_b, as siqs_mp_sieve_range does. False: no
 * such A or B. */
bool siqs_mp_set_ab(struct mp_ctx *ctx, uint32_t a_index, uint32_t b_index);
uint32_t siqs_mp_polys_per_a(const struct mp_ctx *ctx);

/* siqs_mp_sieve.c: sieves the current polynomial, adds its relations.
 * False on out of memory. */
bool siqs_mp_sieve_alloc(struct mp_ctx *ctx);
void siqs_mp_sieve_free(struct mp_ctx *ctx);
bool siqs_mp_sieve_poly(struct mp_ctx *ctx);
/* Root r of a prime p moved by d (< p), mod p; MP_NO_ROOT stays (A's
 * primes, which have no root). */
static inline uint32_t siqs_mp_moved(uint32_t r, uint32_t d, uint32_t p)
{
    uint32_t a = r + d;
    a = a >= p ? a - p : a;
    return r == MP_NO_ROOT ? r : a;
}

#if defined(__SSE2__)
/* The same for four roots (values < 2^31: signed compares hold). */
static inline __m128i siqs_mp_moved4(__m128i r, __m128i d, __m128i pv)
{
    __m128i a = _mm_add_epi32(r, d);
    a = _mm_sub_epi32(a, _mm_andnot_si128(_mm_cmpgt_epi32(pv, a), pv));
    __m128i none = _mm_cmpeq_epi32(r, _mm_set1_epi32(-1));
    return _mm_or_si128(_mm_and_si128(none, r), _mm_andnot_si128(none, a));
}
#endif

/* Roots j in [from, to): r += delta (add) or r += p - delta (mod p), both
 * < p < 2^22; MP_NO_ROOT stays. Branch-free; SSE2 four at a time. With lo
 * and hi (the block-sieved primes, p < 2^15), also each prime's smaller
 * and larger root as 16 bits at j - from: the sieve's next hits, written
 * here rather than in a second pass over the roots (A's primes come out
 * 0xffff there: siqs_mp_next_b zeroes them). */
void siqs_mp_move_range(uint32_t *r1, uint32_t *r2, const uint32_t *delta, const uint32_t *p,
                        uint32_t from, uint32_t to, bool add, uint16_t *lo, uint16_t *hi);
/* The bucket primes' roots moved by delta (add) or p - delta, as
 * siqs_mp_next_b moves every root, and their hits for the new polynomial
 * put in the buckets in the same pass (siqs_mp_sieve_poly then skips its
 * fill). A's primes keep MP_NO_ROOT and hit nothing. */
void siqs_mp_move_fill(struct mp_ctx *ctx, const uint32_t *delta, bool add);
/* The block-sieved primes' next hits (small_next1, small_next2) and logs
 * (small_logp: 0 for A's primes) from the roots of A's first B; the next
 * B's are written by siqs_mp_next_b as it moves the roots. */
void siqs_mp_small_roots(struct mp_ctx *ctx);

/* siqs_mp_hits.c: the candidates' test of the block-sieved primes. After
 * the block sieve of a block, writes the indices (slot - first_sieved) of
 * the primes dividing Q at offset off of that block; returns how many. */
bool siqs_mp_has_avx2(void);
uint32_t siqs_mp_small_hits(const struct mp_ctx *ctx, uint32_t off, uint32_t *out);

/* siqs_mp.c: sieves every B of the A numbers [a_lo, a_hi), adding the
 * relations found to ctx->rels; the unit a node can take apart from the
 * others (doc/DESIGN.md). False when out of memory, when no A can be
 * had, or past deadline_ms (CLOCK_MONOTONIC, 0: none; then *timed_out). */
/* Sets up everything for n but the relations (parameters, factor base,
 * polynomial and sieve arrays, bounds): 0 ready, 1 a factor-base prime
 * divides n (in factor), -1 failure. ctx from siqs_mp_ctx_init; free it
 * with siqs_mp_ctx_free whatever this returns. */
void siqs_mp_ctx_init(struct mp_ctx *ctx, const mpz_t n);
int siqs_mp_setup(struct mp_ctx *ctx, mpz_t factor);
void siqs_mp_ctx_free(struct mp_ctx *ctx);
/* Enough sets for a combine (sets >= ctx->want_sets). */
bool siqs_mp_enough(const struct mp_ctx *ctx);

bool siqs_mp_sieve_range(struct mp_ctx *ctx, uint32_t a_lo, uint32_t a_hi,
                         uint64_t deadline_ms, bool *timed_out);

/* siqs_mp_rel.c */
bool siqs_mp_add_relation(struct mp_ctx *ctx, struct mp_origin at, const mpz_t y, const uint32_t *factors,
                          uint32_t nfactors, uint32_t large0, uint32_t large1);
size_t siqs_mp_sets(const struct mp_relations *r);
void siqs_mp_relations_free(struct mp_relations *r);
/* Cycles of the large-prime graph as lists of relations: set k is
 * members[start[k] .. start[k + 1]); fulls come first. Returns the count
 * of sets, or -1 when out of memory. */
long siqs_mp_build_sets(const struct mp_relations *r, uint32_t **start, uint32_t **members);

/* siqs_mp_par.c: siqs_mp_setup, then `jobs` forked workers sieve leased
 * A ranges while this process merges their relations and combines.
 * Returns like siqs_mp_factor; the wire counts of what the workers sent
 * are added to *stats. Every worker is killed and reaped before it
 * returns. */
struct siqs_wire_stats;
int siqs_mp_run_parallel(struct mp_ctx *ctx, mpz_t factor, uint64_t deadline_ms, unsigned jobs,
                         struct siqs_wire_stats *stats);

/* Tells ctx->progress where the run is: sieving (sets of those wanted),
 * the matrix or the square roots. */
void siqs_mp_report(const struct mp_ctx *ctx, enum factor_phase phase);

/* siqs_mp_combine.c: dependencies to a factor. SHORT: too few sets for
 * the matrix (not run); want_sets raised to what it needs. FAILED: the
 * matrix ran and no dependency split n (or out of memory); want_sets
 * raised by a few percent. */
enum mp_combined { MP_COMBINE_SPLIT, MP_COMBINE_FAILED, MP_COMBINE_SHORT };
enum mp_combined siqs_mp_combine(struct mp_ctx *ctx, mpz_t factor);

#endif
