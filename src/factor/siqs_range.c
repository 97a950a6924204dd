/* siqs_range.c - range jobs and their relation texts (siqs_range.h). */
#include <stdio.h> /* before gmp.h: gmp_snprintf */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "siqs.h"
#include "siqs_mp_internal.h"
#include "siqs_range.h"

static const char B32[] = "0123456789abcdefghijklmnopqrstuv";
enum { PREFIX_LEN = 5 }; /* both prefixes */

bool siqs_range_job_is(const char *text, size_t len)
{
    return len >= PREFIX_LEN && memcmp(text, SIQS_RANGE_JOB_PREFIX, PREFIX_LEN) == 0;
}

static bool n_fits(const mpz_t n)
{
    size_t bits = mpz_sizeinbase(n, 2);
    return mpz_sgn(n) > 0 && mpz_odd_p(n) && bits >= SIQS_MP_MIN_BITS && bits <= SIQS_MP_MAX_BITS;
}

size_t siqs_range_job_format(char *buf, size_t cap, const mpz_t n, uint32_t a_lo, uint32_t a_hi)
{
    if (!n_fits(n) || a_lo >= a_hi || a_hi - a_lo > SIQS_RANGE_MAX_A)
        return 0;
    int len = gmp_snprintf(buf, cap, SIQS_RANGE_JOB_PREFIX "%Zd:%u:%u", n, a_lo, a_hi);
    return len > 0 && (size_t)len < cap ? (size_t)len : 0;
}

/* A canonical decimal of 1..digits digits (no sign, no leading zero). */
static bool decimal_field(const char *s, size_t len, size_t max_digits)
{
    if (len == 0 || len > max_digits || (s[0] == '0' && len > 1))
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool u32_field(const char *s, size_t len, uint32_t *out)
{
    if (!decimal_field(s, len, 10))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++)
        v = v * 10 + (uint64_t)(s[i] - '0');
    if (v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

bool siqs_range_job_parse(const char *text, size_t len, mpz_t n, uint32_t *a_lo, uint32_t *a_hi)
{
    if (!siqs_range_job_is(text, len) || len > SIQS_RANGE_JOB_MAX)
        return false;
    const char *f = text + PREFIX_LEN, *end = text + len;
    const char *c1 = memchr(f, ':', (size_t)(end - f));
    const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
    if (c2 == NULL || !decimal_field(f, (size_t)(c1 - f), 103) ||
        !u32_field(c1 + 1, (size_t)(c2 - c1 - 1), a_lo) ||
        !u32_field(c2 + 1, (size_t)(end - c2 - 1), a_hi))
        return false;
    char digits[104];
    memcpy(digits, f, (size_t)(c1 - f));
    digits[c1 - f] = '\0';
    if (mpz_set_str(n, digits, 10) != 0)
        return false;
    return n_fits(n) && *a_lo < *a_hi && *a_hi - *a_lo <= SIQS_RANGE_MAX_A;
}

/* ---- base 32 ------------------------------------------------------------ */

static size_t b32_len(size_t bytes)
{
    return (bytes * 8 + 4) / 5;
}

static void b32_encode(const uint8_t *in, size_t len, char *out)
{
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            *out++ = B32[(acc >> bits) & 31];
        }
    }
    if (bits > 0)
        *out++ = B32[(acc << (5 - bits)) & 31];
    *out = '\0';
}

/* A letter's value plus one (B32), 0 outside the alphabet. */
static const uint8_t B32_PLUS_ONE[256] = {
    ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8,
    ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15,
    ['f'] = 16, ['g'] = 17, ['h'] = 18, ['i'] = 19, ['j'] = 20, ['k'] = 21, ['l'] = 22,
    ['m'] = 23, ['n'] = 24, ['o'] = 25, ['p'] = 26, ['q'] = 27, ['r'] = 28, ['s'] = 29,
    ['t'] = 30, ['u'] = 31, ['v'] = 32
};

static int b32_value(char c)
{
    return B32_PLUS_ONE[(unsigned char)c] - 1;
}

/* The leader checks every range result's form (up to 64 KiB) before it is
 * committed: one pass without an early exit, which the compiler vectorises
 * (letter by letter it was ~7% of a spread leader's loop). */
static bool b32_letters_only(const char *in, size_t len)
{
    unsigned bad = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        bad |= (unsigned)(c - '0') > 9u && (unsigned)(c - 'a') > 'v' - 'a';
    }
    return bad == 0;
}

/* Every range result is decoded by the leader's coordinator (~6% of its
 * loop letter by letter at 200 bits): eight letters make five bytes, from
 * a table, one check for the eight. */
static bool b32_decode_groups(const char *in, size_t groups, uint8_t *out)
{
    unsigned bad = 0;
    for (size_t g = 0; g < groups; g++, in += 8, out += 5) {
        uint64_t acc = 0;
        for (int i = 0; i < 8; i++) {
            unsigned v = B32_PLUS_ONE[(unsigned char)in[i]];
            bad |= v == 0;
            acc = (acc << 5) | ((v - 1) & 31u);
        }
        for (int i = 0; i < 5; i++)
            out[i] = (uint8_t)(acc >> (32 - 8 * i));
    }
    return bad == 0;
}

/* out holds len * 5 / 8 bytes. False: a letter outside the alphabet, a
 * length no encoder writes, or unused bits that are not zero. */
static bool b32_decode(const char *in, size_t len, uint8_t *out, size_t *out_len)
{
    size_t bytes = len * 5 / 8;
    if (b32_len(bytes) != len)
        return false;
    size_t groups = len / 8;
    if (!b32_decode_groups(in, groups, out))
        return false;
    uint32_t acc = 0;
    int bits = 0;
    size_t at = groups * 5;
    for (size_t i = groups * 8; i < len; i++) {
        int v = b32_value(in[i]);
        if (v < 0)
            return false;
        acc = (acc << 5) | (uint32_t)v;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out[at++] = (uint8_t)(acc >> bits);
        }
        acc &= (1u << bits) - 1;
    }
    *out_len = at;
    return acc == 0;
}

/* ---- results ------------------------------------------------------------- */

bool siqs_range_result_encode(struct mp_ctx *ctx, char **text, size_t *text_len,
                              size_t *sent)
{
    size_t count = ctx->rels.nrel;
    if (count > SIQS_WIRE_MAX_RELS)
        count = SIQS_WIRE_MAX_RELS;
    for (;;) {
        uint8_t *msg;
        size_t len;
        if (!siqs_wire_encode(ctx, 0, count, &msg, &len))
            return false;
        size_t chars = PREFIX_LEN + b32_len(len);
        if (chars <= SIQS_RANGE_TEXT_MAX || count == 0) {
            char *out = malloc(chars + 1);
            if (out != NULL) {
                memcpy(out, SIQS_RANGE_RESULT_PREFIX, PREFIX_LEN);
                b32_encode(msg, len, out + PREFIX_LEN);
            }
            free(msg);
            *text = out, *text_len = chars, *sent = count;
            return out != NULL;
        }
        free(msg);
        /* Too many for one result: shrink in proportion, with a margin
         * (relations differ in size); the rest of the range is lost, and
         * the coordinator simply leases more A. */
        count = count * SIQS_RANGE_TEXT_MAX / chars * 15 / 16;
    }
}

bool siqs_range_result_form(const char *text, size_t len)
{
    if (len <= PREFIX_LEN || len > SIQS_RANGE_TEXT_MAX ||
        memcmp(text, SIQS_RANGE_RESULT_PREFIX, PREFIX_LEN) != 0)
        return false;
    size_t chars = len - PREFIX_LEN;
    if (b32_len(chars * 5 / 8) != chars || !b32_letters_only(text + PREFIX_LEN, chars))
        return false;
    /* The last letter's unused bits must be zero. */
    unsigned unused = (unsigned)(chars * 5 % 8);
    return (b32_value(text[len - 1]) & ((1 << unused) - 1)) == 0;
}

bool siqs_range_result_decode(struct mp_ctx *ctx, const char *text, size_t len,
                              struct siqs_wire_stats *stats)
{
    if (len < PREFIX_LEN || len > SIQS_RANGE_TEXT_MAX ||
        memcmp(text, SIQS_RANGE_RESULT_PREFIX, PREFIX_LEN) != 0) {
        stats->malformed++;
        return false;
    }
    size_t chars = len - PREFIX_LEN, bytes;
    uint8_t *msg = malloc(chars * 5 / 8 + 1);
    if (msg == NULL)
        return false;
    bool ok = b32_decode(text + PREFIX_LEN, chars, msg, &bytes);
    if (!ok)
        stats->malformed++;
    else
        ok = siqs_wire_decode(ctx, msg, bytes, stats);
    free(msg);
    return ok;
}

/* ---- the worker's side --------------------------------------------------- */

void siqs_range_worker_free(struct siqs_range_worker *w)
{
    if (w->ctx != NULL) {
        siqs_mp_ctx_free(w->ctx);
        free(w->ctx);
    }
    w->ctx = NULL;
}

/* The context for n: the last one when it is the same n, else a new one.
 * A factor found while setting up (n shares a prime with its factor base),
 * or a set-up that fails (a power, a factor base that cannot be filled),
 * leaves no context: NULL, and the job is answered with no relations (the
 * coordinator's own set-up meets the same and gives N to one worker). */
static struct mp_ctx *context_for(struct siqs_range_worker *w, const mpz_t n, bool *ok)
{
    *ok = true;
    if (w->ctx != NULL && mpz_cmp(w->ctx->n, n) == 0)
        return w->ctx;
    siqs_range_worker_free(w);
    struct mp_ctx *ctx = malloc(sizeof *ctx);
    if (ctx == NULL) {
        *ok = false;
        return NULL;
    }
    siqs_mp_ctx_init(ctx, n);
    mpz_t factor;
    mpz_init(factor);
    int ready = siqs_mp_setup(ctx, factor);
    mpz_clear(factor);
    if (ready != 0) {
        siqs_mp_ctx_free(ctx);
        free(ctx);
        return NULL;
    }
    w->ctx = ctx;
    return ctx;
}

bool siqs_range_run(struct siqs_range_worker *w, const char *job, size_t len,
                    uint64_t deadline_ms, char **text, char *err, size_t errlen)
{
    mpz_t n;
    mpz_init(n);
    uint32_t lo, hi;
    bool parsed = siqs_range_job_parse(job, len, n, &lo, &hi), ok = parsed;
    struct mp_ctx *ctx = parsed ? context_for(w, n, &ok) : NULL;
    mpz_clear(n);
    if (!ok) {
        snprintf(err, errlen, "%s", parsed ? "cannot set up the sieve" : "malformed range job");
        return false;
    }
    size_t sent, text_len;
    if (ctx == NULL) { /* set-up split n, or could not: nothing to sieve */
        static const uint8_t empty[] = {'R', 1, 0}; /* version 1, no relations */
        *text = malloc(PREFIX_LEN + b32_len(sizeof empty) + 1);
        if (*text == NULL)
            return false;
        memcpy(*text, SIQS_RANGE_RESULT_PREFIX, PREFIX_LEN);
        b32_encode(empty, sizeof empty, *text + PREFIX_LEN);
        return true;
    }
    bool timed_out = false;
    if (!siqs_mp_sieve_range(ctx, lo, hi, deadline_ms, &timed_out) && !timed_out) {
        siqs_mp_relations_free(&ctx->rels);
        snprintf(err, errlen, "sieve failed");
        return false;
    }
    ok = siqs_range_result_encode(ctx, text, &text_len, &sent);
    siqs_mp_relations_free(&ctx->rels); /* answered: the coordinator keeps them */
    if (!ok)
        snprintf(err, errlen, "out of memory");
    return ok;
}
