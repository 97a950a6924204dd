/* ecm_range.c - curve jobs and their results as texts (ecm_range.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecm_mp.h"
#include "ecm_range.h"
#include "progress.h"

/* Longest decimal of a factor or N: ECM_RANGE_MAX_BITS bits. */
enum { DIGITS_MAX = 310 };

bool ecm_range_job_is(const char *text, size_t len)
{
    const size_t tag = sizeof ECM_RANGE_PREFIX - 1;
    return len >= tag && memcmp(text, ECM_RANGE_PREFIX, tag) == 0;
}

static bool job_fields_ok(const mpz_t n, const struct ecm_range_job *j)
{
    size_t bits = mpz_sizeinbase(n, 2);
    return mpz_odd_p(n) && bits >= ECM_RANGE_MIN_BITS && bits <= ECM_RANGE_MAX_BITS &&
           j->level < ECM_MP_LEVEL_COUNT && j->lo < j->hi && j->hi <= ECM_RANGE_MAX_CURVE &&
           j->hi - j->lo <= ECM_RANGE_MAX_CURVES;
}

size_t ecm_range_job_format(char *buf, size_t cap, const mpz_t n, const struct ecm_range_job *j)
{
    if (!job_fields_ok(n, j))
        return 0;
    int len = gmp_snprintf(buf, cap, ECM_RANGE_PREFIX "%Zd:%u:%" PRIu32 ":%" PRIu32, n,
                           j->level, j->lo, j->hi);
    return len > 0 && (size_t)len < cap ? (size_t)len : 0;
}

/* A canonical decimal (no sign, no leading zero unless "0") of at most
 * max_digits, ending at a ':' or the text's end: *at moves past it. */
static bool take_decimal(const char *text, size_t len, size_t *at, size_t max_digits,
                         const char **digits, size_t *n)
{
    size_t i = *at;
    while (i < len && text[i] >= '0' && text[i] <= '9')
        i++;
    *n = i - *at;
    *digits = text + *at;
    if (*n == 0 || *n > max_digits || (*n > 1 && (*digits)[0] == '0'))
        return false;
    if (i < len && text[i] != ':')
        return false;
    *at = i < len ? i + 1 : i;
    return true;
}

static bool take_u32(const char *text, size_t len, size_t *at, uint32_t *v)
{
    const char *d;
    size_t n;
    if (!take_decimal(text, len, at, 10, &d, &n))
        return false;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++)
        x = x * 10 + (uint64_t)(d[i] - '0');
    if (x > UINT32_MAX)
        return false;
    *v = (uint32_t)x;
    return true;
}

/* A big decimal into z (canonical, at most DIGITS_MAX digits). */
static bool take_mpz(const char *text, size_t len, size_t *at, mpz_t z)
{
    const char *d;
    size_t n;
    if (!take_decimal(text, len, at, DIGITS_MAX, &d, &n))
        return false;
    char buf[DIGITS_MAX + 1];
    memcpy(buf, d, n);
    buf[n] = '\0';
    return mpz_set_str(z, buf, 10) == 0;
}

bool ecm_range_job_parse(const char *text, size_t len, mpz_t n, struct ecm_range_job *j)
{
    size_t at = sizeof ECM_RANGE_PREFIX - 1;
    uint32_t level;
    if (!ecm_range_job_is(text, len) || !take_mpz(text, len, &at, n) || at == len ||
        text[at - 1] != ':' || !take_u32(text, len, &at, &level) || at == len ||
        !take_u32(text, len, &at, &j->lo) || at == len || !take_u32(text, len, &at, &j->hi) ||
        at != len || text[len - 1] == ':')
        return false;
    j->level = level < ECM_MP_LEVEL_COUNT ? level : ECM_MP_LEVEL_COUNT;
    return job_fields_ok(n, j);
}

bool ecm_range_result_format(const struct ecm_range_result *r, const mpz_t factor, char **text)
{
    size_t cap = sizeof ECM_RANGE_PREFIX + 12 + (r->found ? mpz_sizeinbase(factor, 10) + 2 : 0);
    *text = malloc(cap);
    if (*text == NULL)
        return false;
    if (r->found)
        gmp_snprintf(*text, cap, ECM_RANGE_PREFIX "%" PRIu32 ":%Zd", r->ran, factor);
    else
        snprintf(*text, cap, ECM_RANGE_PREFIX "%" PRIu32, r->ran);
    return true;
}

bool ecm_range_result_parse(const char *text, size_t len, struct ecm_range_result *r,
                            mpz_t factor)
{
    size_t at = sizeof ECM_RANGE_PREFIX - 1;
    if (!ecm_range_job_is(text, len) || !take_u32(text, len, &at, &r->ran) ||
        text[len - 1] == ':')
        return false;
    r->found = at < len;
    if (!r->found)
        return true;
    /* A factor is > 1: "0" and "1" are not one. */
    return take_mpz(text, len, &at, factor) && at == len && mpz_cmp_ui(factor, 1) > 0;
}

enum ecm_range_check ecm_range_verify(const char *job, size_t job_len, const char *text,
                                      size_t len)
{
    mpz_t n, f;
    mpz_inits(n, f, NULL);
    struct ecm_range_job j;
    struct ecm_range_result r;
    enum ecm_range_check verdict = ECM_RANGE_MALFORMED;
    if (ecm_range_job_parse(job, job_len, n, &j) && ecm_range_result_parse(text, len, &r, f) &&
        r.ran <= j.hi - j.lo && !(r.found && r.ran == j.hi - j.lo)) {
        bool proper = !r.found || (mpz_cmp(f, n) < 0 && mpz_divisible_p(n, f));
        verdict = proper ? ECM_RANGE_RIGHT : ECM_RANGE_WRONG;
    }
    mpz_clears(n, f, NULL);
    return verdict;
}

/* The job's curves, one call each when watched (a curve at a large bound
 * takes seconds); 1 factor found, 0 none, -1 the deadline passed. */
static int run_job(const mpz_t n, const struct ecm_range_job *j, uint64_t deadline_ms,
                   const struct factor_progress_sink *progress, mpz_t f, unsigned *ran)
{
    double b1 = ecm_mp_levels[j->level].b1;
    unsigned count = j->hi - j->lo;
    if (progress == NULL)
        return ecm_mp_run_curves(n, b1, ecm_mp_sigma(j->level, j->lo), count, deadline_ms, f,
                                 ran);
    struct factor_progress p = {.phase = FACTOR_PHASE_ECM,
                                .bits = (uint32_t)mpz_sizeinbase(n, 2), .b1 = (uint64_t)b1,
                                .needed = ecm_mp_levels[j->level].curves};
    int rc = 0;
    *ran = 0;
    while (*ran < count && rc == 0) {
        p.found = j->lo + *ran;
        factor_progress_report(progress, &p);
        unsigned one = 0;
        rc = ecm_mp_run_curves(n, b1, ecm_mp_sigma(j->level, j->lo + *ran), 1, deadline_ms, f,
                               &one);
        *ran += one;
    }
    return rc;
}

bool ecm_range_run(const char *job, size_t len, uint64_t deadline_ms,
                   const struct factor_progress_sink *progress, char **text, char *err,
                   size_t errlen)
{
    mpz_t n, f;
    mpz_inits(n, f, NULL);
    struct ecm_range_job j;
    bool ok = ecm_range_job_parse(job, len, n, &j);
    if (!ok) {
        snprintf(err, errlen, "not a curve job");
    } else {
        unsigned ran = 0;
        int rc = run_job(n, &j, deadline_ms, progress, f, &ran);
        struct ecm_range_result r = {ran, rc == 1};
        if (!(ok = ecm_range_result_format(&r, f, text)))
            snprintf(err, errlen, "out of memory");
    }
    mpz_clears(n, f, NULL);
    return ok;
}
