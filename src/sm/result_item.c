/* result_item.c - one result in its compact form (result_item.h).
 *
 * Nearly every result is a short ascending list of factors below 2^64: as
 * varint differences a trivial number's factors take a byte or two each
 * where their decimals took up to seven, and reading them back is cheaper
 * than checking the decimals' grammar was. */
#include "result_item.h"

#include <string.h>

#include "queue.h"

static uint8_t *put_varint(uint8_t *p, uint64_t x)
{
    do {
        *p++ = (uint8_t)((x & 0x7f) | (x > 0x7f ? 0x80 : 0));
        x >>= 7;
    } while (x != 0);
    return p;
}

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
            *out = put_varint(*out, v - prev);
        prev = v;
        v = 0;
        k++;
    }
    return k;
}

size_t result_item_from_text(const char *text, size_t len, uint8_t *out)
{
    uint8_t *p = out;
    long k = factor_list(text, len, NULL);
    if (k >= 0) {
        p = put_varint(p, (uint64_t)k << 1);
        factor_list(text, len, &p);
    } else {
        p = put_varint(p, (uint64_t)len << 1 | 1);
        memcpy(p, text, len);
        p += len;
    }
    return (size_t)(p - out);
}

static unsigned decimal_digits(uint64_t v)
{
    unsigned n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

static int check_factors(struct qreader *in, uint64_t k)
{
    /* Each factor takes a byte at least, and renders to two at least. */
    if (k > qreader_remaining(in) || k > QRESULT_MAX_TEXT / 2)
        return -1;
    uint64_t f = 0;
    size_t rendered = 0;
    for (uint64_t j = 0; j < k; j++) {
        uint64_t d = qreader_varint(in);
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
    uint64_t tag = qreader_varint(in);
    if (in->failed)
        return -1;
    int rc = tag & 1 ? check_text(in, tag >> 1) : check_factors(in, tag >> 1);
    if (rc != 0)
        qreader_fail(in);
    return rc;
}

static char *put_decimal(char *out, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        *out++ = tmp[--n];
    return out;
}

size_t result_item_render(const uint8_t *p, size_t avail, char *out, size_t *size)
{
    struct qreader in;
    qreader_init(&in, p, avail);
    uint64_t tag = qreader_varint(&in);
    char *end = out;
    if (tag & 1) {
        size_t len = (size_t)(tag >> 1);
        if (len <= QRESULT_MAX_TEXT && len <= qreader_remaining(&in)) {
            memcpy(out, p + in.pos, len);
            in.pos += len;
            end += len;
        }
    } else {
        uint64_t f = 0;
        for (uint64_t j = 0; j < tag >> 1 && !in.failed; j++) {
            f += qreader_varint(&in);
            /* Checked items fit; were one not, still at most a whole text. */
            if ((size_t)(end - out) + (j > 0) + decimal_digits(f) > QRESULT_MAX_TEXT)
                break;
            if (j > 0)
                *end++ = ' ';
            end = put_decimal(end, f);
        }
    }
    *end = '\0';
    *size = in.pos;
    return (size_t)(end - out);
}

size_t result_item_size(const uint8_t *p, size_t avail)
{
    struct qreader in;
    qreader_init(&in, p, avail);
    uint64_t tag = qreader_varint(&in);
    if (tag & 1) {
        if ((tag >> 1) > qreader_remaining(&in))
            return 0;
        in.pos += (size_t)(tag >> 1);
    } else {
        for (uint64_t j = 0; j < tag >> 1 && !in.failed; j++)
            qreader_varint(&in);
    }
    return in.failed ? 0 : in.pos;
}

bool result_item_unfactored(const uint8_t *p, size_t avail)
{
    struct qreader in;
    qreader_init(&in, p, avail);
    uint64_t tag = qreader_varint(&in);
    size_t len = (size_t)(tag >> 1);
    /* "unfactored:" holds the one letter a result may hold. */
    return (tag & 1) && len <= qreader_remaining(&in) && memchr(p + in.pos, 'u', len) != NULL;
}
