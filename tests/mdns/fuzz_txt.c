/* fuzz_txt.c - libFuzzer target for the _mesh._tcp TXT parser.
 * Input: DNS TXT wire format. Checks invariants of whatever it accepts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "txt.h"

static void check_hex(const char *s, size_t max)
{
    size_t n = strnlen(s, max + 1);
    if (n < 2 || n > max || n % 2 != 0)
        abort();
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct txt_record rec;
    if (txt_parse_wire(&rec, data, size) == TXT_OK) {
        check_hex(rec.id_hex, TXT_ID_HEX_MAX);
        check_hex(rec.tag_hex, TXT_TAG_HEX_MAX);
    }
    /* The same bytes as one raw item must never crash either. */
    txt_record_init(&rec);
    txt_record_add_item(&rec, data, size);
    (void)txt_record_finish(&rec);
    return 0;
}
