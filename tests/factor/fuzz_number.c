/* fuzz_number.c - the decimal parser and the worker's request-line parser
 * on arbitrary bytes: no crash, no read past the input, and whatever is
 * accepted is well-formed (digits below 2^1024; id and a blank-free token),
 * and the 64-bit parser agrees with the general one. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gmp.h>

#include "child.h"
#include "factor.h"

static void check_number(const uint8_t *data, size_t size)
{
    mpz_t n;
    mpz_init(n);
    enum factor_parse_status st = factor_parse((const char *)data, size, n);
    if (st == FACTOR_PARSE_OK && (mpz_sgn(n) < 0 || mpz_sizeinbase(n, 2) > FACTOR_MAX_BITS))
        abort();
    /* The 64-bit parser accepts exactly what factor_parse accepts below
     * 2^64, with the same value. */
    uint64_t small;
    bool fits = st == FACTOR_PARSE_OK && mpz_sizeinbase(n, 2) <= 64;
    if (factor_parse_u64((const char *)data, size, &small) != fits)
        abort();
    if (fits && mpz_cmp_ui(n, small) != 0)
        abort();
    mpz_clear(n);
}

static void check_request(const uint8_t *data, size_t size)
{
    uint64_t id;
    const char *num;
    size_t len;
    uint64_t budget = UINT64_MAX;
    if (factor_child_parse_request((const char *)data, size, &id, &num, &len, &budget) != 0)
        return;
    const char *end = (const char *)data + size;
    /* The token runs to the end, or to " <budget>" when one was read. */
    bool to_end = num + len == end;
    if (len == 0 || memchr(num, ' ', len) != NULL || (!to_end && num[len] != ' '))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Copy so reads past the end hit ASan's redzone, not the caller's buffer. */
    uint8_t *copy = malloc(size ? size : 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    check_number(copy, size);
    check_request(copy, size);
    free(copy);
    return 0;
}
