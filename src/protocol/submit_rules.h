/* submit_rules.h - the one definition of what a submit may ask and what it
 * gets when it does not say: `mesh submit` (src/cmd/submit.c), the
 * dashboard's form (ui/form.c) and the node's control API (src/api.c) all
 * read it, so a default or a limit cannot differ between them. The values
 * the replicated queue itself enforces come from batch.h; this header adds
 * the defaults of each shape and one wording per refusal.
 *
 * Shapes and their defaults (doc/DESIGN.md, "Dashboard and CLI"):
 *   classic     no shape given: 999 odd numbers from 999999999999, chunks of 43
 *   range       start 999999999999, count 999, step 1, adaptive chunks
 *   semiprimes  64 bits, count 100, a fresh random seed (the node draws it)
 *   list        the numbers given (a file), adaptive chunks
 * Any shape may carry its own budget per number (`--number-timeout`, the
 * request's "number_timeout_ms"): absent, each node's --number-timeout
 * holds; 0 ("none") is no limit; else 1..SUBMIT_MAX_NUMBER_TIMEOUT_MS ms.
 * Header only: the dashboard library includes it without linking the node. */
#ifndef MESH_SUBMIT_RULES_H
#define MESH_SUBMIT_RULES_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "batch.h"

#define SUBMIT_CLASSIC_START BATCH_CLASSIC_START
#define SUBMIT_RANGE_START BATCH_CLASSIC_START
enum {
    SUBMIT_CLASSIC_COUNT = BATCH_CLASSIC_COUNT,
    SUBMIT_CLASSIC_STEP = BATCH_CLASSIC_STEP,
    SUBMIT_CLASSIC_CHUNK = BATCH_CLASSIC_CHUNK,
    SUBMIT_RANGE_COUNT = 999,
    SUBMIT_RANGE_STEP = 1,
    SUBMIT_SEMIPRIME_BITS = 64,
    SUBMIT_SEMIPRIME_COUNT = 100,
    SUBMIT_MIN_BITS = BATCH_MIN_SEMIPRIME_BITS,
    SUBMIT_MAX_BITS = BATCH_MAX_SEMIPRIME_BITS,
    SUBMIT_MAX_START_DIGITS = MESH_MAX_DIGITS,
    SUBMIT_NAME_MAX = 63,          /* bytes of a batch's label */
};
#define SUBMIT_MAX_COUNT ((uint64_t)BATCH_MAX_COUNT)
/* Steps and seeds travel as JSON integers: signed 64-bit. */
#define SUBMIT_MAX_STEP ((uint64_t)INT64_MAX)
#define SUBMIT_MAX_SEED ((uint64_t)INT64_MAX)
/* A chunk is a job's numbers; 0 means adaptive (the scheduler decides). */
#define SUBMIT_MAX_CHUNK ((uint64_t)UINT32_MAX)

/* A batch's budget per number, in ms (batch.h keeps it). */
#define SUBMIT_MAX_NUMBER_TIMEOUT_MS BATCH_MAX_BUDGET_MS

/* "count must be a whole number from 1 to 10000000": the one wording of
 * a value out of its range, for the CLI, the form and the node. */
static inline int submit_refuse(const char *what, uint64_t lo, uint64_t hi, char *err,
                                size_t errlen)
{
    snprintf(err, errlen, "%s must be a whole number from %" PRIu64 " to %" PRIu64, what, lo,
             hi);
    return -1;
}

static inline int submit_check(const char *what, uint64_t v, uint64_t lo, uint64_t hi,
                               char *err, size_t errlen)
{
    return v >= lo && v <= hi ? 0 : submit_refuse(what, lo, hi, err, errlen);
}

static inline int submit_check_count(uint64_t count, char *err, size_t errlen)
{
    return submit_check("count", count, 1, SUBMIT_MAX_COUNT, err, errlen);
}

static inline int submit_check_bits(uint64_t bits, char *err, size_t errlen)
{
    return submit_check("bits", bits, SUBMIT_MIN_BITS, SUBMIT_MAX_BITS, err, errlen);
}

static inline int submit_check_step(uint64_t step, char *err, size_t errlen)
{
    return submit_check("step", step, 1, SUBMIT_MAX_STEP, err, errlen);
}

static inline int submit_check_seed(uint64_t seed, char *err, size_t errlen)
{
    return submit_check("seed", seed, 0, SUBMIT_MAX_SEED, err, errlen);
}

static inline int submit_check_chunk(uint64_t chunk, char *err, size_t errlen)
{
    return submit_check("chunk", chunk, 0, SUBMIT_MAX_CHUNK, err, errlen);
}

/* The one wording of a budget that is not one, for the CLI and the node. */
static inline int submit_refuse_number_timeout(const char *given, char *err, size_t errlen)
{
    snprintf(err, errlen,
             "number timeout must be a duration like 500ms, 5s or 10m (at most 365d), "
             "or none, not '%.40s'", given);
    return -1;
}

/* ms as the request carries it (0: no limit) to the spec's budget. */
static inline int submit_number_timeout_budget(uint64_t ms, uint64_t *budget_ms, char *err,
                                               size_t errlen)
{
    if (ms > SUBMIT_MAX_NUMBER_TIMEOUT_MS) {
        char given[24];
        snprintf(given, sizeof given, "%" PRIu64 "ms", ms);
        return submit_refuse_number_timeout(given, err, errlen);
    }
    *budget_ms = ms == 0 ? BATCH_BUDGET_NONE : ms;
    return 0;
}

#endif
