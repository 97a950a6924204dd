/* fuzz_cofactor.c - the two readers of cofactor_rule.h on arbitrary input:
 * cofactor_link_parse on batch names (any key holder may submit one: what
 * it accepts must re-spell byte for byte, so one batch has one link), and
 * cofactor_combine on result texts (a child batch's committed line): what
 * it accepts must be primes, ascending, whose product is N. The first
 * byte picks the reader. */
#include <gmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/cofactor_rule.h"

static void link_name(const char *name)
{
    uint64_t batch;
    if (cofactor_link_parse(name, &batch) != 0)
        return;
    char again[COFACTOR_LINK_MAX];
    cofactor_link_name(again, batch);
    if (strcmp(again, name) != 0 || batch == 0)
        abort();
}

/* N = 3 * 5 * 7 * 1000003 * (2^61 - 1), the factor found 1000003: small
 * enough that a fuzzer spells the other factors. */
static void combine(const char *text)
{
    mpz_t n, p, prev, x, product;
    mpz_inits(n, prev, x, product, NULL);
    mpz_init_set_ui(p, 1000003);
    mpz_set_ui(n, 105 * 1000003ul);
    mpz_mul_ui(n, n, (1ul << 61) - 1);
    char *out;
    if (cofactor_combine(n, p, text, &out)) {
        mpz_set_ui(product, 1);
        for (char *tok = strtok(out, " "); tok != NULL; tok = strtok(NULL, " ")) {
            if (mpz_set_str(x, tok, 10) != 0 || mpz_cmp(x, prev) < 0 ||
                !mpz_probab_prime_p(x, 30))
                abort();
            mpz_mul(product, product, x);
            mpz_set(prev, x);
        }
        if (mpz_cmp(product, n) != 0)
            abort();
        free(out);
    } else if (out != NULL) {
        abort();
    }
    mpz_clears(n, p, prev, x, product, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 4096)
        return 0;
    char *text = malloc(size);
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    if (data[0] & 1)
        link_name(text);
    else
        combine(text);
    free(text);
    return 0;
}
