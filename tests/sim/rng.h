/* rng.h - the simulator's one source of choices: xoshiro256** seeded by
 * splitmix64, so a seed names a whole run on every machine. */
#ifndef MESH_SIM_RNG_H
#define MESH_SIM_RNG_H

#include <stdint.h>

struct sim_rng {
    uint64_t s[4];
};

static inline uint64_t sim_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline void sim_rng_seed(struct sim_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = sim_splitmix(&seed);
}

static inline uint64_t sim_rng_next(struct sim_rng *r)
{
    uint64_t *s = r->s;
    uint64_t x = s[1] * 5;
    uint64_t out = ((x << 7) | (x >> 57)) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return out;
}

/* Uniform in [0, n) (n > 0; the bias of a modulo is irrelevant here). */
static inline uint64_t sim_rng_below(struct sim_rng *r, uint64_t n)
{
    return sim_rng_next(r) % n;
}

/* True with probability pct / 1000. */
static inline int sim_rng_permille(struct sim_rng *r, unsigned pm)
{
    return sim_rng_below(r, 1000) < pm;
}

#endif
