/* fuzz_verify.c - factor_verify (src/factor/verify.h) on arbitrary result
 * texts, the bytes any key holder can send the leader: no crash, no read
 * past the input; the verdict with the sieve is the one without; a text
 * accepted is in the grammar the replicas check (qresult_text_well_formed)
 * and its parts really multiply to N. Input: N's digits, a newline, the
 * text (N normalised first; an input without a valid N checks the text
 * against 12). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gmp.h>

#include "numtext.h"
#include "queue.h"
#include "verify.h"

static struct factor_verifier *sieve;

static void check_product(const char *n, const char *text, size_t len)
{
    mpz_t want, product, part;
    mpz_inits(want, product, part, NULL);
    mpz_set_str(want, n, 10);
    mpz_set_ui(product, 1);
    char *copy = strndup(text, len);
    for (char *tok = strtok(copy, " "); tok != NULL; tok = strtok(NULL, " ")) {
        mpz_set_str(part, strncmp(tok, "unfactored:", 11) == 0 ? tok + 11 : tok, 10);
        mpz_mul(product, product, part);
    }
    if (mpz_sgn(want) == 0 ? len != 0 : mpz_cmp(product, want) != 0)
        abort();
    free(copy);
    mpz_clears(want, product, part, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (sieve == NULL && (sieve = factor_verifier_new()) == NULL)
        abort();
    const char *in = (const char *)data;
    const char *nl = memchr(in, '\n', size);
    char n[MESH_MAX_DIGITS + 2] = "12";
    const char *text = in;
    size_t len = size;
    if (nl != NULL) {
        if (numtext_normalize(in, (size_t)(nl - in), n, sizeof n, NULL, 0) != 0)
            strcpy(n, "12");
        text = nl + 1;
        len = size - (size_t)(nl - in) - 1;
    }
    char *own = malloc(len ? len : 1);   /* exactly len bytes: ASan sees overreads */
    if (own == NULL)
        return 0;
    memcpy(own, text, len);
    bool unf_plain, unf_sieved;
    enum factor_verdict plain = factor_verify(NULL, n, own, len, &unf_plain);
    enum factor_verdict sieved = factor_verify(sieve, n, own, len, &unf_sieved);
    if (plain != sieved || unf_plain != unf_sieved)
        abort();
    /* N as a word, when it is one: the same verdict. */
    char *end;
    errno = 0;
    unsigned long long n64 = strtoull(n, &end, 10);
    bool unf_word;
    if (*end == '\0' && errno == 0 &&
        (factor_verify_u64(sieve, n64, own, len, &unf_word, NULL) != plain || unf_word != unf_plain))
        abort();
    if (plain != FACTOR_VERDICT_MALFORMED && !qresult_text_well_formed(own, len))
        abort();
    if (plain == FACTOR_VERDICT_OK)
        check_product(n, own, len);
    free(own);
    return 0;
}
