/* test_prime64.c - the state machine's next prime is GMP's, exactly: batch
 * recipes must make the same numbers they always made. */
#include <gmp.h>
#include <stdlib.h>

#include "check.h"
#include "prime64.h"

static uint64_t gmp_next(uint64_t n)
{
    mpz_t z;
    mpz_init(z);
    mpz_import(z, 1, 1, sizeof n, 0, 0, &n);
    mpz_nextprime(z, z);
    uint64_t v = 0;
    mpz_export(&v, NULL, -1, sizeof v, 0, 0, z);
    mpz_clear(z);
    return v;
}

int main(void)
{
    /* every start below 100000, then random starts of every size to 63 bits */
    for (uint64_t n = 0; n < 100000; n++)
        CHECK_INT_EQ(prime64_next(n), gmp_next(n));
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t n = x >> (1 + (unsigned)(i % 63));
        CHECK_INT_EQ(prime64_next(n), gmp_next(n));
    }
    /* strong pseudoprimes to small bases, and Carmichael numbers */
    const uint64_t composite[] = {2047, 3215031751ull, 4759123141ull, 1122004669633ull,
                                  3825123056546413051ull, 561, 41041, 825265};
    for (size_t i = 0; i < sizeof composite / sizeof composite[0]; i++)
        CHECK(!prime64_is_prime(composite[i]));
    CHECK(prime64_is_prime(18446744073709551557ull)); /* the largest 64-bit prime */
    CHECK_INT_EQ(prime64_next(18446744073709551557ull), 0);
    return 0;
}
