/* txt.c - bounds-checked parsing of the _mesh._tcp TXT record. */
#include "txt.h"

#include <string.h>

static int hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool txt_normalize_hex(const char *in, size_t in_len, size_t max_chars,
                       char *out)
{
    if (in_len < 2 || in_len > max_chars || in_len % 2 != 0)
        return false;
    for (size_t i = 0; i < in_len; i++) {
        int d = hex_digit((unsigned char)in[i]);
        if (d < 0)
            return false;
        out[i] = "0123456789abcdef"[d];
    }
    out[in_len] = '\0';
    return true;
}

bool txt_hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t n)
{
    if (hex_len != 2 * n)
        return false;
    for (size_t i = 0; i < n; i++) {
        int hi = hex_digit((unsigned char)hex[2 * i]);
        int lo = hex_digit((unsigned char)hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

/* Decimal, no sign, no leading junk, at most 9 digits (fits unsigned). */
static bool parse_version(const char *s, size_t len, unsigned *out)
{
    if (len == 0 || len > 9)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

static bool key_is(const uint8_t *key, size_t key_len, const char *name)
{
    size_t n = strlen(name);
    if (key_len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = key[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (c != (unsigned char)name[i])
            return false;
    }
    return true;
}

void txt_record_init(struct txt_record *r)
{
    memset(r, 0, sizeof *r);
}

/* One setter per key; each marks the key seen even if the value is bad,
 * so a later duplicate cannot replace it (RFC 6763: first one counts). */
static void set_version(struct txt_record *r, const char *v, size_t n)
{
    r->have_version = true;
    if (!parse_version(v, n, &r->version))
        r->bad_value = true;
}

static void set_id(struct txt_record *r, const char *v, size_t n)
{
    r->have_id = true;
    if (!txt_normalize_hex(v, n, TXT_ID_HEX_MAX, r->id_hex))
        r->bad_value = true;
}

static void set_pk(struct txt_record *r, const char *v, size_t n)
{
    r->have_pk = true;
    if (!txt_hex_decode(v, n, r->pk, TXT_PK_BYTES))
        r->bad_value = true;
}

static void set_tag(struct txt_record *r, const char *v, size_t n)
{
    r->have_tag = true;
    if (!txt_normalize_hex(v, n, TXT_TAG_HEX_MAX, r->tag_hex))
        r->bad_value = true;
}

void txt_record_add_item(struct txt_record *r, const uint8_t *item, size_t len)
{
    if (item == NULL || len == 0 || len > TXT_ITEM_MAX)
        return;
    const uint8_t *eq = memchr(item, '=', len);
    if (eq == NULL || eq == item)
        return;     /* boolean attribute or empty key: not ours */
    size_t key_len = (size_t)(eq - item);
    const char *val = (const char *)eq + 1;
    size_t val_len = len - key_len - 1;

    if (key_is(item, key_len, "v") && !r->have_version)
        set_version(r, val, val_len);
    else if (key_is(item, key_len, "id") && !r->have_id)
        set_id(r, val, val_len);
    else if (key_is(item, key_len, "pk") && !r->have_pk)
        set_pk(r, val, val_len);
    else if (key_is(item, key_len, "tag") && !r->have_tag)
        set_tag(r, val, val_len);
}

enum txt_result txt_record_finish(const struct txt_record *r)
{
    if (!r->have_version || !r->have_id || !r->have_pk || !r->have_tag)
        return TXT_MISSING;
    return r->bad_value ? TXT_BAD_VALUE : TXT_OK;
}

enum txt_result txt_parse_wire(struct txt_record *r, const uint8_t *buf,
                               size_t len)
{
    txt_record_init(r);
    size_t pos = 0;
    while (pos < len) {
        size_t item_len = buf[pos++];
        if (item_len > len - pos)
            return TXT_BAD_WIRE;
        txt_record_add_item(r, buf + pos, item_len);
        pos += item_len;
    }
    return txt_record_finish(r);
}

const char *txt_result_str(enum txt_result r)
{
    switch (r) {
    case TXT_OK:
        return "ok";
    case TXT_MISSING:
        return "missing key";
    case TXT_BAD_VALUE:
        return "malformed value";
    case TXT_BAD_WIRE:
        return "truncated record";
    }
    return "unknown";
}
