/* units.c - see units.h. Strict on purpose: "7 d", "7days" and "1.5G" are
 * refused, so a typo never silently means something else. */
#include "units.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct unit {
    const char *name;
    uint64_t scale;
};

static int parse_scaled(const char *s, const struct unit *units, size_t n_units,
                        uint64_t bare_scale, uint64_t *out)
{
    if (s == NULL || s[0] < '0' || s[0] > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0)
        return -1;
    uint64_t scale = 0;
    if (*end == '\0') {
        scale = bare_scale;
    } else {
        for (size_t i = 0; i < n_units; i++)
            if (strcmp(end, units[i].name) == 0)
                scale = units[i].scale;
    }
    if (scale == 0 || (v != 0 && v > UINT64_MAX / scale))
        return -1;
    *out = v * scale;
    return 0;
}

int units_parse_duration_ms(const char *s, uint64_t *ms)
{
    static const struct unit units[] = {
        {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000},
    };
    return parse_scaled(s, units, sizeof units / sizeof units[0], 1000, ms);
}

int units_parse_timeout_ms(const char *s, uint64_t *ms)
{
    if (s != NULL && strcmp(s, "none") == 0) {
        *ms = 0;
        return 0;
    }
    if (units_parse_duration_ms(s, ms) == 0)
        return 0;
    /* seconds with a fraction: "0.3", "1.5" (digits, one point, digits) */
    if (s == NULL || s[0] < '0' || s[0] > '9')
        return -1;
    char *end;
    errno = 0;
    double secs = strtod(s, &end);
    if (errno != 0 || *end != '\0' || strspn(s, "0123456789.") != strlen(s) ||
        !(secs >= 0) || secs > 86400.0 * 365)
        return -1;
    *ms = (uint64_t)(secs * 1000.0 + 0.5);
    if (*ms == 0 && secs > 0)
        *ms = 1;  /* a budget asked for is never "none" */
    return 0;
}

int units_parse_size(const char *s, uint64_t *bytes)
{
    static const struct unit units[] = {
        {"B", 1},
        {"K", 1ull << 10}, {"KB", 1ull << 10}, {"KiB", 1ull << 10},
        {"M", 1ull << 20}, {"MB", 1ull << 20}, {"MiB", 1ull << 20},
        {"G", 1ull << 30}, {"GB", 1ull << 30}, {"GiB", 1ull << 30},
        {"T", 1ull << 40}, {"TB", 1ull << 40}, {"TiB", 1ull << 40},
    };
    return parse_scaled(s, units, sizeof units / sizeof units[0], 1, bytes);
}

void units_format_duration(uint64_t ms, char *buf, size_t len)
{
    static const struct unit units[] = {
        {"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (ms != 0 && ms % units[i].scale == 0) {
            snprintf(buf, len, "%llu%s", (unsigned long long)(ms / units[i].scale),
                     units[i].name);
            return;
        }
    snprintf(buf, len, "%llums", (unsigned long long)ms);
}

void units_format_size(uint64_t bytes, char *buf, size_t len)
{
    static const char *names[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = (double)bytes;
    size_t u = 0;
    while (v >= 1024 && u + 1 < sizeof names / sizeof names[0]) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%llu B", (unsigned long long)bytes);
    else
        snprintf(buf, len, v < 10 ? "%.1f %s" : "%.0f %s", v, names[u]);
}
