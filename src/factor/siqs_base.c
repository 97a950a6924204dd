/* siqs_base.c - SIQS parameters, the Knuth-Schroeppel multiplier and the
 * factor base. */
#include <math.h>
#include <stdlib.h>

#include "siqs_internal.h"
#include "small_primes.h"

/* By size of n, interpolated between rows: bits, factor base size, sieve
 * interval (KB), large-prime multiple, threshold slack (bits), smallest
 * sieved prime. Tuned on balanced semiprimes (the kernel.sh corpora and
 * per-size ones, fastest of repeated runs): one 32 KB block per
 * polynomial beat two or more from 100 bits, smaller intervals are better
 * below, and around these rows the time is flat within ~5% for factor
 * bases +-20%, slack +-2 bits, large-prime multiples 40..160 and the
 * smallest sieved prime 30..250. */
static const struct siqs_params param_table[] = {
    {60, 70, 8, 30, 17, 30},
    {64, 80, 8, 30, 17, 30},
    {80, 130, 16, 30, 19, 30},
    {90, 190, 16, 40, 20, 30},
    {100, 260, 32, 40, 22, 30},
    {110, 340, 32, 60, 24, 30},
    {120, 420, 32, 80, 27, 30},
    {128, 500, 32, 80, 28, 30},
    {136, 620, 64, 100, 30, 30},
    {144, 760, 64, 100, 31, 30},
};

enum { PARAM_ROWS = sizeof param_table / sizeof param_table[0] };

static uint16_t lerp16(uint16_t a, uint16_t b, unsigned num, unsigned den)
{
    return (uint16_t)(((unsigned)a * (den - num) + (unsigned)b * num + den / 2) / den);
}

bool siqs_choose_params(struct siqs_ctx *ctx)
{
    unsigned bits = (unsigned)mpz_sizeinbase(ctx->n, 2);
    if (bits < param_table[0].bits || bits > param_table[PARAM_ROWS - 1].bits)
        return false;
    int i = 0;
    while (param_table[i + 1].bits < bits)
        i++;
    const struct siqs_params *lo = &param_table[i], *hi = &param_table[i + 1];
    unsigned num = bits - lo->bits, den = (unsigned)(hi->bits - lo->bits);
    ctx->prm = (struct siqs_params){
        .bits = (uint16_t)bits,
        .fb_size = lerp16(lo->fb_size, hi->fb_size, num, den),
        .interval_kb = num * 2 < den ? lo->interval_kb : hi->interval_kb,
        .lp_mult = lerp16(lo->lp_mult, hi->lp_mult, num, den),
        .slack = lerp16(lo->slack, hi->slack, num, den),
        .sieve_min = lerp16(lo->sieve_min, hi->sieve_min, num, den),
    };
    return true;
}

/* A square root of the quadratic residue a mod the odd prime p: one power
 * when p = 3 mod 4, Tonelli-Shanks otherwise. */
static uint32_t sqrt_mod(const struct siqs_mod *m, uint32_t a)
{
    uint32_t p = m->p;
    if (a == 0)
        return 0;
    if (p % 4 == 3)
        return siqs_pow_mod(m, a, (p + 1) / 4);
    uint32_t q = p - 1, s = 0;
    while ((q & 1) == 0)
        q >>= 1, s++;
    uint32_t z = 2;
    while (siqs_pow_mod(m, z, (p - 1) / 2) != p - 1)
        z++;
    uint32_t c = siqs_pow_mod(m, z, q), r = siqs_pow_mod(m, a, (q + 1) / 2);
    uint32_t t = siqs_pow_mod(m, a, q);
    while (t != 1) {
        uint32_t i = 0, t2 = t;
        while (t2 != 1)
            t2 = siqs_mul_mod(m, t2, t2), i++;
        uint32_t b = c;
        for (uint32_t j = 0; j + 1 < s - i; j++)
            b = siqs_mul_mod(m, b, b);
        r = siqs_mul_mod(m, r, b);
        c = siqs_mul_mod(m, b, b);
        t = siqs_mul_mod(m, t, c);
        s = i;
    }
    return r;
}

/* Jacobi symbol (a/m), m odd, by the binary algorithm: shifts and
 * subtractions, no division. */
static int jacobi(uint32_t a, uint32_t m)
{
    int t = 1;
    a %= m;
    while (a != 0) {
        int zeros = __builtin_ctz(a);
        a >>= zeros;
        if ((zeros & 1) && ((m & 7) == 3 || (m & 7) == 5))
            t = -t;
        if (a < m) { /* reciprocity: both odd */
            uint32_t tmp = a;
            a = m;
            m = tmp;
            if ((a & m & 3) == 3)
                t = -t;
        }
        a -= m;
    }
    return m == 1 ? t : 0;
}

/* Odd squarefree multipliers tried (kN must stay a few bits above N). */
static const uint8_t multipliers[] = {
    1, 3, 5, 7, 11, 13, 15, 17, 19, 21, 23, 29, 31, 33, 35, 37,
    39, 41, 43, 47, 51, 53, 55, 57, 59, 61, 65, 67, 69, 71, 73,
};

enum { MULTIPLIERS = sizeof multipliers,
       KS_PRIMES = 100 }; /* odd primes weighed by Knuth-Schroeppel: < 640 */

/* Bit a of qr is set when a is a nonzero square mod p (p < 64 * QR_WORDS):
 * consecutive squares differ by odd numbers, so no division. */
enum { QR_WORDS = 10 };

static void squares_mod(uint32_t p, uint64_t qr[QR_WORDS])
{
    for (int w = 0; w < QR_WORDS; w++)
        qr[w] = 0;
    uint32_t sq = 0;
    for (uint32_t i = 1; i <= p / 2; i++) {
        sq += 2 * i - 1;
        if (sq >= p)
            sq -= p;
        qr[sq / 64] |= 1ULL << (sq % 64);
    }
}

static bool qr_bit(const uint64_t qr[QR_WORDS], uint32_t a)
{
    return (qr[a / 64] >> (a % 64)) & 1;
}

/* Knuth-Schroeppel: the expected log contribution of small primes to
 * Q(x) for kN, minus half of log k (Q grows with sqrt(k)). */
uint32_t siqs_choose_multiplier(const mpz_t n)
{
    double score[MULTIPLIERS];
    unsigned n8 = (unsigned)mpz_fdiv_ui(n, 8);
    for (int m = 0; m < MULTIPLIERS; m++) {
        unsigned kn8 = (multipliers[m] * n8) % 8;
        score[m] = -0.5 * log((double)multipliers[m]) +
                   (kn8 == 1 ? 2 : kn8 == 5 ? 1 : 0.5) * log(2.0);
    }
    uint64_t qr[QR_WORDS];
    for (int i = 0; i < KS_PRIMES; i++) {
        uint32_t p = small_primes[i].p;
        struct siqs_mod mod = siqs_mod_init(p, UINT64_MAX / p + 1);
        uint32_t n_mod = (uint32_t)mpz_fdiv_ui(n, p);
        double lp = log((double)p), residue = 2 * lp / (p - 1), divides = lp / p;
        squares_mod(p, qr);
        for (int m = 0; m < MULTIPLIERS; m++) {
            uint32_t kn = siqs_mul_mod(&mod, multipliers[m], n_mod);
            if (kn == 0)
                score[m] += divides;
            else if (qr_bit(qr, kn))
                score[m] += residue;
        }
    }
    int best = 0;
    for (int m = 1; m < MULTIPLIERS; m++)
        if (score[m] > score[best])
            best = m;
    return multipliers[best];
}

static bool alloc_factor_base(struct siqs_fb *fb, uint32_t size)
{
    size_t padded = siqs_padded(size);
    fb->p = calloc(padded, sizeof *fb->p);
    fb->sqrt_kn = calloc(padded, sizeof *fb->sqrt_kn);
    fb->logp = calloc(padded, sizeof *fb->logp);
    fb->recip = calloc(padded, sizeof *fb->recip);
    fb->magic = calloc(padded, sizeof *fb->magic);
    fb->p16 = calloc(padded, sizeof *fb->p16);
    fb->recip16 = calloc(padded, sizeof *fb->recip16);
    fb->inv = calloc(padded, sizeof *fb->inv);
    fb->lim = calloc(padded, sizeof *fb->lim);
    if (!(fb->p && fb->sqrt_kn && fb->logp && fb->recip && fb->magic && fb->p16 &&
          fb->recip16 && fb->inv && fb->lim))
        return false;
    /* Slots without an odd prime (-1, 2, padding) compute as p = 3 in the
     * eight-at-a-time root test; their roots never match. */
    for (size_t i = 0; i < padded; i++)
        fb->p16[i] = 3, fb->recip16[i] = UINT16_MAX / 3;
    return true;
}

/* Appends p (kN = kn_mod mod p, a square) with sqrt(kN) mod p; sp is
 * NULL for the slots of -1 and 2. */
static void add_prime(struct siqs_fb *fb, const struct small_prime *sp,
                      uint32_t p, uint32_t kn_mod)
{
    uint32_t i = fb->count++;
    fb->p[i] = p;
    fb->sqrt_kn[i] = kn_mod;
    fb->logp[i] = (uint8_t)lround(log2((double)p));
    if (sp == NULL)
        return;
    fb->recip[i] = (uint32_t)(UINT32_MAX / p + 1);
    fb->magic[i] = UINT64_MAX / p + 1;
    struct siqs_mod m = siqs_mod_init(p, fb->magic[i]);
    fb->sqrt_kn[i] = sqrt_mod(&m, kn_mod);
    fb->p16[i] = (uint16_t)p;
    fb->recip16[i] = (uint16_t)(65536 / p);
    fb->inv[i] = sp->inv;
    fb->lim[i] = sp->lim;
}

int siqs_build_factor_base(struct siqs_ctx *ctx, mpz_t found)
{
    ctx->k = siqs_choose_multiplier(ctx->n);
    mpz_mul_ui(ctx->kn, ctx->n, ctx->k);
    struct siqs_fb *fb = &ctx->fb;
    if (!alloc_factor_base(fb, ctx->prm.fb_size))
        return -1;
    add_prime(fb, NULL, 1, 0); /* -1 */
    add_prime(fb, NULL, 2, 1);
    fb->first_sieved = 0;
    for (int i = 0; i < SMALL_PRIMES_COUNT && fb->count < ctx->prm.fb_size; i++) {
        uint32_t p = small_primes[i].p;
        uint32_t n_mod = (uint32_t)mpz_fdiv_ui(ctx->n, p);
        if (n_mod == 0) {
            mpz_set_ui(found, p);
            return 1;
        }
        uint32_t a = (uint32_t)((uint64_t)ctx->k * n_mod % p);
        if (a != 0 && jacobi(a, p) != 1)
            continue;
        if (fb->first_sieved == 0 && p > ctx->prm.sieve_min)
            fb->first_sieved = fb->count;
        add_prime(fb, &small_primes[i], p, a);
    }
    return fb->count == ctx->prm.fb_size && fb->first_sieved != 0 ? 0 : -1;
}
