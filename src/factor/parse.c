/* parse.c - validation of decimal number text entering the kernel. */
#include <stdlib.h>
#include <string.h>

#include "factor.h"

enum factor_parse_status factor_parse(const char *s, size_t len, mpz_t out)
{
    if (len > 0 && s[0] == '+') {
        s++;
        len--;
    }
    if (len == 0)
        return FACTOR_PARSE_INVALID;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return FACTOR_PARSE_INVALID;
    while (len > 1 && s[0] == '0') {
        s++;
        len--;
    }
    /* More digits than 2^1024 - 1 has: too big, without converting. */
    if (len > FACTOR_MAX_DIGITS)
        return FACTOR_PARSE_TOO_BIG;
    char buf[FACTOR_MAX_DIGITS + 1];
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (mpz_set_str(out, buf, 10) != 0)
        return FACTOR_PARSE_INVALID;
    if (mpz_sizeinbase(out, 2) > FACTOR_MAX_BITS)
        return FACTOR_PARSE_TOO_BIG;
    return FACTOR_PARSE_OK;
}

const char *factor_parse_message(enum factor_parse_status status)
{
    switch (status) {
    case FACTOR_PARSE_OK:
        return "ok";
    case FACTOR_PARSE_TOO_BIG:
        return "number exceeds 1024 bits";
    case FACTOR_PARSE_INVALID:
        break;
    }
    return "not a valid positive integer";
}
