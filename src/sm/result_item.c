/* result_item.c - one result in its compact form (result_item.h).
 *
 * Nearly every result is a short ascending list of factors below 2^64: as
 * varint differences a trivial number's factors take a byte or two each
 * where their decimals took up to seven, and reading them back is cheaper
 * than checking the decimals' grammar was. */
#include "result_item.h"

#include <string.h>

#include "queue.h"


/* The factors of text[0..len) when it is a list of decimals below 2^64 in
 * ascending order (no "unfactored:" part): their count, each written to
 * *out as in result_item.h when out is not NULL. -1 when it is not. */
static long factor_list(const char *text, size_t len, uint8_t **out)
{
    uint64_t prev = 0, v = 0;
    long k = 0;
    for (size_t i = 0; i <= len && len > 0; i++) {
        if (i < len && text[i] != ' ') {
            unsigned d = (unsigned char)text[i] - '0';
            /* v == 0 with d == 0: a leading zero, which renders otherwise. */
            if (d > 9 || (v == 0 && d == 0) || __builtin_mul_overflow(v, 10, &v) ||
                __builtin_add_overflow(v, d, &v))
                return -1;
            continue;
        }
        if (v < prev || v == 0)
            return -1;
        if (out != NULL)
            *out = result_item_put_varint(*out, v - prev);
        prev = v;
        v = 0;
        k++;
    }
    return k;
}

size_t result_item_from_text(const char *text, size_t len, uint8_t *out)
{
    /* One pass: the factors go after room for the longest tag (3 bytes:
     * k < 2^15), then move down behind the tag they turn out to need. */
    uint8_t *p = out + 3;
    long k = factor_list(text, len, &p);
    if (k >= 0) {
        uint8_t tag[3];
        size_t n = (size_t)(result_item_put_varint(tag, (uint64_t)k << 1) - tag);
        memmove(out + n, out + 3, (size_t)(p - out - 3));
        memcpy(out, tag, n);
        return (size_t)(p - out) - (3 - n);
    }
    p = result_item_put_varint(out, (uint64_t)len << 1 | 1);
    memcpy(p, text, len);
    return (size_t)(p - out) + len;
}

static unsigned decimal_digits(uint64_t v)
{
    static const uint64_t pow10[20] = {
        1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
        100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL,
        10000000000000ULL, 100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
        100000000000000000ULL, 1000000000000000000ULL, 10000000000000000000ULL};
    /* log10(2) ~ 1233 / 4096: the digits of 2^(bits-1), then one more if v
     * reaches the next power of ten. */
    unsigned bits = 64 - (unsigned)__builtin_clzll(v | 1);
    unsigned d = (bits * 1233) >> 12;
    return d + (v >= pow10[d]) + (v == 0);
}

/* A varint of hostile bytes: up to three bytes (below 2^21: nearly every
 * factor difference) read here, with the reader's rule that a last byte
 * after the first is never 0 (one encoding per value); longer ones, and
 * every failure, through the reader's checks. */
static uint64_t read_varint(struct qreader *in)
{
    size_t left = in->failed ? 0 : in->len - in->pos;
    const uint8_t *p = in->p + in->pos;
    if (left >= 1 && p[0] < 0x80) {
        in->pos += 1;
        return p[0];
    }
    if (left >= 2 && p[1] < 0x80 && p[1] != 0) {
        in->pos += 2;
        return (uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7;
    }
    if (left >= 3 && (p[1] & 0x80) && p[2] < 0x80 && p[2] != 0) {
        in->pos += 3;
        return (uint64_t)(p[0] & 0x7f) | (uint64_t)(p[1] & 0x7f) << 7 | (uint64_t)p[2] << 14;
    }
    return qreader_varint(in);
}

static int check_factors(struct qreader *in, uint64_t k)
{
    /* Each factor takes a byte at least, and renders to two at least. */
    if (k > qreader_remaining(in) || k > QRESULT_MAX_TEXT / 2)
        return -1;
    uint64_t f = 0;
    size_t rendered = 0;
    for (uint64_t j = 0; j < k; j++) {
        uint64_t d = read_varint(in);
        if (in->failed || (j == 0 && d == 0) || __builtin_add_overflow(f, d, &f))
            return -1;
        rendered += decimal_digits(f) + (j > 0);
        if (rendered > QRESULT_MAX_TEXT)
            return -1;
    }
    return 0;
}

static int check_text(struct qreader *in, uint64_t len)
{
    if (len == 0 || len > QRESULT_MAX_TEXT || len > qreader_remaining(in))
        return -1;
    const char *text = (const char *)in->p + in->pos;
    in->pos += (size_t)len;
    /* The grammar implies the charset; a plain factor list would have been
     * written as one. */
    return qresult_text_well_formed(text, (size_t)len) &&
           factor_list(text, (size_t)len, NULL) < 0 ? 0 : -1;
}

int result_item_check(struct qreader *in)
{
    uint64_t tag = read_varint(in);
    if (in->failed)
        return -1;
    int rc = tag & 1 ? check_text(in, tag >> 1) : check_factors(in, tag >> 1);
    if (rc != 0)
        qreader_fail(in);
    return rc;
}

static char *put_decimal(char *out, uint64_t v)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324"
                                "25262728293031323334353637383940414243444546474849"
                                "50515253545556575859606162636465666768697071727374"
                                "75767778798081828384858687888990919293949596979899";
    unsigned n = decimal_digits(v);
    char *at = out + n;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        at -= 2;
        memcpy(at, pairs + 2 * r, 2);
    }
    if (v >= 10)
        memcpy(at - 2, pairs + 2 * v, 2);
    else
        at[-1] = (char)('0' + v);
    return out + n;
}

size_t result_item_render(const uint8_t *p, size_t avail, char *out, size_t *size)
{
    const uint8_t *at = p, *end = p + avail;
    uint64_t tag = 0;
    char *text = out;
    at = result_item_varint(at, end, &tag);
    if (at != NULL && (tag & 1)) {
        size_t len = (size_t)(tag >> 1);
        if (len <= QRESULT_MAX_TEXT && len <= (size_t)(end - at)) {
            memcpy(text, at, len);
            text += len;
            at += len;
        }
    } else if (at != NULL) {
        uint64_t f = 0, d;
        for (uint64_t j = 0; j < tag >> 1; j++) {
            const uint8_t *next = result_item_varint(at, end, &d);
            /* Checked items fit; were one not, still at most a whole text
             * (a factor and its space take 21 bytes at most). */
            if (next == NULL || ((size_t)(text - out) + 21 > QRESULT_MAX_TEXT &&
                                 (size_t)(text - out) + (j > 0) + decimal_digits(f + d) >
                                     QRESULT_MAX_TEXT))
                break;
            at = next;
            f += d;
            if (j > 0)
                *text++ = ' ';
            text = put_decimal(text, f);
        }
    }
    *text = '\0';
    *size = at != NULL ? (size_t)(at - p) : 0;
    return (size_t)(text - out);
}

size_t result_item_size(const uint8_t *p, size_t avail)
{
    const uint8_t *at = p, *end = p + avail;
    uint64_t tag;
    if ((at = result_item_varint(at, end, &tag)) == NULL)
        return 0;
    if (tag & 1)
        return (tag >> 1) <= (uint64_t)(end - at) ? (size_t)(at - p) + (size_t)(tag >> 1) : 0;
    /* k varints end at the k-th byte without the continuation bit: counted,
     * not decoded (every replica walks every item it applies or spills). */
    for (uint64_t k = tag >> 1; k > 0; k -= !(*at++ & 0x80))
        if (at == end)
            return 0;
    return (size_t)(at - p);
}

bool result_item_unfactored(const uint8_t *p, size_t avail)
{
    /* A factor list's tag is even, and its low bit is the first byte's. */
    uint64_t tag;
    const uint8_t *at;
    if (avail == 0 || !(p[0] & 1) || (at = result_item_varint(p, p + avail, &tag)) == NULL)
        return false;
    size_t len = (size_t)(tag >> 1);
    /* "unfactored:" holds the one letter a result may hold. */
    return len <= (size_t)(p + avail - at) && memchr(at, 'u', len) != NULL;
}
