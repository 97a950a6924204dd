/* batch.h - a batch spec: stored compactly, expanded one number at a time.
 *
 * A batch can hold up to ten million numbers of up to 1024 bits; storing them
 * expanded in every replica would cost gigabytes. So a batch is a recipe (a
 * range, or a seeded generator) and only explicit lists store their numbers.
 * batch_number() turns (spec, index) into the decimal text of one number,
 * identically on every machine. */
#ifndef MESH_BATCH_H
#define MESH_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "ecm_plan.h"
#include "numtext.h"

enum {
    BATCH_MAX_COUNT = 10000000,
    BATCH_MIN_SEMIPRIME_BITS = 16,
    BATCH_MAX_SEMIPRIME_BITS = MESH_MAX_BITS,
};
/* Largest list text batch_list_parse() accepts (and list blob decoded). */
#define BATCH_MAX_LIST_INPUT ((size_t)256 << 20)

enum batch_kind { BATCH_RANGE = 1, BATCH_SEMIPRIMES = 2, BATCH_LIST = 3, BATCH_SPREAD = 4 };

/* BATCH_SPREAD: one hard number sieved by the whole mesh (doc/DESIGN.md,
 * "One hard number, the whole mesh"). start is the number N, step the A
 * indices per job (1..BATCH_SPREAD_MAX_WIDTH), count the jobs plus one.
 * Number #i < count - 1 is the range job "siqs:N:LO:HI" (LO = i * step,
 * src/factor/siqs_range.h), its result the relations found; the last,
 * #count - 1, is N itself, whose result is N's factors: the coordinator
 * commits them, and were every range sieved without a split it would be
 * leased last like any number (one worker factors it alone). */
enum { BATCH_SPREAD_MIN_BITS = 100, BATCH_SPREAD_MAX_BITS = 340, BATCH_SPREAD_MAX_WIDTH = 64 };
/* With ECM (ecm.levels > 0; doc/DESIGN.md, "ECM across the mesh") the
 * numbers are, in order: ecm_plan_jobs curve jobs "ecm:N:L:LO:HI"
 * (src/factor/ecm_range.h; job j is ecm_plan_job's), then the SIQS range
 * jobs (their LO counted from the first of them), then N. Without SIQS
 * ranges (N past BATCH_SPREAD_MAX_BITS: ECM only) N
 * follows the curve jobs. On the wire such a spec is kind
 * BATCH_SPREAD_ECM_WIRE (the plan after the step), so kind 4 keeps its
 * bytes. */
enum { BATCH_SPREAD_ECM_WIRE = 5 };
/* ECM only goes up to 950 bits (286 digits), not MESH_MAX_BITS: a curve
 * job's text ("ecm:" N ":L:LO:HI", LO and HI below 2^20) must fit the
 * MESH_MAX_DIGITS + 2 bytes every reader of batch_number gives it. */
enum { BATCH_SPREAD_ECM_MAX_BITS = 950 };

/* A batch's budget per number (batch_spec.budget_ms): BATCH_BUDGET_DEFAULT
 * leaves it to each node's --number-timeout, BATCH_BUDGET_NONE means no
 * limit, anything else is milliseconds, 1..BATCH_MAX_BUDGET_MS (a year, the
 * node option's limit too). It is part of the batch, so every replica and
 * every leader after a failover give the batch's numbers the same time. */
#define BATCH_BUDGET_DEFAULT ((uint64_t)0)
#define BATCH_BUDGET_NONE UINT64_MAX
#define BATCH_MAX_BUDGET_MS ((uint64_t)86400000 * 365)

struct batch_spec {
    enum batch_kind kind;
    uint64_t count;     /* numbers in the batch, 1..BATCH_MAX_COUNT */
    uint32_t chunk;     /* numbers per job; 0 = adaptive (the scheduler decides) */
    char *start;        /* RANGE: normalised decimal start (malloc'd) */
    uint64_t step;      /* RANGE: >= 1 */
    uint32_t bits;      /* SEMIPRIMES: 16..1024 */
    uint64_t seed;      /* SEMIPRIMES */
    char *list;         /* LIST: normalised decimals packed, each NUL-terminated (malloc'd) */
    uint64_t *offsets;  /* LIST: offsets[i] of number i in list (malloc'd) */
    size_t list_len;    /* LIST: bytes in list, NULs included */
    uint64_t budget_ms; /* per number: BATCH_BUDGET_DEFAULT, _NONE, or ms */
    struct ecm_plan ecm; /* SPREAD: its curve jobs (levels 0: none) */
};

/* Frees the owned buffers and zeroes the spec (safe on a zeroed spec). */
void batch_spec_free(struct batch_spec *s);
/* Deep copy into dst (overwritten, not freed first). 0, or -1 on ENOMEM. */
int batch_spec_copy(struct batch_spec *dst, const struct batch_spec *src);
/* Validates limits (count, step, bits, every value of a range < 2^1024,
 * list consistency, the budget). 0, or -1 and a message in err. */
int batch_spec_validate(const struct batch_spec *s, char *err, size_t errlen);

/* Initialise s (overwritten, not freed first). start is any text that
 * numtext_normalize() accepts. 0, or -1 + err (s left zeroed). */
int batch_range_init(struct batch_spec *s, const char *start, uint64_t step,
                     uint64_t count, char *err, size_t errlen);
/* The classic batch, the workload of the managers-based job server mesh
 * grew from: 999 odd numbers from 999999999999, in chunks of 43. Its one
 * definition: `mesh submit` without a shape, the dashboard's 's' key and a
 * control request without start, count or step all mean exactly this. */
#define BATCH_CLASSIC_START "999999999999"
enum { BATCH_CLASSIC_COUNT = 999, BATCH_CLASSIC_STEP = 2, BATCH_CLASSIC_CHUNK = 43 };
int batch_classic_init(struct batch_spec *s, char *err, size_t errlen);
int batch_semiprimes_init(struct batch_spec *s, uint32_t bits, uint64_t count,
                          uint64_t seed, char *err, size_t errlen);
/* A spread batch of n (any numtext_normalize spelling; odd, of
 * BATCH_SPREAD_MIN_BITS..BATCH_SPREAD_MAX_BITS bits), `ranges` jobs of
 * `width` A each; chunk 1 (a job is seconds of work). */
int batch_spread_init(struct batch_spec *s, const char *n, uint32_t width, uint64_t ranges,
                      char *err, size_t errlen);
/* The same with curve jobs first (ecm's plan; ranges may be 0: ECM only,
 * then n may have up to MESH_MAX_BITS bits). */
int batch_spread_ecm_init(struct batch_spec *s, const char *n, const struct ecm_plan *ecm,
                          uint32_t width, uint64_t ranges, char *err, size_t errlen);
/* A spread spec's layout: curve jobs [0, *ecm_jobs), then SIQS ranges
 * [*ecm_jobs, *ecm_jobs + *ranges), then N at count - 1. */
void batch_spread_layout(const struct batch_spec *s, uint64_t *ecm_jobs, uint64_t *ranges);
/* Parses a whole file/stdin text: one number per line; blank lines,
 * surrounding whitespace, '#' comment lines and a leading UTF-8 byte order
 * mark are ignored; any bad line
 * fails the WHOLE parse with an error naming the line:
 * "line 17: 'abc' is not a valid non-negative integer". At most
 * BATCH_MAX_COUNT numbers and BATCH_MAX_LIST_INPUT bytes of text.
 * On failure s is left zeroed. */
int batch_list_parse(struct batch_spec *s, const char *text, size_t len,
                     char *err, size_t errlen);

/* How many numbers a packed list fragment holds (normalised decimals, each
 * NUL-terminated, nothing else), or 0 when it is empty or malformed. The
 * parts of an uploaded list are checked with it as they arrive. */
uint64_t batch_list_count(const char *list, size_t len);
/* Makes s a LIST spec that owns list (malloc'd, len bytes, count numbers),
 * building its offsets. 0; -1 malformed (err set); -2 out of memory. On
 * failure list is freed and s left zeroed. */
int batch_list_adopt(struct batch_spec *s, char *list, size_t len, uint64_t count,
                     uint32_t chunk, char *err, size_t errlen);

/* Writes number #index (0-based) as normalised decimal into buf
 * (buflen >= MESH_MAX_DIGITS + 2). Range: start + index*step.
 * Semiprimes: p*q with p, q prime of bits/2 and bits - bits/2 bits, derived
 * only from (seed, index), so every machine computes the same number; the
 * product has exactly `bits` bits. Costs a few ms at 1024 bits.
 * Returns 0, or -1 for index >= count, a short buffer or an invalid spec. */
int batch_number(const struct batch_spec *s, uint64_t index, char *buf, size_t buflen);
/* The same number as a word, for a range batch whose number #index is
 * below 2^64 (every number of the everyday ranges): true and *out, else
 * false (another kind, index >= count, or past 2^64: then batch_number).
 * The leader checks a range's results against it without making and
 * reading back the decimal text. */
bool batch_number_u64(const struct batch_spec *s, uint64_t index, uint64_t *out);

/* Is v a budget a spec may carry (see BATCH_BUDGET_NONE)? */
static inline int batch_budget_valid(uint64_t v)
{
    return v == BATCH_BUDGET_NONE || v <= BATCH_MAX_BUDGET_MS;
}
/* The budget a node gives a number of a batch: the batch's own, else
 * node_default_ms; 0 means no limit (the worker pool's convention). */
static inline uint64_t batch_budget_resolve(uint64_t budget_ms, uint64_t node_default_ms)
{
    return budget_ms == BATCH_BUDGET_DEFAULT ? node_default_ms
           : budget_ms == BATCH_BUDGET_NONE ? 0 : budget_ms;
}

/* Byte encoding of a spec (inside queue commands and snapshots). The
 * budget is not part of it: commands and snapshots of format 5 carry it
 * after the spec (batch_budget_encode), earlier ones decode as the default.
 * The decoder
 * rejects anything batch_spec_validate() would; on failure it marks the
 * reader failed, leaves s zeroed and returns -1. */
struct qbuf;
struct qreader;
int batch_spec_encode(const struct batch_spec *s, struct qbuf *out);
int batch_spec_decode(struct qreader *in, struct batch_spec *s);
/* The budget's bytes: a varint of budget_ms + 1 wrapping (so NONE is 0, one
 * byte, and the default 1). Decode sets s->budget_ms, or marks in failed
 * and returns -1 on an invalid budget. */
void batch_budget_encode(const struct batch_spec *s, struct qbuf *out);
int batch_budget_decode(struct qreader *in, struct batch_spec *s);

#endif
