/* cofactor_rule.c - see cofactor_rule.h. */
#include "cofactor_rule.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"

/* GMP >= 6.2 runs Baillie-PSW first, then reps - 24 Miller-Rabin rounds. */
enum { COFACTOR_PRIME_REPS = 30 };

bool cofactor_spread_wanted(const mpz_t n, const mpz_t factor)
{
    if (mpz_cmp_ui(factor, 1) <= 0 || mpz_cmp(factor, n) >= 0 || !mpz_divisible_p(n, factor) ||
        mpz_probab_prime_p(factor, COFACTOR_PRIME_REPS) == 0)
        return false;
    mpz_t c;
    mpz_init(c);
    mpz_divexact(c, n, factor);
    size_t bits = mpz_sizeinbase(c, 2);
    bool wanted = bits >= COFACTOR_SPREAD_MIN_BITS && bits <= BATCH_SPREAD_MAX_BITS &&
                  mpz_probab_prime_p(c, COFACTOR_PRIME_REPS) == 0 && !mpz_perfect_power_p(c);
    mpz_clear(c);
    return wanted;
}

void cofactor_link_name(char out[COFACTOR_LINK_MAX], uint64_t batch)
{
    snprintf(out, COFACTOR_LINK_MAX, "cofactor:%" PRIu64, batch);
}

int cofactor_link_parse(const char *name, uint64_t *batch)
{
    static const char prefix[] = "cofactor:";
    if (strncmp(name, prefix, sizeof prefix - 1) != 0)
        return -1;
    const char *s = name + sizeof prefix - 1;
    if (*s < '1' || *s > '9')
        return -1; /* no leading zero, not 0: one spelling a batch */
    uint64_t x = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return -1;
        x = x * 10 + (uint64_t)(*s - '0');
    }
    if (*s != '\0')
        return -1;
    *batch = x;
    return 0;
}

static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u; /* splitmix64's finaliser */
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

uint64_t cofactor_link_token(uint64_t batch, const mpz_t factor)
{
    /* Every 64-bit limb of the factor, so factors that share low bits
     * differ; a different constant from route's so the two never meet. */
    uint64_t z = mix(batch * 0x9e3779b97f4a7c15u ^ 0x636f666163746f72u);
    size_t count = 0;
    uint64_t *limbs = mpz_export(NULL, &count, -1, sizeof *limbs, 0, 0, factor);
    for (size_t i = 0; i < count; i++)
        z = mix(z ^ limbs[i]) + 0x9e3779b97f4a7c15u;
    free(limbs);
    return z ? z : 1;
}

static int cmp_mpz(const void *a, const void *b)
{
    return mpz_cmp(*(const mpz_t *)a, *(const mpz_t *)b);
}

/* The text's factors (canonical decimals, one space apart) into *fs. */
static size_t read_factors(const char *text, mpz_t **fs)
{
    size_t cap = 1;
    for (const char *p = text; *p; p++)
        cap += *p == ' ';
    *fs = malloc(cap * sizeof **fs);
    if (*fs == NULL)
        return 0;
    size_t k = 0;
    for (const char *p = text; k < cap;) {
        size_t len = strspn(p, "0123456789");
        char *digits = len && p[0] != '0' ? malloc(len + 1) : NULL;
        if (digits == NULL || (p[len] != ' ' && p[len] != '\0')) {
            free(digits);
            break;
        }
        memcpy(digits, p, len);
        digits[len] = '\0';
        mpz_init_set_str((*fs)[k++], digits, 10);
        free(digits);
        if (p[len] == '\0')
            return k == cap ? k : 0;
        p += len + 1;
    }
    for (size_t i = 0; i < k; i++)
        mpz_clear((*fs)[i]);
    return 0;
}

static char *format_factors(mpz_t *fs, size_t k)
{
    size_t len = 1;
    for (size_t i = 0; i < k; i++)
        len += mpz_sizeinbase(fs[i], 10) + 1;
    char *out = malloc(len), *p = out;
    for (size_t i = 0; out != NULL && i < k; i++)
        p += gmp_sprintf(p, i ? " %Zd" : "%Zd", fs[i]);
    return out;
}

bool cofactor_combine(const mpz_t n, const mpz_t factor, const char *text, char **out)
{
    *out = NULL;
    mpz_t *fs = NULL;
    size_t k = text != NULL ? read_factors(text, &fs) : 0;
    if (k == 0) {
        free(fs);
        return false;
    }
    bool ok = k < SIZE_MAX / sizeof *fs;
    mpz_t *all = ok ? realloc(fs, (k + 1) * sizeof *fs) : NULL;
    if (all == NULL) {
        for (size_t i = 0; i < k; i++)
            mpz_clear(fs[i]);
        free(fs);
        return false;
    }
    mpz_init_set(all[k++], factor);
    mpz_t product;
    mpz_init_set_ui(product, 1);
    for (size_t i = 0; i < k; i++) {
        ok = ok && mpz_cmp_ui(all[i], 1) > 0 && mpz_probab_prime_p(all[i], COFACTOR_PRIME_REPS);
        mpz_mul(product, product, all[i]);
    }
    if (ok && mpz_cmp(product, n) == 0) {
        qsort(all, k, sizeof *all, cmp_mpz);
        *out = format_factors(all, k);
    }
    mpz_clear(product);
    for (size_t i = 0; i < k; i++)
        mpz_clear(all[i]);
    free(all);
    return *out != NULL;
}
