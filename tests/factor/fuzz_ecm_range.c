/* fuzz_ecm_range.c - the decoders of ECM curve work spread over the mesh
 * (src/factor/ecm_range.h) on arbitrary bytes: a job text as a worker is
 * handed it, a result text as a key holder could send it, and the
 * leader's check of that result against a fixed job. No crash, no read
 * past the input; a text that parses re-formats to exactly itself; a
 * result the check calls right has no factor or one that divides N. */
#include <stdio.h> /* before gmp.h */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gmp.h>

#include "ecm_range.h"

/* A job of a 101-bit N = 3 * 7 * nextprime(2^96): small divisors, so the
 * fuzzer can reach results the check calls right. */
#define N_TEXT "1663791412799551089464422958337"
static const char JOB[] = "ecm:" N_TEXT ":2:10:20";

static void job(const uint8_t *data, size_t size)
{
    mpz_t n;
    mpz_init(n);
    struct ecm_range_job j;
    if (ecm_range_job_parse((const char *)data, size, n, &j)) {
        char buf[512];
        size_t len = ecm_range_job_format(buf, sizeof buf, n, &j);
        if (len != size || memcmp(buf, data, size) != 0)
            abort();
    }
    mpz_clear(n);
}

static void result(const uint8_t *data, size_t size)
{
    mpz_t f, n;
    mpz_inits(f, n, NULL);
    struct ecm_range_result r;
    if (ecm_range_result_parse((const char *)data, size, &r, f)) {
        char *text = NULL;
        if (!ecm_range_result_format(&r, f, &text) || strlen(text) != size ||
            memcmp(text, data, size) != 0)
            abort();
        free(text);
    }
    if (ecm_range_verify(JOB, sizeof JOB - 1, (const char *)data, size) == ECM_RANGE_RIGHT) {
        if (!ecm_range_result_parse((const char *)data, size, &r, f) || r.ran > 10)
            abort();
        mpz_set_str(n, N_TEXT, 10);
        if (r.found && (mpz_cmp(f, n) >= 0 || !mpz_divisible_p(n, f)))
            abort();
    }
    mpz_clears(f, n, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    job(data, size);
    result(data, size);
    return 0;
}
