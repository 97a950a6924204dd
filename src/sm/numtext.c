/* numtext.c - decimal number text validation.
 *
 * Pure string work, no GMP: the 1024-bit limit is checked by comparing the
 * digits with the decimal text of 2^1024 - 1 (equal lengths compare like
 * numbers), which is exact and cheap. */
#include "errbuf.h"
#include "numtext.h"

#include <stdio.h>
#include <string.h>

/* 2^1024 - 1, the largest accepted value: 309 digits. */
static const char max_value[] =
    "1797693134862315907729305190789024733617976978942306572734300811577326758"
    "0550096313270847732240753602112011387987139335765878976881441662249284743"
    "0639474124377767893424865485276302219601246094119453082952085005768838150"
    "6823424628814739131105408272371633505106845862982399472459384797163048353"
    "56329624224137215";

_Static_assert(sizeof max_value - 1 == MESH_MAX_DIGITS, "2^1024-1 has 309 digits");

static bool all_digits(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return len > 0;
}

/* digits has no leading zeros (or is "0"): is it <= 2^1024 - 1? */
static bool fits_1024_bits(const char *digits, size_t len)
{
    if (len != MESH_MAX_DIGITS)
        return len < MESH_MAX_DIGITS;
    return memcmp(digits, max_value, len) <= 0;
}

bool numtext_is_normal(const char *s, size_t len)
{
    if (!all_digits(s, len))
        return false;
    if (s[0] == '0' && len > 1)
        return false;
    return fits_1024_bits(s, len);
}

int numtext_normalize(const char *tok, size_t len, char *out, size_t outlen,
                      char *err, size_t errlen)
{
    if (len == 0) {
        set_err(err, errlen, "empty");
        return -1;
    }
    if (tok[0] == '+') {
        tok++;
        len--;
    }
    if (!all_digits(tok, len)) {
        set_err(err, errlen, "not a valid non-negative integer");
        return -1;
    }
    /* Keep the last zero so "000" becomes "0", not "". */
    while (len > 1 && tok[0] == '0') {
        tok++;
        len--;
    }
    if (!fits_1024_bits(tok, len)) {
        set_err(err, errlen, "number exceeds 1024 bits");
        return -1;
    }
    if (outlen < len + 1) {
        set_err(err, errlen, "output buffer too small");
        return -1;
    }
    memcpy(out, tok, len);
    out[len] = '\0';
    return 0;
}
