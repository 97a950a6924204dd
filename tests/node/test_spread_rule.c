/* test_spread_rule.c - which numbers of an ordinary batch go to the whole
 * mesh (src/node/spread_rule.c), and the "route:P:I" link's spelling. */
#include <gmp.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "node/spread_rule.h"

/* p * q with p, q the primes after 2^(bits/2 - 1) + off (decimal, malloc'd). */
static char *semiprime(unsigned bits, unsigned long off, unsigned long off2)
{
    mpz_t p, q;
    mpz_inits(p, q, NULL);
    mpz_ui_pow_ui(p, 2, bits / 2 - 1);
    mpz_set(q, p);
    mpz_add_ui(p, p, off);
    mpz_add_ui(q, q, off2);
    mpz_mul_2exp(q, q, 1);
    mpz_nextprime(p, p);
    mpz_nextprime(q, q);
    mpz_mul(p, p, q);
    char *s = mpz_get_str(NULL, 10, p);
    mpz_clears(p, q, NULL);
    return s;
}

static bool hard_bits(const char *num, unsigned *bits)
{
    mpz_t v;
    mpz_init_set_str(v, num, 10);
    *bits = (unsigned)mpz_sizeinbase(v, 2);
    mpz_clear(v);
    return spread_rule_hard(num);
}

static void test_hard_by_size(void)
{
    unsigned bits;
    char *s196 = semiprime(196, 12345, 999);
    CHECK(hard_bits(s196, &bits) && bits >= 195 && bits <= 197);
    char *s178 = semiprime(178, 1, 1);
    CHECK(!hard_bits(s178, &bits) && bits < SPREAD_ROUTE_MIN_BITS);
    char *s184 = semiprime(184, 77, 5);
    CHECK(hard_bits(s184, &bits) && bits >= SPREAD_ROUTE_MIN_BITS);
    char *s342 = semiprime(344, 3, 3);
    CHECK(!hard_bits(s342, &bits) && bits > 340);
    free(s196), free(s178), free(s184), free(s342);
}

static void test_not_hard_when_easy(void)
{
    mpz_t p, n;
    mpz_inits(p, n, NULL);
    mpz_ui_pow_ui(p, 2, 195);
    mpz_nextprime(p, p);
    char *prime = mpz_get_str(NULL, 10, p);
    CHECK(!spread_rule_hard(prime)); /* a prime: its worker proves it */
    mpz_mul_ui(n, p, 997);
    char *small = mpz_get_str(NULL, 10, n);
    CHECK(!spread_rule_hard(small)); /* a factor below the trial limit */
    mpz_ui_pow_ui(p, 2, 180);
    mpz_nextprime(p, p);
    mpz_mul_ui(n, p, 1009);
    char *above = mpz_get_str(NULL, 10, n);
    CHECK(spread_rule_hard(above)); /* the smallest factor is past the limit */
    mpz_mul_ui(n, p, 2);
    char *even = mpz_get_str(NULL, 10, n);
    CHECK(!spread_rule_hard(even));
    mpz_ui_pow_ui(p, 2, 98);
    mpz_nextprime(p, p);
    mpz_mul(n, p, p);
    char *square = mpz_get_str(NULL, 10, n);
    CHECK(!spread_rule_hard(square)); /* a power: no combine splits it */
    CHECK(!spread_rule_hard("abc"));
    CHECK(!spread_rule_hard("0"));
    free(prime), free(small), free(above), free(even), free(square);
    mpz_clears(p, n, NULL);
}

static void test_length_prefilter(void)
{
    CHECK(!spread_rule_long_enough(20));
    CHECK(!spread_rule_long_enough(53));   /* < 10^53 < 2^177 */
    CHECK(spread_rule_long_enough(54));    /* up to 180 bits */
    CHECK(spread_rule_long_enough(103));   /* from 339 bits */
    CHECK(!spread_rule_long_enough(104));  /* >= 10^103 > 2^342 */
}

static void test_route_while_fewer_than_workers(void)
{
    CHECK(!spread_rule_route(0, 6));
    CHECK(!spread_rule_route(1, 1));       /* one worker: nothing to spread over */
    CHECK(spread_rule_route(1, 2));
    CHECK(spread_rule_route(2, 3));        /* the 3-node test */
    CHECK(!spread_rule_route(3, 3));       /* each worker has one already */
    CHECK(!spread_rule_route(1000, 6));
}

static void test_route_only_without_a_tight_budget(void)
{
    CHECK(spread_rule_budget_allows(0));       /* none */
    CHECK(spread_rule_budget_allows(60000));   /* the node's default */
    CHECK(spread_rule_budget_allows(10000));
    CHECK(!spread_rule_budget_allows(9999));
    CHECK(!spread_rule_budget_allows(300));    /* node_number_over_budget_is_reported_unfactored */
}

static void test_link_names(void)
{
    char name[SPREAD_LINK_MAX];
    uint64_t p = 0, i = 0;
    spread_link_name(name, 20055064577, 5);
    CHECK_STR_EQ(name, "route:20055064577:5");
    CHECK(spread_link_parse(name, &p, &i) == 0 && p == 20055064577 && i == 5);
    spread_link_name(name, UINT64_MAX, UINT64_MAX);
    CHECK(spread_link_parse(name, &p, &i) == 0 && p == UINT64_MAX && i == UINT64_MAX);
    CHECK(spread_link_parse("route:7:0", &p, &i) == 0 && p == 7 && i == 0);
    const char *bad[] = {"", "route:", "route:1", "route:1:", "route::1", "route:0:1",
                         "route:01:2", "route:1:02", "route:1:2x", "route:1:2:3", "Route:1:2",
                         " route:1:2", "route:+1:2", "route:-1:2", "route:1: 2",
                         "route:18446744073709551616:1", "route:1:18446744073709551616",
                         "hard", "route:1:2\n"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++)
        if (spread_link_parse(bad[k], &p, &i) == 0) {
            fprintf(stderr, "accepted '%s'\n", bad[k]);
            exit(1);
        }
}

static void test_link_tokens(void)
{
    CHECK(spread_link_token(5, 2) == spread_link_token(5, 2));  /* every leader's */
    CHECK(spread_link_token(5, 2) != spread_link_token(2, 5));
    CHECK(spread_link_token(5, 2) != spread_link_token(5, 3));
    CHECK(spread_link_token(6, 2) != spread_link_token(5, 2));
    for (uint64_t k = 0; k < 1000; k++)
        CHECK(spread_link_token(k, k) != 0); /* 0 means no token */
}

int main(void)
{
    test_hard_by_size();
    test_not_hard_when_easy();
    test_length_prefilter();
    test_route_while_fewer_than_workers();
    test_route_only_without_a_tight_budget();
    test_link_names();
    test_link_tokens();
    return 0;
}
