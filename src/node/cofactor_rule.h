/* cofactor_rule.h - a composite cofactor of a spread batch's N goes to the
 * whole mesh again (doc/DESIGN.md, "A composite cofactor goes to the whole
 * mesh"): when it is spread, how its spread batch is named, and how N's
 * line is made from the factor found and the cofactor's factors.
 *
 * Pure functions of their arguments (no node, no clock), so every leader
 * decides the same and they are tested on their own
 * (tests/node/test_cofactor_rule.c). */
#ifndef MESH_NODE_COFACTOR_RULE_H
#define MESH_NODE_COFACTOR_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gmp.h>

enum {
    /* Below this a cofactor goes with N to one worker: it splits one in
     * well under a second (spread_rule.h's SPREAD_ROUTE_MIN_BITS, why). */
    COFACTOR_SPREAD_MIN_BITS = 180,
};

/* Is the split n = factor * (n / factor) one whose cofactor n / factor is
 * spread again: factor a probable prime (BPSW), the cofactor composite,
 * not a power, of COFACTOR_SPREAD_MIN_BITS..BATCH_SPREAD_MAX_BITS bits?
 * factor must be a proper divisor of n. */
bool cofactor_spread_wanted(const mpz_t n, const mpz_t factor);

/* The cofactor's spread batch of spread batch B is named "cofactor:B";
 * its write token is derived from B and the factor found, so two leaders
 * that found the same factor make one batch (the queue takes a token's
 * resend as the batch already made); two that found different factors
 * make two, and the first made is the one (spread_cofactor.c). */
enum { COFACTOR_LINK_MAX = 64 };
void cofactor_link_name(char out[COFACTOR_LINK_MAX], uint64_t batch);
/* 0 and *batch when name is exactly such a name (canonical decimal, not
 * 0), else -1. */
int cofactor_link_parse(const char *name, uint64_t *batch);
uint64_t cofactor_link_token(uint64_t batch, const mpz_t factor);

/* N's line from the factor found and the cofactor spread batch's result
 * text (its N's factors, ascending, space-separated): every factor a
 * probable prime (BPSW), their product with factor exactly n. Writes the
 * factors ascending, space-separated, into a malloc'd *out; false (and
 * *out NULL) when the text is not such factors of n / factor or out of
 * memory. */
bool cofactor_combine(const mpz_t n, const mpz_t factor, const char *text, char **out);

#endif
