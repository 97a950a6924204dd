/* result_text.c - the grammar of a result text (queue.h, struct qresult).
 *
 * COMPLETE entries come from the leader, which checks each result's
 * arithmetic before proposing it (src/factor/verify.h). The replicas check
 * only the form, which costs one pass over the bytes: a text that is not
 * "f1 f2 ... [unfactored:C]" (or a spread batch's "rels:..." or "ecm:...") is skipped
 * by every replica alike, so a
 * leader running older code cannot get one into `mesh results`. */
#include <string.h>

#include "queue.h"

#define UNFACTORED_TAG "unfactored:"

/* A positive decimal without a leading zero. */
static bool is_positive_decimal(const char *s, size_t len)
{
    if (len == 0 || s[0] < '1' || s[0] > '9')
        return false;
    for (size_t i = 1; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* A spread batch's range result (src/factor/siqs_range.h): "rels:" and
 * base-32 letters. Only the form: whoever reads the relations (the
 * number's coordinator) checks each one against N. */
#define RELATIONS_TAG "rels:"

static bool is_relations(const char *text, size_t len)
{
    const size_t tag = sizeof RELATIONS_TAG - 1;
    if (len <= tag || memcmp(text, RELATIONS_TAG, tag) != 0)
        return false;
    /* Every replica checks each range result (up to 64 KiB) on apply, the
     * leader more than once: one pass without an early exit, which the
     * compiler vectorises (it was ~5% of a spread leader's loop). */
    unsigned bad = 0;
    for (size_t i = tag; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        bad |= (unsigned)(c - '0') > 9u && (unsigned)(c - 'a') > 'v' - 'a';
    }
    return bad == 0;
}

/* A curve job's result (src/factor/ecm_range.h): "ecm:K" or "ecm:K:P",
 * K a canonical decimal (0 too), P a positive one. The leader checks
 * that P divides N; replicas the form. */
#define CURVES_TAG "ecm:"

static bool is_curves(const char *text, size_t len)
{
    const size_t tag = sizeof CURVES_TAG - 1;
    if (len <= tag || memcmp(text, CURVES_TAG, tag) != 0)
        return false;
    const char *k = text + tag, *colon = memchr(k, ':', len - tag);
    size_t klen = colon ? (size_t)(colon - k) : len - tag;
    bool k_ok = (klen == 1 && k[0] == '0') || is_positive_decimal(k, klen);
    return k_ok && (colon == NULL || is_positive_decimal(colon + 1, (size_t)(text + len - colon - 1)));
}

bool qresult_text_well_formed(const char *text, size_t len)
{
    if (is_relations(text, len) || is_curves(text, len))
        return true;
    const size_t tag = sizeof UNFACTORED_TAG - 1;
    size_t at = 0;
    while (at < len) {
        const char *sp = memchr(text + at, ' ', len - at);
        size_t end = sp ? (size_t)(sp - text) : len;
        const char *part = text + at;
        size_t n = end - at;
        bool rest = n > tag && memcmp(part, UNFACTORED_TAG, tag) == 0;
        if (rest && sp != NULL)
            return false; /* the rest comes last */
        if (!is_positive_decimal(rest ? part + tag : part, rest ? n - tag : n))
            return false;
        if (sp != NULL && end + 1 == len)
            return false; /* a trailing space */
        at = sp ? end + 1 : len;
    }
    return true;
}
