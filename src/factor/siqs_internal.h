/* siqs_internal.h - the state SIQS's files share (private to siqs*.c).
 *
 * One struct siqs_ctx per run, allocated and freed by siqs_factor; no
 * global mutable state. Polynomials are Q(x) = (A x + B)^2 - kN = A g(x),
 * g(x) = A x^2 + 2 B x + C, sieved over x in [-M, M); sieve index
 * i = x + M. */
#ifndef MESH_FACTOR_SIQS_INTERNAL_H
#define MESH_FACTOR_SIQS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gmp.h>

typedef unsigned __int128 u128;
typedef __int128 i128;

enum {
    SIQS_BLOCK = 32768,     /* sieve block: the L1 data cache */
    SIQS_MAX_INTERVAL = 1 << 17, /* sieve indices < 2^17 (siqs_sieve.c) */
    SIQS_MAX_A_PRIMES = 12, /* factors of A */
    SIQS_FB_SIGN = 0,       /* factor base slot 0 stands for -1 */
    SIQS_FB_TWO = 1,        /* slot 1 is 2, divided out by shifts */
    SIQS_FB_ODD = 2,        /* odd primes from slot 2 on */
    SIQS_EXTRA_RELATIONS = 16, /* sets beyond the factor base: null vectors */
    SIQS_MIN_EXCESS = 10,   /* enough null vectors (each splits n with p 1/2) */
    SIQS_LANES = 8,         /* factor-base arrays padded to a multiple */
    SIQS_NO_ROOT = 0xffff,  /* root of a slot that is never hit */
};

/* Tuned by measurement (tests/bench/kernel.sh); see siqs_base.c. */
struct siqs_params {
    uint16_t bits;     /* of n */
    uint16_t fb_size;  /* factor base entries */
    uint16_t interval_kb; /* sieve interval 2M: a block or whole blocks */
    uint16_t lp_mult;  /* large prime bound, in multiples of the largest p */
    uint16_t slack;    /* bits below log2 max|g| that still count */
    uint16_t sieve_min; /* smallest prime sieved (smaller: divided only) */
};

struct siqs_fb {
    uint32_t count;        /* entries, slots 0 and 1 included */
    uint32_t first_sieved; /* smaller primes are only trial-divided */
    uint32_t *p;
    uint32_t *sqrt_kn;     /* sqrt(kN) mod p */
    uint8_t *logp;
    uint32_t *recip;       /* 2^32 / p + 1: i mod p by two products */
    uint64_t *magic;       /* 2^64 / p + 1: any 32-bit x mod p, likewise */
    uint16_t *p16;         /* p again, and 2^16 / p, for eight at a time */
    uint16_t *recip16;
    uint64_t *inv;         /* p^-1 mod 2^64 and UINT64_MAX / p: exact */
    uint64_t *lim;         /* division and divisibility by products */
};

struct siqs_poly {
    int s;                           /* primes in A */
    uint64_t a;
    int64_t b;
    i128 c;                          /* (B^2 - kN) / A */
    uint32_t a_idx[SIQS_MAX_A_PRIMES];
    uint64_t b_terms[SIQS_MAX_A_PRIMES]; /* B = sum of +-b_terms */
    uint32_t b_index;                /* Gray code index within this A */
    uint16_t *bainv;                 /* s rows: 2 b_terms[l] A^-1 mod p */
    uint16_t *root1, *root2;         /* sieve index of the roots, mod p */
    /* g mod q for A's primes q, which have no root pair: 2B, C, M mod q */
    uint32_t a_2b[SIQS_MAX_A_PRIMES], a_c[SIQS_MAX_A_PRIMES], a_m[SIQS_MAX_A_PRIMES];
};

/* Y^2 == A g (mod N) with the factor-base slots of A g in factors, one per
 * prime power; large is 1 or the prime left over (a partial). */
struct siqs_relation {
    i128 y;
    uint32_t large;
    uint32_t first;    /* into siqs_relations.factors */
    uint32_t nfactors;
};

/* Full relations and pairs of partials sharing their large prime: each is
 * one row of the matrix (a "set"). */
struct siqs_set {
    uint32_t rel[2];   /* rel[1] == rel[0] for a full relation */
};

struct siqs_relations {
    struct siqs_relation *rel;
    size_t nrel, rel_cap;
    uint32_t *factors;
    size_t nfactors, factors_cap;
    struct siqs_set *sets;
    size_t nsets, sets_cap;
    uint32_t *partial_slot;  /* open addressing: large prime -> rel + 1 */
    uint32_t partial_mask;
    size_t npartials;        /* entries in partial_slot */
    uint8_t *prime_seen;     /* per factor-base slot: in some set yet? */
    size_t distinct_primes;  /* slots seen: the matrix has no more rows */
};

struct siqs_ctx {
    mpz_t n, kn, tmp;
    uint32_t k;                /* Knuth-Schroeppel multiplier */
    struct siqs_params prm;
    uint32_t m;                /* half the sieve interval */
    uint32_t block_len;        /* bytes sieved at once: min(2M, SIQS_BLOCK) */
    uint32_t blocks;           /* 2M / block_len */
    uint32_t large_bound;
    uint8_t threshold;         /* sieve byte start: 128 - threshold bits */
    struct siqs_fb fb;
    struct siqs_poly poly;
    uint32_t *next1, *next2;   /* next hit of each root, block-relative */
    uint8_t *sieve;            /* one block */
    uint32_t *scratch;         /* factors of the candidate being divided */
    uint32_t *hit_slots;       /* primes whose roots match the candidate */
    uint64_t *used_a;
    size_t nused_a, used_a_cap;
    uint64_t rng;
    struct siqs_relations rels;
    size_t target_sets;        /* stop here whatever the excess */
    size_t min_excess;         /* or once sets exceed the primes seen so */
};

/* Factor-base arrays hold this many entries (slots past count pad). */
static inline size_t siqs_padded(uint32_t count)
{
    return (count + SIQS_LANES - 1) / SIQS_LANES * SIQS_LANES;
}

/* Arithmetic modulo one factor-base prime p < 2^15 (products of residues
 * fit 32 bits) without division instructions: x mod p for 32-bit x from
 * magic = 2^64 / p + 1 by two products (Lemire, Kaser and Kurz). */
struct siqs_mod {
    uint32_t p;
    uint64_t magic;
    uint32_t two32; /* 2^32 mod p */
};

static inline uint32_t siqs_mod_u32(const struct siqs_mod *m, uint32_t x)
{
    return (uint32_t)(((u128)(m->magic * x) * m->p) >> 64);
}

static inline struct siqs_mod siqs_mod_init(uint32_t p, uint64_t magic)
{
    struct siqs_mod m = {p, magic, 0};
    m.two32 = siqs_mod_u32(&m, siqs_mod_u32(&m, 1u << 16) << 16);
    return m;
}

static inline uint32_t siqs_mod_u64(const struct siqs_mod *m, uint64_t x)
{
    uint32_t hi = siqs_mod_u32(m, (uint32_t)(x >> 32)), lo = siqs_mod_u32(m, (uint32_t)x);
    return siqs_mod_u32(m, siqs_mod_u32(m, hi * m->two32) + lo);
}

static inline uint32_t siqs_mul_mod(const struct siqs_mod *m, uint32_t a, uint32_t b)
{
    return siqs_mod_u32(m, a * b);
}

static inline uint32_t siqs_pow_mod(const struct siqs_mod *m, uint32_t b, uint32_t e)
{
    uint32_t r = 1;
    for (; e != 0; e >>= 1) {
        if (e & 1)
            r = siqs_mul_mod(m, r, b);
        b = siqs_mul_mod(m, b, b);
    }
    return r;
}

/* a^-1 = a^(p-2) mod p (Fermat): cheaper here than Euclid's divisions. */
static inline uint32_t siqs_inv_mod(const struct siqs_mod *m, uint32_t a)
{
    return siqs_pow_mod(m, a, m->p - 2);
}

/* siqs_base.c (the multiplier is shared with siqs_mp_base.c) */
uint32_t siqs_choose_multiplier(const mpz_t n);
bool siqs_choose_params(struct siqs_ctx *ctx);
/* 0: ready; 1: a factor-base prime divides n (in found); -1: failure. */
int siqs_build_factor_base(struct siqs_ctx *ctx, mpz_t found);

/* siqs_poly.c */
bool siqs_next_a(struct siqs_ctx *ctx);
void siqs_next_b(struct siqs_ctx *ctx);
uint32_t siqs_polys_per_a(const struct siqs_ctx *ctx);

/* siqs_sieve.c */
bool siqs_sieve_poly(struct siqs_ctx *ctx);

/* siqs_rel.c (siqs_reserve is shared with siqs_mp*.c): grows *items,
 * an array of *cap elements of size bytes, to hold need (doubling). */
bool siqs_reserve(void **items, size_t *cap, size_t need, size_t size);
bool siqs_add_relation(struct siqs_ctx *ctx, i128 y, const uint32_t *factors,
                       uint32_t nfactors, uint32_t large);
bool siqs_combine(struct siqs_ctx *ctx, mpz_t factor);
void siqs_relations_free(struct siqs_relations *r);

#endif
