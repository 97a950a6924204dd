/* fuzz_list.c - batch_list_parse on arbitrary text (user files, stdin).
 * Accepted lists must validate, survive an encode/decode round trip and
 * expand to normalised numbers; rejected ones must leave nothing behind. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "queue_codec.h"

static void check_roundtrip(const struct batch_spec *s)
{
    struct qbuf b;
    qbuf_init(&b);
    if (batch_spec_encode(s, &b) != 0)
        abort();
    struct qreader r;
    qreader_init(&r, b.data, b.len);
    struct batch_spec d;
    if (batch_spec_decode(&r, &d) != 0 || !qreader_done(&r) || d.count != s->count ||
        d.list_len != s->list_len || memcmp(d.list, s->list, s->list_len) != 0)
        abort();
    batch_spec_free(&d);
    qbuf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct batch_spec s;
    char err[256];
    if (batch_list_parse(&s, (const char *)data, size, err, sizeof err) != 0) {
        if (s.list != NULL || s.offsets != NULL || s.count != 0 || strncmp(err, "", 1) == 0)
            abort();
        return 0;
    }
    if (batch_spec_validate(&s, err, sizeof err) != 0 || s.count == 0 || s.count > size)
        abort();
    char num[MESH_MAX_DIGITS + 2];
    for (uint64_t i = 0; i < s.count; i++) {
        if (batch_number(&s, i, num, sizeof num) != 0 || !numtext_is_normal(num, strlen(num)))
            abort();
    }
    check_roundtrip(&s);
    batch_spec_free(&s);
    return 0;
}
