/* view_text.c - see view_text.h. */
#include "view_text.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static bool bursty(const char *kind)
{
    static const char *const kinds[] = {"requeue", "warning", "error", "refused"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kind, kinds[i]) == 0)
            return true;
    return false;
}

/* Equal once every run of digits counts as one digit "0". */
static bool same_but_numbers(const char *a, const char *b)
{
    while (*a != '\0' && *b != '\0') {
        bool da = isdigit((unsigned char)*a), db = isdigit((unsigned char)*b);
        if (da != db || (!da && *a != *b))
            return false;
        if (da) {
            while (isdigit((unsigned char)*a))
                a++;
            while (isdigit((unsigned char)*b))
                b++;
        } else {
            a++;
            b++;
        }
    }
    return *a == *b;
}

bool view_events_alike(const char *kind_a, const char *text_a, const char *kind_b,
                       const char *text_b)
{
    if (strcmp(kind_a, kind_b) != 0)
        return false;
    return strcmp(text_a, text_b) == 0 || (bursty(kind_a) && same_but_numbers(text_a, text_b));
}

enum { ID_HEX = 16 };


void view_name_ids(char *text, size_t size, const char *(*name_of)(void *ud, const char *id),
                   void *ud)
{
    for (char *p = text; *p != '\0'; p++) {
        if ((p > text && isalnum((unsigned char)p[-1])) ||
            strspn(p, "0123456789abcdef") != ID_HEX || isalnum((unsigned char)p[ID_HEX]))
            continue;
        char id[ID_HEX + 1];
        memcpy(id, p, ID_HEX);
        id[ID_HEX] = '\0';
        const char *name = name_of(ud, id);
        size_t nlen = name != NULL ? strlen(name) : 0, len = strlen(text);
        if (nlen == 0 || len - ID_HEX + nlen + 1 > size)
            continue;
        memmove(p + nlen, p + ID_HEX, len - (size_t)(p - text) - ID_HEX + 1);
        memcpy(p, name, nlen);
        p += nlen - 1;
    }
}
