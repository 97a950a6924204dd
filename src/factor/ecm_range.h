/* ecm_range.h - ECM curves of one number as ordinary work: a curve job
 * (run these curves of this level on this n) and its result (no factor, or
 * the factor found), both texts the batch, lease and result plane carries
 * like any number and any factor list (doc/DESIGN.md, "ECM across the
 * mesh"). Curves are named (ecm_mp_sigma), so a job is deterministic: run
 * twice, anywhere, it answers the same.
 *
 * Job:    "ecm:N:L:LO:HI"  N canonical decimal (odd, 100..1024
 *                          bits), level L < ECM_MP_LEVEL_COUNT, curves
 *                          0 <= LO < HI <= ECM_RANGE_MAX_CURVE,
 *                          HI - LO <= ECM_RANGE_MAX_CURVES.
 * Result: "ecm:K"          K curves from LO run to the end, no factor
 *                          (K < HI - LO: the budget ran out);
 *         "ecm:K:P"        curve LO + K found P, 1 < P < N.
 * Canonical decimals, one spelling each (the fuzz target re-encodes).
 * Replicas check the result's form (src/sm/result_text.c); the leader
 * checks that P divides N and K fits the job (ecm_range_verify) before it
 * commits it. */
#ifndef MESH_FACTOR_ECM_RANGE_H
#define MESH_FACTOR_ECM_RANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gmp.h>

#define ECM_RANGE_PREFIX "ecm:"

enum {
    ECM_RANGE_MIN_BITS = 100,
    ECM_RANGE_MAX_BITS = 1024,        /* a batch's numbers' (MESH_MAX_BITS) */
    ECM_RANGE_MAX_CURVES = 1000,      /* curves in one job (ecm_plan_per_job's most) */
    ECM_RANGE_MAX_CURVE = 1 << 20,    /* sigmas of a level do not overlap below */
};

struct ecm_range_job {
    unsigned level;
    uint32_t lo, hi;
};

/* Does the text name a curve job (its prefix; the rest is not checked)? */
bool ecm_range_job_is(const char *text, size_t len);

/* The job's text into buf (NUL-terminated): its length, or 0 when buf is
 * short or a field is out of range. */
size_t ecm_range_job_format(char *buf, size_t cap, const mpz_t n, const struct ecm_range_job *j);

/* Reads a job text (exactly the format's spelling); n mpz_init'd. */
bool ecm_range_job_parse(const char *text, size_t len, mpz_t n, struct ecm_range_job *j);

/* A result: ran curves without a factor, then (found) the factor. */
struct ecm_range_result {
    uint32_t ran;
    bool found;
};

/* The result's text (malloc'd, NUL-terminated) in *text; factor is read
 * when r->found. False when out of memory. */
bool ecm_range_result_format(const struct ecm_range_result *r, const mpz_t factor, char **text);

/* Reads a result text (exactly the format's spelling): factor (mpz_init'd)
 * set when found. Only the form: not checked against any n. */
bool ecm_range_result_parse(const char *text, size_t len, struct ecm_range_result *r,
                            mpz_t factor);

/* The leader's check of a result for a job: 0 right, 1 not a result or K
 * past the job's curves (malformed), 2 a factor that does not divide N
 * properly (a wrong answer). */
enum ecm_range_check { ECM_RANGE_RIGHT = 0, ECM_RANGE_MALFORMED = 1, ECM_RANGE_WRONG = 2 };
enum ecm_range_check ecm_range_verify(const char *job, size_t job_len, const char *text,
                                      size_t len);

/* Runs one job (until deadline_ms, CLOCK_MONOTONIC ms, 0: none; the curves
 * run by then are answered) and writes its result text (malloc'd) in
 * *text. progress (NULL: nobody watches) is told before every curve, as
 * the ladder's ECM tells it: phase ecm, B1, the curve's index in its level
 * of the table's curves for the level. False with a message in err when
 * the job text is not one. */
struct factor_progress_sink;
bool ecm_range_run(const char *job, size_t len, uint64_t deadline_ms,
                   const struct factor_progress_sink *progress, char **text, char *err,
                   size_t errlen);

#endif
