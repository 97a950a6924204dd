/* spread_rule.h - which numbers of an ordinary batch become spread jobs
 * of their own (doc/DESIGN.md, "Hard numbers of ordinary batches go to
 * the whole mesh"), and how such a job names the number it stands for.
 *
 * Pure functions of their arguments (no node, no clock), so the rule is
 * the same on every leader and is tested on its own
 * (tests/node/test_spread_rule.c). */
#ifndef MESH_NODE_SPREAD_RULE_H
#define MESH_NODE_SPREAD_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    /* Past this size one worker carries seconds of SIQS that the mesh's
     * workers share at a cost of a context each and one combine. */
    SPREAD_ROUTE_MIN_BITS = 180,
    /* Numbers with a prime factor below this are not sieved: the worker's
     * plain path takes the small factor off first. */
    SPREAD_ROUTE_TRIAL_LIMIT = 1000,
    /* Only batches this long are scanned whole unless they are lists (a
     * list's lengths are read without making the numbers). */
    SPREAD_ROUTE_SCAN_MAX = 65536,
    /* A budget per number under this (the batch's --number-timeout, else
     * the node's) keeps hard numbers on one worker each, where it holds. */
    SPREAD_ROUTE_MIN_BUDGET_MS = 10000,
};

/* Is the decimal number `num` one to sieve across the mesh: of
 * SPREAD_ROUTE_MIN_BITS..BATCH_SPREAD_MAX_BITS bits, odd, no prime factor
 * below SPREAD_ROUTE_TRIAL_LIMIT, not a probable prime, not a power? */
bool spread_rule_hard(const char *num);
/* A decimal of this many digits may be hard (the bits bound, read off the
 * length before the number is parsed). */
bool spread_rule_long_enough(size_t digits);
/* Are a batch's `hard` numbers routed, on a mesh of `workers` workers?
 * Only while they are fewer than the workers: otherwise each worker
 * already has one of them and spreading adds only its costs. */
bool spread_rule_route(uint64_t hard, unsigned workers);
/* Does a budget per number of budget_ms (0: none) let hard numbers go to
 * the mesh? A spread batch is bounded per range job, not as a whole, so a
 * tight budget (a user bounding every number's time) would not hold for a
 * routed number; and a number past 180 bits needs seconds on the mesh
 * anyway (each node builds its sieve first), so a budget of a few seconds
 * ends the same (unfactored) on one worker at no cost to the others. */
bool spread_rule_budget_allows(uint64_t budget_ms);

/* A routed number's spread batch is named "route:P:I" (batch P's index I)
 * and carries a write token derived from P and I, so two leaders that both
 * route it make one batch (the queue takes a token's resend as the batch
 * already made). */
enum { SPREAD_LINK_MAX = 64 };
void spread_link_name(char out[SPREAD_LINK_MAX], uint64_t parent, uint64_t index);
/* 0 and *parent, *index when name is exactly such a name, else -1. */
int spread_link_parse(const char *name, uint64_t *parent, uint64_t *index);
uint64_t spread_link_token(uint64_t parent, uint64_t index);

#endif
