/* test_cofactor_rule.c - when a spread batch's composite cofactor is
 * spread again, the "cofactor:B" link's spelling and token, and N's line
 * made of the factor found and the cofactor's factors
 * (src/node/cofactor_rule.c). */
#include <gmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "node/cofactor_rule.h"
#include "node/spread_rule.h"

/* The cluster test's numbers: p (49 bits, ECM's level 0 finds it) and the
 * primes after 2^99 and 2^100 (a 200-bit cofactor). */
struct nums {
    mpz_t p, q, r, n;
};

static void nums_init(struct nums *x, unsigned qbits, unsigned rbits)
{
    mpz_inits(x->p, x->q, x->r, x->n, NULL);
    mpz_set_ui(x->p, 314159265359279ul);
    mpz_ui_pow_ui(x->q, 2, qbits);
    mpz_nextprime(x->q, x->q);
    mpz_ui_pow_ui(x->r, 2, rbits);
    mpz_nextprime(x->r, x->r);
    mpz_mul(x->n, x->p, x->q);
    mpz_mul(x->n, x->n, x->r);
}

static void nums_clear(struct nums *x)
{
    mpz_clears(x->p, x->q, x->r, x->n, NULL);
}

static void test_wanted(void)
{
    struct nums x;
    nums_init(&x, 99, 100);
    CHECK(cofactor_spread_wanted(x.n, x.p)); /* 200-bit semiprime cofactor */
    mpz_t f, m;
    mpz_inits(f, m, NULL);
    mpz_mul(f, x.p, x.q);
    CHECK(!cofactor_spread_wanted(x.n, f)); /* the factor found is composite */
    CHECK(!cofactor_spread_wanted(x.n, x.n)); /* not a proper divisor */
    mpz_set_ui(f, 1);
    CHECK(!cofactor_spread_wanted(x.n, f));
    mpz_add_ui(f, x.p, 2);
    CHECK(!cofactor_spread_wanted(x.n, f)); /* not a divisor */
    mpz_mul(m, x.p, x.q);
    CHECK(!cofactor_spread_wanted(m, x.p)); /* a prime cofactor: nothing to split */
    mpz_mul(m, x.q, x.q);
    mpz_mul(m, m, x.p);
    CHECK(!cofactor_spread_wanted(m, x.p)); /* a square: SIQS cannot sieve it */
    nums_clear(&x);
    nums_init(&x, 80, 85); /* a 166-bit cofactor: one worker is quicker */
    CHECK(!cofactor_spread_wanted(x.n, x.p));
    nums_clear(&x);
    nums_init(&x, 89, 90); /* 180 bits: the least spread */
    CHECK(cofactor_spread_wanted(x.n, x.p));
    nums_clear(&x);
    nums_init(&x, 170, 171); /* 342 bits: past SIQS's range */
    CHECK(!cofactor_spread_wanted(x.n, x.p));
    nums_clear(&x);
    mpz_clears(f, m, NULL);
}

static void test_names(void)
{
    char name[COFACTOR_LINK_MAX];
    uint64_t b = 0;
    cofactor_link_name(name, 7);
    CHECK_STR_EQ(name, "cofactor:7");
    CHECK(cofactor_link_parse(name, &b) == 0 && b == 7);
    cofactor_link_name(name, UINT64_MAX);
    CHECK(cofactor_link_parse(name, &b) == 0 && b == UINT64_MAX);
    const char *bad[] = {"cofactor:", "cofactor:0", "cofactor:07", "cofactor:1 ", " cofactor:1",
                         "cofactor:+1", "cofactor:-1", "Cofactor:1", "cofactor:1:2",
                         "cofactor:18446744073709551616", "route:1:2", "cofactor1", ""};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++)
        if (cofactor_link_parse(bad[k], &b) == 0) {
            fprintf(stderr, "accepted '%s'\n", bad[k]);
            exit(1);
        }
    uint64_t parent, index;
    CHECK(spread_link_parse("cofactor:7", &parent, &index) != 0); /* not a route link */
}

static void test_tokens(void)
{
    mpz_t a, b;
    mpz_init_set_ui(a, 314159265359279ul);
    mpz_init_set(b, a);
    CHECK(cofactor_link_token(5, a) == cofactor_link_token(5, b)); /* every leader's */
    CHECK(cofactor_link_token(5, a) != cofactor_link_token(6, a));
    mpz_add_ui(b, a, 2);
    CHECK(cofactor_link_token(5, a) != cofactor_link_token(5, b));
    mpz_setbit(b, 200); /* differs from a + 2 in a high limb only */
    mpz_t c;
    mpz_init_set(c, b);
    mpz_clrbit(c, 200);
    mpz_setbit(c, 201);
    CHECK(cofactor_link_token(5, b) != cofactor_link_token(5, c));
    for (uint64_t k = 0; k < 1000; k++) {
        mpz_set_ui(c, k);
        CHECK(cofactor_link_token(k, c) != 0); /* 0 means no token */
    }
    mpz_clears(a, b, c, NULL);
}

/* cofactor_combine(n, factor, text) == want (NULL: refused). */
static void combine_is(const mpz_t n, const mpz_t factor, const char *text, const char *want)
{
    char *out = (char *)1;
    bool ok = cofactor_combine(n, factor, text, &out);
    /* Written out by case: -O3 (the release build) otherwise sees a
     * strcmp with want NULL on a path the first test excludes. */
    bool wrong = want == NULL ? ok || out != NULL : !ok || strcmp(out, want) != 0;
    if (wrong) {
        fprintf(stderr, "combine '%s': got %s, want %s\n", text ? text : "(null)",
                ok ? out : "(refused)", want ? want : "(refused)");
        exit(1);
    }
    free(out);
}

static void test_combine(void)
{
    struct nums x;
    nums_init(&x, 99, 100);
    char *p = mpz_get_str(NULL, 10, x.p), *q = mpz_get_str(NULL, 10, x.q),
         *r = mpz_get_str(NULL, 10, x.r);
    char text[512], want[512], bad[512];
    snprintf(text, sizeof text, "%s %s", q, r);
    snprintf(want, sizeof want, "%s %s %s", p, q, r);
    combine_is(x.n, x.p, text, want);
    snprintf(text, sizeof text, "%s %s", r, q); /* any order in, ascending out */
    combine_is(x.n, x.p, text, want);
    const char *forms[] = {"%s %s ", " %s %s", "%s  %s", "%s,%s", "0%s %s", "%s %s 1",
                           "1 %s %s", "%s:%s"};
    for (size_t k = 0; k < sizeof forms / sizeof *forms; k++) {
        snprintf(bad, sizeof bad, forms[k], q, r);
        combine_is(x.n, x.p, bad, NULL);
    }
    combine_is(x.n, x.p, q, NULL);                /* the product is short */
    snprintf(bad, sizeof bad, "%s %s %s", q, r, r);
    combine_is(x.n, x.p, bad, NULL);              /* ... or long */
    mpz_t qr;
    mpz_init(qr);
    mpz_mul(qr, x.q, x.r);
    char *qrs = mpz_get_str(NULL, 10, qr);
    combine_is(x.n, x.p, qrs, NULL);              /* a composite "factor" */
    snprintf(bad, sizeof bad, "unfactored:%s", qrs);
    combine_is(x.n, x.p, bad, NULL);              /* the cofactor's batch gave up */
    combine_is(x.n, x.p, "", NULL);
    combine_is(x.n, x.p, NULL, NULL);
    combine_is(x.n, x.q, text, NULL);             /* the factor is not the other part */
    mpz_t pq;
    mpz_init(pq);
    mpz_mul(pq, x.p, x.q);
    combine_is(x.n, pq, r, NULL);                 /* a composite factor found */
    /* A repeated prime: n = p q q. */
    mpz_mul(pq, pq, x.q);
    snprintf(text, sizeof text, "%s %s", q, q);
    snprintf(want, sizeof want, "%s %s %s", p, q, q);
    combine_is(pq, x.p, text, want);
    free(p), free(q), free(r), free(qrs);
    mpz_clears(qr, pq, NULL);
    nums_clear(&x);
}

int main(void)
{
    test_wanted();
    test_names();
    test_tokens();
    test_combine();
    return 0;
}
