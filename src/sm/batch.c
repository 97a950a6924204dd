/* batch.c - batch specs: validation, list parsing, expansion, encoding.
 *
 * A spec is a recipe, not a list of numbers (except BATCH_LIST), so a ten
 * million number range costs a few bytes in every replica and in the Raft
 * log. batch_number() is the one place that turns a recipe into numbers, and
 * it depends on nothing but the spec and the index. */
#include "errbuf.h"
#include "batch.h"

#include <gmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prime64.h"
#include "queue_codec.h"

/* mpz_set_ui takes an unsigned long, which is 32 bits on some ABIs. */
static void mpz_set_u64(mpz_t z, uint64_t v)
{
    mpz_import(z, 1, 1, sizeof v, 0, 0, &v);
}

/* z < 2^64. */
static uint64_t mpz_get_u64(const mpz_t z)
{
    uint64_t v = 0;
    mpz_export(&v, NULL, -1, sizeof v, 0, 0, z);
    return v;
}

void batch_spec_free(struct batch_spec *s)
{
    free(s->start);
    free(s->list);
    free(s->offsets);
    memset(s, 0, sizeof *s);
}

static void *dup_bytes(const void *p, size_t n)
{
    if (p == NULL)
        return NULL;
    void *d = malloc(n ? n : 1);
    if (d != NULL)
        memcpy(d, p, n);
    return d;
}

int batch_spec_copy(struct batch_spec *dst, const struct batch_spec *src)
{
    *dst = *src;
    dst->start = src->start ? dup_bytes(src->start, strlen(src->start) + 1) : NULL;
    dst->list = dup_bytes(src->list, src->list_len);
    dst->offsets = src->offsets
        ? dup_bytes(src->offsets, (size_t)src->count * sizeof *src->offsets) : NULL;
    if ((src->start && !dst->start) || (src->list && !dst->list) ||
        (src->offsets && !dst->offsets)) {
        batch_spec_free(dst);
        return -1;
    }
    return 0;
}

/* ---- validation ---------------------------------------------------------- */

/* Is start + (count - 1) * step, the largest value of the range, < 2^1024? */
static bool range_fits(const char *start, uint64_t step, uint64_t count)
{
    mpz_t last, span, st;
    mpz_inits(last, span, st, NULL);
    mpz_set_str(last, start, 10);
    mpz_set_u64(span, count - 1);
    mpz_set_u64(st, step);
    mpz_addmul(last, span, st);
    bool ok = mpz_sizeinbase(last, 2) <= MESH_MAX_BITS;
    mpz_clears(last, span, st, NULL);
    return ok;
}

static int validate_range(const struct batch_spec *s, char *err, size_t errlen)
{
    if (s->start == NULL || !numtext_is_normal(s->start, strlen(s->start))) {
        set_err(err, errlen, "range start is not a normalised number below 2^1024");
        return -1;
    }
    if (s->step == 0) {
        set_err(err, errlen, "range step must be at least 1");
        return -1;
    }
    if (!range_fits(s->start, s->step, s->count)) {
        set_err(err, errlen, "range end exceeds %d bits", MESH_MAX_BITS);
        return -1;
    }
    return 0;
}

void batch_spread_layout(const struct batch_spec *s, uint64_t *ecm_jobs, uint64_t *ranges)
{
    *ecm_jobs = ecm_plan_jobs(&s->ecm);
    *ranges = s->count - 1 >= *ecm_jobs ? s->count - 1 - *ecm_jobs : 0;
}

static int validate_spread(const struct batch_spec *s, char *err, size_t errlen)
{
    if (!ecm_plan_valid(&s->ecm)) {
        set_err(err, errlen, "spread ECM plan out of range");
        return -1;
    }
    uint64_t ecm_jobs, ranges;
    batch_spread_layout(s, &ecm_jobs, &ranges);
    /* ECM only (no ranges): any size ECM takes; else SIQS's range. */
    bool ecm_only = ecm_jobs > 0 && ranges == 0;
    int max_bits = ecm_only ? BATCH_SPREAD_ECM_MAX_BITS : BATCH_SPREAD_MAX_BITS;
    if (s->start == NULL || !numtext_is_normal(s->start, strlen(s->start)) ||
        strlen(s->start) > MESH_MAX_DIGITS) {
        set_err(err, errlen, "spread number is not a normalised number of %d..%d bits",
                BATCH_SPREAD_MIN_BITS, max_bits);
        return -1;
    }
    mpz_t n;
    mpz_init_set_str(n, s->start, 10);
    size_t bits = mpz_sizeinbase(n, 2);
    bool odd = mpz_odd_p(n);
    mpz_clear(n);
    if (bits < BATCH_SPREAD_MIN_BITS || (int)bits > max_bits || !odd) {
        set_err(err, errlen, "spread number must be odd, of %d..%d bits",
                BATCH_SPREAD_MIN_BITS, max_bits);
        return -1;
    }
    if (s->step < 1 || s->step > BATCH_SPREAD_MAX_WIDTH || s->count < 2 ||
        s->count - 1 < ecm_jobs || ranges * s->step > UINT32_MAX) {
        set_err(err, errlen, "spread width must be 1..%d and the jobs at least one, "
                "below 2^32 A", BATCH_SPREAD_MAX_WIDTH);
        return -1;
    }
    return 0;
}

static int validate_semiprimes(const struct batch_spec *s, char *err, size_t errlen)
{
    if (s->bits < BATCH_MIN_SEMIPRIME_BITS || s->bits > BATCH_MAX_SEMIPRIME_BITS) {
        set_err(err, errlen, "semiprime bits must be %d..%d",
                BATCH_MIN_SEMIPRIME_BITS, BATCH_MAX_SEMIPRIME_BITS);
        return -1;
    }
    return 0;
}

/* Walks a packed list (normalised decimals, each NUL-terminated) and checks
 * it holds exactly `count` numbers. When offsets is non-NULL it is filled;
 * when check is non-NULL, offsets must equal it. */
static bool walk_list(const char *list, size_t len, uint64_t count,
                      uint64_t *fill, const uint64_t *check)
{
    size_t pos = 0;
    for (uint64_t i = 0; i < count; i++) {
        if (pos >= len)
            return false;
        const char *nul = memchr(list + pos, '\0', len - pos);
        if (nul == NULL || !numtext_is_normal(list + pos, (size_t)(nul - list) - pos))
            return false;
        if (fill != NULL)
            fill[i] = pos;
        if (check != NULL && check[i] != pos)
            return false;
        pos = (size_t)(nul - list) + 1;
    }
    return pos == len;
}

uint64_t batch_list_count(const char *list, size_t len)
{
    uint64_t count = 0;
    size_t pos = 0;
    while (pos < len) {
        const char *nul = memchr(list + pos, '\0', len - pos);
        if (nul == NULL || !numtext_is_normal(list + pos, (size_t)(nul - list) - pos))
            return 0;
        count++;
        pos = (size_t)(nul - list) + 1;
    }
    return count;
}

int batch_list_adopt(struct batch_spec *s, char *list, size_t len, uint64_t count,
                     uint32_t chunk, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    if (count < 1 || count > BATCH_MAX_COUNT || len > BATCH_MAX_LIST_INPUT + 1) {
        free(list);
        set_err(err, errlen, "count must be 1..%d and the list at most %zu MiB",
                BATCH_MAX_COUNT, BATCH_MAX_LIST_INPUT >> 20);
        return -1;
    }
    uint64_t *offsets = malloc((size_t)count * sizeof *offsets);
    if (offsets == NULL) {
        free(list);
        return -2;
    }
    *s = (struct batch_spec){.kind = BATCH_LIST, .count = count, .chunk = chunk,
                             .list = list, .offsets = offsets, .list_len = len};
    if (!walk_list(list, len, count, offsets, NULL)) {
        batch_spec_free(s);
        set_err(err, errlen, "malformed number list");
        return -1;
    }
    return 0;
}

static int validate_list(const struct batch_spec *s, char *err, size_t errlen)
{
    if (s->list == NULL || s->offsets == NULL ||
        !walk_list(s->list, s->list_len, s->count, NULL, s->offsets)) {
        set_err(err, errlen, "malformed number list");
        return -1;
    }
    return 0;
}

int batch_spec_validate(const struct batch_spec *s, char *err, size_t errlen)
{
    if (s->count < 1 || s->count > BATCH_MAX_COUNT) {
        set_err(err, errlen, "count must be 1..%d", BATCH_MAX_COUNT);
        return -1;
    }
    if (!batch_budget_valid(s->budget_ms)) {
        set_err(err, errlen, "number timeout must be at most %llu ms",
                (unsigned long long)BATCH_MAX_BUDGET_MS);
        return -1;
    }
    switch (s->kind) {
    case BATCH_RANGE:
        return validate_range(s, err, errlen);
    case BATCH_SEMIPRIMES:
        return validate_semiprimes(s, err, errlen);
    case BATCH_LIST:
        return validate_list(s, err, errlen);
    case BATCH_SPREAD:
        return validate_spread(s, err, errlen);
    }
    set_err(err, errlen, "unknown batch kind %d", (int)s->kind);
    return -1;
}

/* ---- constructors -------------------------------------------------------- */

int batch_spread_init(struct batch_spec *s, const char *n, uint32_t width, uint64_t ranges,
                      char *err, size_t errlen)
{
    static const struct ecm_plan none = {0, 0};
    return batch_spread_ecm_init(s, n, &none, width, ranges, err, errlen);
}

int batch_spread_ecm_init(struct batch_spec *s, const char *n, const struct ecm_plan *ecm,
                          uint32_t width, uint64_t ranges, char *err, size_t errlen)
{
    if (batch_range_init(s, n, width ? width : 1, 1, err, errlen) != 0)
        return -1;
    s->kind = BATCH_SPREAD;
    s->step = width;
    s->ecm = *ecm;
    s->count = ecm_plan_jobs(ecm) + ranges + 1;
    s->chunk = 1;
    if (batch_spec_validate(s, err, errlen) != 0) {
        batch_spec_free(s);
        return -1;
    }
    return 0;
}

int batch_range_init(struct batch_spec *s, const char *start, uint64_t step,
                     uint64_t count, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    char num[MESH_MAX_DIGITS + 2];
    char why[64];
    if (numtext_normalize(start, strlen(start), num, sizeof num, why, sizeof why) != 0) {
        set_err(err, errlen, "range start: %s", why);
        return -1;
    }
    s->kind = BATCH_RANGE;
    s->count = count;
    s->step = step;
    s->start = strdup(num);
    if (s->start == NULL) {
        set_err(err, errlen, "out of memory");
        return -1;
    }
    if (batch_spec_validate(s, err, errlen) != 0) {
        batch_spec_free(s);
        return -1;
    }
    return 0;
}

int batch_classic_init(struct batch_spec *s, char *err, size_t errlen)
{
    if (batch_range_init(s, BATCH_CLASSIC_START, BATCH_CLASSIC_STEP,
                         BATCH_CLASSIC_COUNT, err, errlen) != 0)
        return -1;
    s->chunk = BATCH_CLASSIC_CHUNK;
    return 0;
}

int batch_semiprimes_init(struct batch_spec *s, uint32_t bits, uint64_t count,
                          uint64_t seed, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->kind = BATCH_SEMIPRIMES;
    s->bits = bits;
    s->count = count;
    s->seed = seed;
    if (batch_spec_validate(s, err, errlen) != 0) {
        memset(s, 0, sizeof *s);
        return -1;
    }
    return 0;
}

/* ---- list parsing -------------------------------------------------------- */

/* The packed list and its offsets while parsing; grows by doubling. */
struct list_builder {
    char *list;
    size_t len, cap;
    uint64_t *offsets;
    size_t count, offsets_cap;
};

static bool builder_add(struct list_builder *b, const char *num)
{
    size_t n = strlen(num) + 1;
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        char *p = realloc(b->list, cap);
        if (p == NULL)
            return false;
        b->list = p;
        b->cap = cap;
    }
    if (b->count == b->offsets_cap) {
        size_t cap = b->offsets_cap ? b->offsets_cap * 2 : 256;
        uint64_t *p = realloc(b->offsets, cap * sizeof *p);
        if (p == NULL)
            return false;
        b->offsets = p;
        b->offsets_cap = cap;
    }
    b->offsets[b->count++] = b->len;
    memcpy(b->list + b->len, num, n);
    b->len += n;
    return true;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Quotes a bad token for an error message: bounded, printable only, so a
 * binary file or a 100 MB line gives a readable one-line error. */
static void quote_token(const char *tok, size_t len, char *out, size_t outlen)
{
    size_t shown = len > 40 ? 40 : len;
    size_t j = 0;
    for (size_t i = 0; i < shown && j + 4 < outlen; i++) {
        unsigned char c = (unsigned char)tok[i];
        out[j++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (shown < len && j + 4 < outlen) {
        memcpy(out + j, "...", 3);
        j += 3;
    }
    out[j] = '\0';
}

/* Parses one trimmed, non-comment line into b. */
static int parse_line(struct list_builder *b, const char *tok, size_t len,
                      size_t line_no, char *err, size_t errlen)
{
    char num[MESH_MAX_DIGITS + 2];
    char why[64];
    if (numtext_normalize(tok, len, num, sizeof num, why, sizeof why) != 0) {
        char shown[64];
        quote_token(tok, len, shown, sizeof shown);
        /* "line 3: 'x1' is not a valid ..." reads well; a size error does
         * not fit "is", so it gets a colon instead. */
        if (strncmp(why, "not ", 4) == 0)
            set_err(err, errlen, "line %zu: '%s' is %s", line_no, shown, why);
        else
            set_err(err, errlen, "line %zu: '%s': %s", line_no, shown, why);
        return -1;
    }
    if (b->count == BATCH_MAX_COUNT) {
        set_err(err, errlen, "line %zu: more than %d numbers", line_no, BATCH_MAX_COUNT);
        return -1;
    }
    if (!builder_add(b, num)) {
        set_err(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static int parse_lines(struct list_builder *b, const char *text, size_t len,
                       char *err, size_t errlen)
{
    size_t pos = 0;
    for (size_t line_no = 1; pos < len; line_no++) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t a = pos, z = end;
        while (a < z && is_space(text[a]))
            a++;
        while (z > a && is_space(text[z - 1]))
            z--;
        pos = end + 1;
        if (a == z || text[a] == '#')
            continue;
        if (parse_line(b, text + a, z - a, line_no, err, errlen) != 0)
            return -1;
    }
    if (b->count == 0) {
        set_err(err, errlen, "no numbers in input");
        return -1;
    }
    return 0;
}

int batch_list_parse(struct batch_spec *s, const char *text, size_t len,
                     char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    if (len > BATCH_MAX_LIST_INPUT) {
        set_err(err, errlen, "input exceeds %zu MiB", BATCH_MAX_LIST_INPUT >> 20);
        return -1;
    }
    /* Editors on some systems start UTF-8 files with a byte order mark:
     * it is not part of the first number. */
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
        text += 3;
        len -= 3;
    }
    struct list_builder b = {0};
    if (parse_lines(&b, text, len, err, errlen) != 0) {
        free(b.list);
        free(b.offsets);
        return -1;
    }
    s->kind = BATCH_LIST;
    s->count = b.count;
    s->list = b.list;
    s->list_len = b.len;
    s->offsets = b.offsets;
    return 0;
}

/* ---- expansion ----------------------------------------------------------- */

static int write_mpz(const mpz_t z, char *buf, size_t buflen)
{
    if (mpz_sizeinbase(z, 10) + 2 > buflen)
        return -1;
    mpz_get_str(buf, 10, z);
    return 0;
}

bool batch_number_u64(const struct batch_spec *s, uint64_t index, uint64_t *out)
{
    if (s->kind != BATCH_RANGE || s->start == NULL || index >= s->count)
        return false;
    /* The start's digits read as they are met (no strlen first). */
    uint64_t start = 0;
    for (const char *d = s->start; *d != '\0'; d++)
        if (__builtin_mul_overflow(start, 10, &start) ||
            __builtin_add_overflow(start, (uint64_t)(*d - '0'), &start))
            return false;
    return !__builtin_mul_overflow(index, s->step, out) && !__builtin_add_overflow(*out, start, out);
}

/* v in decimal, two digits a step from its end, straight into buf. */
static bool write_u64(uint64_t v, char *buf, size_t buflen)
{
    static const char pairs[201] =
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
        "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
        "8081828384858687888990919293949596979899";
    size_t n = 1;
    for (uint64_t rest = v; rest >= 10; rest /= 10)
        n++;
    if (n + 1 > buflen)
        return false;
    char *p = buf + n;
    *p = '\0';
    while (v >= 100) {
        p -= 2;
        memcpy(p, pairs + 2 * (v % 100), 2);
        v /= 100;
    }
    if (v >= 10) {
        p -= 2;
        memcpy(p, pairs + 2 * v, 2);
    } else {
        *--p = (char)('0' + v);
    }
    return true;
}

/* start + index * step within 64 bits: no GMP (results pages and workers
 * make every number of a range this way, millions a second). */
static bool range_number_u64(const struct batch_spec *s, uint64_t index, char *buf,
                             size_t buflen)
{
    uint64_t v;
    return batch_number_u64(s, index, &v) && write_u64(v, buf, buflen);
}

static int range_number(const struct batch_spec *s, uint64_t index, char *buf, size_t buflen)
{
    if (range_number_u64(s, index, buf, buflen))
        return 0;
    mpz_t v, i, st;
    mpz_inits(v, i, st, NULL);
    mpz_set_str(v, s->start, 10);
    mpz_set_u64(i, index);
    mpz_set_u64(st, s->step);
    mpz_addmul(v, i, st);
    int rc = write_mpz(v, buf, buflen);
    mpz_clears(v, i, st, NULL);
    return rc;
}

/* mpz_nextprime, exactly, in a fraction of its time below 2^64 (the
 * factors of every semiprime batch up to 128 bits: prime64.h). */
static void next_prime(mpz_t p)
{
    uint64_t next = mpz_sizeinbase(p, 2) <= 63 ? prime64_next(mpz_get_u64(p)) : 0;
    /* 0: past 2^64 (from a 63-bit start it cannot be, but GMP knows). */
    if (next != 0)
        mpz_set_u64(p, next);
    else
        mpz_nextprime(p, p);
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A prime of exactly `bits` bits (8..512) with its top two bits set, drawn
 * from BLAKE2b(seed, index, which, attempt): counter mode, so the result is
 * a pure function of its inputs on every machine. With the top two bits set
 * each factor is >= 3/4 * 2^bits, so the product of an a-bit and a b-bit
 * factor is >= 9/16 * 2^(a+b) >= 2^(a+b-1): exactly a+b bits. nextprime can
 * step past 2^bits (8 bits: from 252 to 257): then draw again. */
static void random_prime(mpz_t p, uint64_t seed, uint64_t index, uint8_t which,
                         unsigned bits)
{
    uint8_t in[25], out[64];
    put_le64(in, seed);
    put_le64(in + 8, index);
    in[16] = which;
    for (uint64_t attempt = 0;; attempt++) {
        put_le64(in + 17, attempt);
        crypto_generichash(out, sizeof out, in, sizeof in, NULL, 0);
        mpz_import(p, sizeof out, 1, 1, 0, 0, out);
        mpz_fdiv_r_2exp(p, p, bits);
        mpz_setbit(p, bits - 1);
        mpz_setbit(p, bits - 2);
        next_prime(p);
        if (mpz_sizeinbase(p, 2) == bits)
            return;
    }
}

static int semiprime_number(const struct batch_spec *s, uint64_t index, char *buf,
                            size_t buflen)
{
    /* BLAKE2b needs libsodium initialised; this is idempotent and cheap
     * next to the prime search. */
    if (sodium_init() < 0)
        return -1;
    mpz_t p, q;
    mpz_inits(p, q, NULL);
    random_prime(p, s->seed, index, 0, s->bits / 2);
    random_prime(q, s->seed, index, 1, s->bits - s->bits / 2);
    mpz_mul(p, p, q);
    int rc = write_mpz(p, buf, buflen);
    mpz_clears(p, q, NULL);
    return rc;
}

static int list_number(const struct batch_spec *s, uint64_t index, char *buf, size_t buflen)
{
    const char *num = s->list + s->offsets[index];
    size_t n = strlen(num) + 1;
    if (n > buflen)
        return -1;
    memcpy(buf, num, n);
    return 0;
}

/* The text siqs_range_job_format writes (src/factor/siqs_range.h; a test
 * checks they agree), or N itself for the last index. */
static int spread_number(const struct batch_spec *s, uint64_t index, char *buf, size_t buflen)
{
    uint64_t ecm_jobs, ranges;
    batch_spread_layout(s, &ecm_jobs, &ranges);
    unsigned level;
    uint32_t lo, hi;
    int len;
    if (index + 1 == s->count)
        len = snprintf(buf, buflen, "%s", s->start);
    else if (index < ecm_jobs && ecm_plan_job(&s->ecm, index, &level, &lo, &hi))
        /* ecm_range_job_format's text (src/factor/ecm_range.h) */
        len = snprintf(buf, buflen, "ecm:%s:%u:%" PRIu32 ":%" PRIu32, s->start, level, lo, hi);
    else
        len = snprintf(buf, buflen, "siqs:%s:%" PRIu64 ":%" PRIu64, s->start,
                       (index - ecm_jobs) * s->step, (index - ecm_jobs + 1) * s->step);
    return len > 0 && (size_t)len < buflen ? 0 : -1;
}

int batch_number(const struct batch_spec *s, uint64_t index, char *buf, size_t buflen)
{
    if (index >= s->count)
        return -1;
    switch (s->kind) {
    case BATCH_RANGE:
        return s->start ? range_number(s, index, buf, buflen) : -1;
    case BATCH_SEMIPRIMES:
        return s->bits >= BATCH_MIN_SEMIPRIME_BITS ? semiprime_number(s, index, buf, buflen) : -1;
    case BATCH_LIST:
        return s->list && s->offsets ? list_number(s, index, buf, buflen) : -1;
    case BATCH_SPREAD:
        return s->start ? spread_number(s, index, buf, buflen) : -1;
    }
    return -1;
}

/* ---- encoding -------------------------------------------------------------
 * kind u8, count, chunk, then RANGE and SPREAD: start str, step; SEMIPRIMES: bits, seed;
 * LIST: packed list str. The list's offsets are rebuilt on decode rather
 * than sent: they are derived data, and trusting them would need a check
 * costing as much as rebuilding. */

int batch_spec_encode(const struct batch_spec *s, struct qbuf *out)
{
    if (batch_spec_validate(s, NULL, 0) != 0)
        return -1;
    bool with_ecm = s->kind == BATCH_SPREAD && s->ecm.levels > 0;
    qbuf_put_u8(out, with_ecm ? BATCH_SPREAD_ECM_WIRE : (uint8_t)s->kind);
    qbuf_put_varint(out, s->count);
    qbuf_put_varint(out, s->chunk);
    switch (s->kind) {
    case BATCH_RANGE:
    case BATCH_SPREAD:
        qbuf_put_str(out, s->start, strlen(s->start));
        qbuf_put_varint(out, s->step);
        if (with_ecm) {
            qbuf_put_varint(out, s->ecm.levels);
            qbuf_put_varint(out, s->ecm.last_curves);
        }
        break;
    case BATCH_SEMIPRIMES:
        qbuf_put_varint(out, s->bits);
        qbuf_put_varint(out, s->seed);
        break;
    case BATCH_LIST:
        qbuf_put_str(out, s->list, s->list_len);
        break;
    }
    return out->failed ? -1 : 0;
}

static int decode_range(struct qreader *in, struct batch_spec *s)
{
    size_t n;
    const uint8_t *p = qreader_str(in, MESH_MAX_DIGITS, &n);
    s->step = qreader_varint(in);
    /* Check the raw bytes: validate() sees only up to an embedded NUL. */
    if (p == NULL || in->failed || !numtext_is_normal((const char *)p, n))
        return -1;
    s->start = malloc(n + 1);
    if (s->start == NULL)
        return -1;
    memcpy(s->start, p, n);
    s->start[n] = '\0';
    return 0;
}

static int decode_semiprimes(struct qreader *in, struct batch_spec *s)
{
    uint64_t bits = qreader_varint(in);
    s->seed = qreader_varint(in);
    if (in->failed || bits > UINT32_MAX)
        return -1;
    s->bits = (uint32_t)bits;
    return 0;
}

static int decode_list(struct qreader *in, struct batch_spec *s)
{
    size_t n;
    const uint8_t *p = qreader_str(in, BATCH_MAX_LIST_INPUT + 1, &n);
    /* Every number takes at least two bytes ("7\0"): bounding count by the
     * input keeps a hostile count from forcing a huge offsets allocation. */
    if (p == NULL || s->count > n / 2 || s->count == 0)
        return -1;
    s->list = malloc(n);
    s->offsets = malloc((size_t)s->count * sizeof *s->offsets);
    if (s->list == NULL || s->offsets == NULL)
        return -1;
    memcpy(s->list, p, n);
    s->list_len = n;
    return walk_list(s->list, n, s->count, s->offsets, NULL) ? 0 : -1;
}

/* A spread with curve jobs: the range's fields, then the ECM plan. */
static int decode_spread_ecm(struct qreader *in, struct batch_spec *s)
{
    s->kind = BATCH_SPREAD;
    if (decode_range(in, s) != 0)
        return -1;
    uint64_t levels = qreader_varint(in), last = qreader_varint(in);
    if (in->failed || levels == 0 || levels > ECM_MP_LEVEL_COUNT || last > UINT32_MAX)
        return -1;
    s->ecm = (struct ecm_plan){(uint32_t)levels, (uint32_t)last};
    return 0;
}

static int decode_kind(struct qreader *in, struct batch_spec *s)
{
    if ((int)s->kind == BATCH_SPREAD_ECM_WIRE)
        return decode_spread_ecm(in, s);
    switch (s->kind) {
    case BATCH_RANGE:
    case BATCH_SPREAD:
        return decode_range(in, s);
    case BATCH_SEMIPRIMES:
        return decode_semiprimes(in, s);
    case BATCH_LIST:
        return decode_list(in, s);
    }
    return -1;
}

int batch_spec_decode(struct qreader *in, struct batch_spec *s)
{
    memset(s, 0, sizeof *s);
    s->kind = (enum batch_kind)qreader_u8(in);
    s->count = qreader_varint(in);
    uint64_t chunk = qreader_varint(in);
    if (in->failed || chunk > UINT32_MAX || s->count < 1 || s->count > BATCH_MAX_COUNT)
        goto fail;
    s->chunk = (uint32_t)chunk;
    if (decode_kind(in, s) != 0 || batch_spec_validate(s, NULL, 0) != 0)
        goto fail;
    return 0;
fail:
    batch_spec_free(s);
    qreader_fail(in);
    return -1;
}

void batch_budget_encode(const struct batch_spec *s, struct qbuf *out)
{
    qbuf_put_varint(out, s->budget_ms + 1);
}

int batch_budget_decode(struct qreader *in, struct batch_spec *s)
{
    uint64_t v = qreader_varint(in) - 1;
    if (in->failed || !batch_budget_valid(v)) {
        qreader_fail(in);
        return -1;
    }
    s->budget_ms = v;
    return 0;
}
