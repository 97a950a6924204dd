/* siqs_mp_base.c - the multi-precision SIQS's parameters and factor base
 * (primes up to a few million, from a sieve of Eratosthenes). */
#include <math.h>
#include <stdlib.h>

#include "siqs_internal.h"
#include "siqs_mp_internal.h"

/* By size of n (factor base interpolated geometrically between rows, the
 * rest linearly): bits, factor-base primes, interval in 32 KB blocks,
 * large-prime multiple, threshold slack (tenths of log2 of the largest
 * prime), two large primes. Tuned on balanced semiprimes at 150, 170 and
 * 190 bits by cachegrind's instruction, L1-miss and mispredict counts
 * (this shared machine's times drift 30%): at 170 bits 3000 primes and
 * 2 blocks took 17% less than 1600 and 3; at 190 bits 4500 primes 13%
 * less than 2550 and 6000 (both worse). Rows past 190 bits extrapolate
 * (x1.5 primes per 20 bits), checked at 210 and 230 bits only by the
 * benchmark (tests/bench/sizes_vs_gp.py --median). Slacks at 150..170
 * bits retuned once the per-polynomial costs fell (instructions of the
 * bench's 5 numbers): 150 bits 25 (23: +1.7%, 24: +0.7%, 26: +2.4%),
 * 160 and 170 bits 24 (23: +2.1% and +3.0%, 25 at 170: +1.4%). */
static const struct mp_params param_table[] = {
    {100, 300, 1, 40, 20, 0},
    {140, 900, 1, 50, 22, 0},
    {150, 1300, 1, 55, 25, 0},
    {160, 2000, 2, 60, 24, 0},
    {170, 3000, 2, 60, 24, 0},
    {182, 3800, 3, 70, 24, 0},
    {184, 4000, 3, 80, 27, 1},
    {190, 4500, 3, 80, 27, 1},
    {210, 6800, 4, 85, 27, 1},
    {230, 10000, 5, 100, 28, 1},
    {260, 20000, 8, 100, 28, 1},
    {280, 30000, 10, 100, 28, 1},
    {300, 45000, 12, 120, 28, 1},
    {340, 80000, 16, 120, 28, 1},
};

enum { PARAM_ROWS = sizeof param_table / sizeof param_table[0] };

/* The rows around bits (inside the table) and where bits is between them. */
static double rows_around(unsigned bits, const struct mp_params **lo, const struct mp_params **hi)
{
    int i = 0;
    while (param_table[i + 1].bits < bits)
        i++;
    *lo = &param_table[i], *hi = &param_table[i + 1];
    return (double)(bits - (*lo)->bits) / ((*hi)->bits - (*lo)->bits);
}

uint32_t siqs_mp_fb_size(unsigned bits)
{
    if (bits < param_table[0].bits || bits > param_table[PARAM_ROWS - 1].bits)
        return 0;
    const struct mp_params *lo, *hi;
    double t = rows_around(bits, &lo, &hi);
    return (uint32_t)lround(lo->fb_size * pow((double)hi->fb_size / lo->fb_size, t));
}

bool siqs_mp_params(struct mp_ctx *ctx)
{
    unsigned bits = (unsigned)mpz_sizeinbase(ctx->n, 2);
    if (bits < param_table[0].bits || bits > param_table[PARAM_ROWS - 1].bits)
        return false;
    const struct mp_params *lo, *hi;
    double t = rows_around(bits, &lo, &hi);
    ctx->prm = (struct mp_params){
        .bits = (uint16_t)bits,
        .fb_size = siqs_mp_fb_size(bits),
        .blocks = (uint16_t)lround(lo->blocks + t * (hi->blocks - lo->blocks)),
        .lp_mult = (uint16_t)lround(lo->lp_mult + t * (hi->lp_mult - lo->lp_mult)),
        .slack_tenths = (uint16_t)lround(lo->slack_tenths + t * (hi->slack_tenths - lo->slack_tenths)),
        .dlp = t < 0.5 ? lo->dlp : hi->dlp,
    };
    return true;
}

uint32_t siqs_mp_mulmod(uint32_t a, uint32_t b, uint32_t p)
{
    return (uint32_t)((uint64_t)a * b % p);
}

static uint32_t powmod(uint32_t b, uint32_t e, uint32_t p)
{
    uint32_t r = 1;
    for (; e != 0; e >>= 1) {
        if (e & 1)
            r = siqs_mp_mulmod(r, b, p);
        b = siqs_mp_mulmod(b, b, p);
    }
    return r;
}

/* a^-1 mod the prime p (extended Euclid), a not a multiple of p. */
uint32_t siqs_mp_invmod(uint32_t a, uint32_t p)
{
    int64_t r0 = p, r1 = a % p, t0 = 0, t1 = 1;
    while (r1 != 0) {
        int64_t q = r0 / r1, r = r0 - q * r1, t = t0 - q * t1;
        r0 = r1, r1 = r, t0 = t1, t1 = t;
    }
    return (uint32_t)(t0 < 0 ? t0 + p : t0);
}

/* A square root of the quadratic residue a mod the odd prime p
 * (Tonelli-Shanks; one power when p = 3 mod 4). */
static uint32_t sqrt_mod(uint32_t a, uint32_t p)
{
    if (a == 0)
        return 0;
    if (p % 4 == 3)
        return powmod(a, (p + 1) / 4, p);
    uint32_t q = p - 1, s = 0;
    while ((q & 1) == 0)
        q >>= 1, s++;
    uint32_t z = 2;
    while (powmod(z, (p - 1) / 2, p) != p - 1)
        z++;
    uint32_t c = powmod(z, q, p), r = powmod(a, (q + 1) / 2, p), t = powmod(a, q, p);
    while (t != 1) {
        uint32_t i = 0, t2 = t;
        while (t2 != 1)
            t2 = siqs_mp_mulmod(t2, t2, p), i++;
        uint32_t b = c;
        for (uint32_t j = 0; j + 1 < s - i; j++)
            b = siqs_mp_mulmod(b, b, p);
        r = siqs_mp_mulmod(r, b, p);
        c = siqs_mp_mulmod(b, b, p);
        t = siqs_mp_mulmod(t, c, p);
        s = i;
    }
    return r;
}

/* Odd primes below limit, in a byte sieve (odd numbers only). */
static uint32_t *odd_primes_below(uint32_t limit, uint32_t *count)
{
    uint8_t *composite = calloc(limit / 2 + 1, 1);
    uint32_t *primes = malloc((limit / 2 + 1) * sizeof *primes);
    if (composite == NULL || primes == NULL) {
        free(composite);
        free(primes);
        return NULL;
    }
    uint32_t n = 0;
    for (uint32_t i = 3; i < limit; i += 2) {
        if (composite[i / 2])
            continue;
        primes[n++] = i;
        for (uint64_t j = (uint64_t)i * i; j < limit; j += 2 * i)
            composite[j / 2] = 1;
    }
    free(composite);
    *count = n;
    return primes;
}

static bool alloc_fb(struct mp_fb *fb, uint32_t size)
{
    fb->p = calloc(size, sizeof *fb->p);
    fb->sqrt_kn = calloc(size, sizeof *fb->sqrt_kn);
    fb->magic = calloc(size, sizeof *fb->magic);
    fb->logp = calloc(size, sizeof *fb->logp);
    return fb->p && fb->sqrt_kn && fb->magic && fb->logp;
}


/* Smaller primes are trial-divided only: sieving them cost more than the
 * threshold slack that stands in for them (cachegrind, 150 bits: 40 took
 * 8% more instructions than 150, and 256 15% more). */
enum { SIEVE_MIN_PRIME = 150 };

static void add_prime(struct mp_fb *fb, uint32_t p, uint32_t sqrt_kn)
{
    uint32_t i = fb->count++;
    fb->p[i] = p;
    fb->sqrt_kn[i] = sqrt_kn;
    fb->magic[i] = UINT64_MAX / p + 1;
    if (fb->first_sieved == 0 && p > SIEVE_MIN_PRIME)
        fb->first_sieved = i;
    if (fb->first_bucket == 0 && p >= MP_BLOCK)
        fb->first_bucket = i;
}

/* The odd primes p with kN a square mod p, until the base is full. */
static int fill_fb(struct mp_ctx *ctx, const uint32_t *primes, uint32_t nprimes, mpz_t found)
{
    struct mp_fb *fb = &ctx->fb;
    for (uint32_t i = 0; i < nprimes && fb->count < ctx->prm.fb_size; i++) {
        uint32_t p = primes[i];
        uint32_t n_mod = (uint32_t)mpz_fdiv_ui(ctx->n, p);
        if (n_mod == 0) {
            mpz_set_ui(found, p);
            return 1;
        }
        uint32_t a = siqs_mp_mulmod(ctx->k % p, n_mod, p);
        if (a != 0 && powmod(a, (p - 1) / 2, p) != 1)
            continue;
        add_prime(fb, p, sqrt_mod(a, p));
    }
    return fb->count == ctx->prm.fb_size ? 0 : -1;
}

int siqs_mp_factor_base(struct mp_ctx *ctx, mpz_t found)
{
    ctx->k = siqs_choose_multiplier(ctx->n);
    mpz_mul_ui(ctx->kn, ctx->n, ctx->k);
    struct mp_fb *fb = &ctx->fb;
    if (ctx->prm.fb_size >= MP_MAX_FB || !alloc_fb(fb, ctx->prm.fb_size))
        return -1;
    fb->p[fb->count++] = 1; /* -1 */
    fb->p[fb->count++] = 2;
    /* About half the primes qualify; p_k ~ k ln k. */
    double want = 2.4 * ctx->prm.fb_size;
    uint32_t nprimes, limit = (uint32_t)(want * log(want) * 1.2) + 1000;
    uint32_t *primes = odd_primes_below(limit, &nprimes);
    if (primes == NULL)
        return -1;
    int r = fill_fb(ctx, primes, nprimes, found);
    free(primes);
    if (r != 0)
        return r;
    if (fb->first_bucket == 0)
        fb->first_bucket = fb->count;
    return fb->first_sieved != 0 ? 0 : -1;
}
