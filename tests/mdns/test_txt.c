/* test_txt.c - the TXT record parser accepts what we publish and rejects
 * malformed, truncated and incomplete records. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "txt.h"

static size_t wire(uint8_t *out, const char *const *items)
{
    size_t n = 0;
    for (; *items != NULL; items++) {
        size_t len = strlen(*items);
        out[n++] = (uint8_t)len;
        memcpy(out + n, *items, len);
        n += len;
    }
    return n;
}

#define PK_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

static enum txt_result parse(struct txt_record *r, const char *const *items)
{
    uint8_t buf[2048];
    return txt_parse_wire(r, buf, wire(buf, items));
}

static void test_valid(void)
{
    struct txt_record r;
    const char *items[] = {"v=3", "id=ABCDEF01", "pk=" PK_HEX, "tag=0FF0",
                           "extra=ignored", "flag", NULL};
    CHECK_INT_EQ(parse(&r, items), TXT_OK);
    CHECK_INT_EQ(r.version, 3);
    CHECK_STR_EQ(r.id_hex, "abcdef01");
    CHECK_STR_EQ(r.tag_hex, "0ff0");
    for (int i = 0; i < 32; i++)
        CHECK_INT_EQ(r.pk[i], i);
}

static void test_keys_case_insensitive_first_wins(void)
{
    struct txt_record r;
    const char *items[] = {"V=1", "Id=aa", "id=bb", "PK=" PK_HEX, "TAG=01",
                           "tag=02", NULL};
    CHECK_INT_EQ(parse(&r, items), TXT_OK);
    CHECK_STR_EQ(r.id_hex, "aa");
    CHECK_STR_EQ(r.tag_hex, "01");
}

static void test_rejects(void)
{
    struct txt_record r;
    const char *missing_tag[] = {"v=1", "id=aa", "pk=" PK_HEX, NULL};
    CHECK_INT_EQ(parse(&r, missing_tag), TXT_MISSING);
    const char *short_pk[] = {"v=1", "id=aa", "pk=abcd", "tag=01", NULL};
    CHECK_INT_EQ(parse(&r, short_pk), TXT_BAD_VALUE);
    const char *odd_id[] = {"v=1", "id=abc", "pk=" PK_HEX, "tag=01", NULL};
    CHECK_INT_EQ(parse(&r, odd_id), TXT_BAD_VALUE);
    const char *bad_hex[] = {"v=1", "id=zz", "pk=" PK_HEX, "tag=01", NULL};
    CHECK_INT_EQ(parse(&r, bad_hex), TXT_BAD_VALUE);
    const char *bad_ver[] = {"v=-1", "id=aa", "pk=" PK_HEX, "tag=01", NULL};
    CHECK_INT_EQ(parse(&r, bad_ver), TXT_BAD_VALUE);
    const char *huge_ver[] = {"v=12345678901", "id=aa", "pk=" PK_HEX,
                              "tag=01", NULL};
    CHECK_INT_EQ(parse(&r, huge_ver), TXT_BAD_VALUE);
    /* a bad first value is not rescued by a good duplicate */
    const char *dup[] = {"v=1", "id=x", "id=aa", "pk=" PK_HEX, "tag=01", NULL};
    CHECK_INT_EQ(parse(&r, dup), TXT_BAD_VALUE);
    char long_id[80] = "id=";
    memset(long_id + 3, 'a', 66);
    const char *too_long[] = {"v=1", long_id, "pk=" PK_HEX, "tag=01", NULL};
    CHECK_INT_EQ(parse(&r, too_long), TXT_BAD_VALUE);
}

static void test_truncated_wire(void)
{
    struct txt_record r;
    const uint8_t buf[] = {4, 'v', '=', '1'};
    CHECK_INT_EQ(txt_parse_wire(&r, buf, sizeof buf), TXT_BAD_WIRE);
    CHECK_INT_EQ(txt_parse_wire(&r, buf, 0), TXT_MISSING);
}

int main(void)
{
    test_valid();
    test_keys_case_insensitive_first_wins();
    test_rejects();
    test_truncated_wire();
    return 0;
}
