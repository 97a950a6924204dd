/* spread_rule.c - see spread_rule.h. */
#include "spread_rule.h"

#include <gmp.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "batch.h"

bool spread_rule_long_enough(size_t digits)
{
    /* 10^(d-1) <= N < 10^d: N has at least (d-1)*log2(10) bits, at most
     * d*log2(10) + 1. */
    return digits * 3.3219280948873623 + 1 >= SPREAD_ROUTE_MIN_BITS &&
           (digits - 1) * 3.3219280948873623 <= BATCH_SPREAD_MAX_BITS;
}

static bool has_small_factor(const mpz_t n)
{
    for (unsigned long p = 3; p < SPREAD_ROUTE_TRIAL_LIMIT; p += 2)
        if (mpz_divisible_ui_p(n, p))
            return true; /* composites p are multiples of smaller primes */
    return false;
}

bool spread_rule_hard(const char *num)
{
    mpz_t n;
    if (mpz_init_set_str(n, num, 10) != 0) {
        mpz_clear(n);
        return false;
    }
    size_t bits = mpz_sgn(n) > 0 ? mpz_sizeinbase(n, 2) : 0;
    bool hard = bits >= SPREAD_ROUTE_MIN_BITS && bits <= BATCH_SPREAD_MAX_BITS &&
                mpz_odd_p(n) && !has_small_factor(n) && !mpz_perfect_power_p(n) &&
                mpz_probab_prime_p(n, 25) == 0;
    mpz_clear(n);
    return hard;
}

bool spread_rule_route(uint64_t hard, unsigned workers)
{
    return hard > 0 && workers >= 2 && hard < workers;
}

bool spread_rule_budget_allows(uint64_t budget_ms)
{
    return budget_ms == 0 || budget_ms >= SPREAD_ROUTE_MIN_BUDGET_MS;
}

void spread_link_name(char out[SPREAD_LINK_MAX], uint64_t parent, uint64_t index)
{
    snprintf(out, SPREAD_LINK_MAX, "route:%" PRIu64 ":%" PRIu64, parent, index);
}

/* Canonical decimal: digits only, no leading zero, within u64. */
static const char *parse_u64(const char *s, char end, uint64_t *v)
{
    if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] != end))
        return NULL;
    uint64_t x = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return NULL;
        x = x * 10 + (uint64_t)(*s - '0');
    }
    *v = x;
    return *s == end ? s : NULL;
}

int spread_link_parse(const char *name, uint64_t *parent, uint64_t *index)
{
    static const char prefix[] = "route:";
    if (strncmp(name, prefix, sizeof prefix - 1) != 0)
        return -1;
    const char *s = parse_u64(name + sizeof prefix - 1, ':', parent);
    if (s == NULL || parse_u64(s + 1, '\0', index) == NULL || *parent == 0)
        return -1;
    return 0;
}

/* splitmix64's finaliser: a token no random one meets but by chance. */
uint64_t spread_link_token(uint64_t parent, uint64_t index)
{
    uint64_t z = parent * 0x9e3779b97f4a7c15u ^ (index + 0x5851f42d4c957f2du);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    z ^= z >> 31;
    return z ? z : 1;
}
