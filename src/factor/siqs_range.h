/* siqs_range.h - one hard number's SIQS as pieces of ordinary work: a
 * range job (sieve these A indices of this n) and its result (the checked
 * relations found), both as texts that the batch, lease and result plane
 * carries like any number and any factor list (doc/DESIGN.md, "One hard
 * number, the whole mesh").
 *
 * Job:    "siqs:N:LO:HI"  N canonical decimal (SIQS_MP_MIN_BITS..
 *                         SIQS_MP_MAX_BITS bits, odd), 0 <= LO < HI,
 *                         HI - LO <= SIQS_RANGE_MAX_A, canonical decimals.
 * Result: "rels:B"        B: the wire message (siqs_mp_wire.h) in base 32
 *                         (digits then a..v, 5 bits a letter, most
 *                         significant first, the last letter's unused bits
 *                         zero), so it stays inside a result's charset
 *                         [0-9a-z: ] and its length (<= SIQS_RANGE_TEXT_MAX).
 * One spelling each, so the decoders' fuzz targets can re-encode. */
#ifndef MESH_FACTOR_SIQS_RANGE_H
#define MESH_FACTOR_SIQS_RANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gmp.h>

#include "siqs_mp_wire.h"

#define SIQS_RANGE_JOB_PREFIX "siqs:"
#define SIQS_RANGE_RESULT_PREFIX "rels:"

enum {
    SIQS_RANGE_MAX_A = 64,           /* A indices in one job */
    SIQS_RANGE_TEXT_MAX = 65536,     /* a result text's limit (QRESULT_MAX_TEXT) */
    SIQS_RANGE_JOB_MAX = 5 + 103 + 1 + 10 + 1 + 10, /* "siqs:" N ":" LO ":" HI */
};

/* Does the text name a range job (its prefix; the rest is not checked)? */
bool siqs_range_job_is(const char *text, size_t len);

/* Writes the job's text into buf (NUL-terminated); its length, or 0 when
 * buf is too short or the fields are out of range. */
size_t siqs_range_job_format(char *buf, size_t cap, const mpz_t n, uint32_t a_lo, uint32_t a_hi);

/* Reads a job text (exactly the format's spelling). n must be mpz_init'd.
 * False when it is not one. */
bool siqs_range_job_parse(const char *text, size_t len, mpz_t n, uint32_t *a_lo,
                          uint32_t *a_hi);

/* The result text of ctx->rels.rel[0 .. count), as many of them as fit in
 * SIQS_RANGE_TEXT_MAX: malloc'd, NUL-terminated, in *text; *sent says how
 * many went in. False when out of memory. */
bool siqs_range_result_encode(struct mp_ctx *ctx, char **text, size_t *text_len,
                              size_t *sent);

/* Is the text a result in form (prefix, letters, a length and unused bits
 * an encoder writes)? The relations in it are not checked: that needs n's
 * factor base (siqs_range_result_decode). */
bool siqs_range_result_form(const char *text, size_t len);

/* Decodes a result text into ctx (siqs_wire_decode: every relation
 * checked against ctx's n, the bad ones dropped and counted). A text that
 * is not a result (prefix, letters, length, unused bits) counts as one
 * malformed message. False when malformed or out of memory. */
bool siqs_range_result_decode(struct mp_ctx *ctx, const char *text, size_t len,
                              struct siqs_wire_stats *stats);

/* A worker's context for range jobs: the last n's factor base is kept, so
 * consecutive jobs of one number (the common case: a worker takes several)
 * set up once. Zero it to start. */
struct siqs_range_worker {
    struct mp_ctx *ctx;  /* NULL until the first job */
};

/* Runs one job: sieves its range (until deadline_ms, 0: none; what was
 * found by then is still answered) and writes its result text
 * (malloc'd) in *text. False with a message in err when the job text is
 * not one or the engine failed. */
bool siqs_range_run(struct siqs_range_worker *w, const char *job, size_t len,
                    uint64_t deadline_ms, char **text, char *err, size_t errlen);
void siqs_range_worker_free(struct siqs_range_worker *w);

#endif
