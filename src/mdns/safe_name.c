/* safe_name.c - see safe_name.h. */
#include "safe_name.h"

#include <stdint.h>
#include <string.h>

/* Length of the valid, printable UTF-8 character at s (n bytes left), or 0.
 * Overlong forms, surrogates, code points past U+10FFFF and C1 controls
 * (U+0080..U+009F, which some terminals treat as escapes) are refused. */
static size_t utf8_char(const uint8_t *s, size_t n)
{
    if (s[0] >= 0x20 && s[0] < 0x7f)
        return 1;
    size_t len = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    if (len == 0 || len > n || (s[0] >= 0xf0 && len != 4))
        return 0;
    uint32_t cp = s[0] & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
        (cp >= 0x80 && cp <= 0x9f))
        return 0;
    return len;
}

size_t safe_name(const char *in, size_t len, char *out, size_t outsz)
{
    const uint8_t *s = (const uint8_t *)in;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_char(s + i, len - i);
        const char *src = n > 0 ? in + i : "?";
        size_t w = n > 0 ? n : 1;
        if (o + w >= outsz)
            break;
        memcpy(out + o, src, w);
        o += w;
        i += w;
    }
    out[o] = '\0';
    return o;
}
