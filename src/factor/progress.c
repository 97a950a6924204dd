/* progress.c - see progress.h. */
#include "progress.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "factor.h"

static const char *const phase_names[FACTOR_PHASE_COUNT] = {
    [FACTOR_PHASE_ECM] = "ecm",       [FACTOR_PHASE_SIEVE] = "sieving",
    [FACTOR_PHASE_MATRIX] = "matrix", [FACTOR_PHASE_SQRT] = "sqrt",
    [FACTOR_PHASE_PARI] = "pari",
};

const char *factor_phase_name(enum factor_phase phase)
{
    return (unsigned)phase < FACTOR_PHASE_COUNT ? phase_names[phase] : NULL;
}

int factor_phase_parse(const char *name, size_t len)
{
    for (int i = 0; i < FACTOR_PHASE_COUNT; i++)
        if (strlen(phase_names[i]) == len && memcmp(phase_names[i], name, len) == 0)
            return i;
    return -1;
}

size_t factor_progress_format(char buf[FACTOR_PROGRESS_LINE_MAX],
                              const struct factor_progress_record *r)
{
    char eta[24] = "-";
    if (r->eta_known)
        snprintf(eta, sizeof eta, "%" PRIu64, r->eta_s);
    int n = snprintf(buf, FACTOR_PROGRESS_LINE_MAX,
                     "%" PRIu64 " progress %s %" PRIu32 " %" PRIu64 " %" PRIu64 " %" PRIu64
                     " %" PRIu64 " %s\n",
                     r->id, factor_phase_name(r->p.phase), r->p.bits, r->p.b1, r->p.found,
                     r->p.needed, r->rate_milli, eta);
    return n < 0 ? 0 : (size_t)n;
}

/* The next blank-free word of line[*at..len); its length, 0 when none. A
 * word is followed by exactly one blank, or ends the line. */
static size_t next_word(const char *line, size_t len, size_t *at, const char **word)
{
    size_t start = *at, end = start;
    while (end < len && line[end] != ' ')
        end++;
    *word = line + start;
    *at = end < len ? end + 1 : end;
    if (end < len && end + 1 == len)
        return 0; /* a trailing blank */
    return end - start;
}

/* Canonical decimal: no sign, no leading zero (but "0"), within u64. */
static int word_u64(const char *s, size_t len, uint64_t *out)
{
    if (len == 0 || s[0] == '+' || (len > 1 && s[0] == '0'))
        return -1;
    return factor_parse_u64(s, len, out) ? 0 : -1;
}

bool factor_progress_is_record(const char *line, size_t len)
{
    const char *space = memchr(line, ' ', len);
    static const char word[] = "progress";
    size_t wl = sizeof word - 1;
    if (space == NULL)
        return false;
    size_t rest = len - (size_t)(space + 1 - line);
    return rest >= wl && memcmp(space + 1, word, wl) == 0 &&
           (rest == wl || space[1 + wl] == ' ');
}

int factor_progress_parse(const char *line, size_t len, struct factor_progress_record *r)
{
    const char *w[9];
    size_t wl[9], at = 0;
    for (int i = 0; i < 9; i++) {
        wl[i] = next_word(line, len, &at, &w[i]);
        if (wl[i] == 0)
            return -1;
    }
    if (at != len)
        return -1;
    uint64_t bits;
    int phase = factor_phase_parse(w[2], wl[2]);
    if (word_u64(w[0], wl[0], &r->id) != 0 || wl[1] != 8 || memcmp(w[1], "progress", 8) != 0 ||
        phase < 0 || word_u64(w[3], wl[3], &bits) != 0 || bits == 0 || bits > 1024 ||
        word_u64(w[4], wl[4], &r->p.b1) != 0 || word_u64(w[5], wl[5], &r->p.found) != 0 ||
        word_u64(w[6], wl[6], &r->p.needed) != 0 || word_u64(w[7], wl[7], &r->rate_milli) != 0)
        return -1;
    r->p.phase = (enum factor_phase)phase;
    r->p.bits = (uint32_t)bits;
    r->eta_known = !(wl[8] == 1 && w[8][0] == '-');
    r->eta_s = 0;
    if (r->eta_known && word_u64(w[8], wl[8], &r->eta_s) != 0)
        return -1;
    return 0;
}
