/* format.c - the text form of a factorisation, shared by `mesh factor` and
 * the node's `mesh results`, so both print exactly what coreutils would. */
#include <stdlib.h>
#include <string.h>

#include "factor.h"

static size_t formatted_length(const char *n, const struct factor_result *res)
{
    size_t len = strlen(n) + 2; /* "N:" + NUL */
    for (size_t i = 0; i < res->count; i++)
        len += 1 + strlen(res->factors[i]);
    if (res->unfactored != NULL)
        len += strlen(" unfactored:") + strlen(res->unfactored);
    return len;
}

static char *append(char *at, const char *s)
{
    size_t len = strlen(s);
    memcpy(at, s, len);
    return at + len;
}

char *factor_format_line(const char *n, const struct factor_result *res)
{
    if (res->error[0] != '\0')
        return NULL;
    /* Normalise like coreutils: "+007" prints as "7". */
    if (n[0] == '+')
        n++;
    while (n[0] == '0' && n[1] != '\0')
        n++;
    char *line = malloc(formatted_length(n, res));
    if (line == NULL)
        return NULL;
    char *at = append(line, n);
    *at++ = ':';
    for (size_t i = 0; i < res->count; i++) {
        *at++ = ' ';
        at = append(at, res->factors[i]);
    }
    if (res->unfactored != NULL) {
        at = append(at, " unfactored:");
        at = append(at, res->unfactored);
    }
    *at = '\0';
    return line;
}
