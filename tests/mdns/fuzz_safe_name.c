/* fuzz_safe_name.c - libFuzzer target for safe_name(): any bytes from the
 * network give NUL-terminated output within the buffer, with no control
 * character and only valid UTF-8, and never longer than the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "safe_name.h"

static void check_utf8_safe(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0x20 || s[i] == 0x7f)
            abort();
        if (s[i] == 0xc2 && i + 1 < n && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f)
            abort();        /* a C1 control */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[256];
    size_t len = safe_name((const char *)data, size, out, sizeof out);
    if (len >= sizeof out || out[len] != '\0' || strlen(out) != len)
        abort();
    if (size < sizeof out && len != size)
        abort();            /* one output byte per input byte when it fits */
    check_utf8_safe((const uint8_t *)out, len);
    char tiny[4];
    if (safe_name((const char *)data, size, tiny, sizeof tiny) >= sizeof tiny)
        abort();
    return 0;
}
