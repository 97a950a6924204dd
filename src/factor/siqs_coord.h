/* siqs_coord.h - the coordinator of one hard number sieved by many: plans
 * the shape of its range jobs (siqs_range.h), merges the result texts that
 * come back (each relation checked, the bad ones dropped and counted,
 * repeats dropped by y) and combines once there are enough. It does no
 * I/O: the node's side (src/node/spread.c) feeds it the committed results;
 * a test drives it with texts alone.
 * Everything follows from n, so a coordinator rebuilt from the same
 * committed results (a new leader, a restart) reaches the same state. */
#ifndef MESH_FACTOR_SIQS_COORD_H
#define MESH_FACTOR_SIQS_COORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gmp.h>

#include "siqs_mp_wire.h"

struct siqs_coord;

/* A spread batch's shape for n: A indices a job (*width) and how many jobs
 * to publish (*ranges: several times what a split needs, so that the last
 * index, n itself, is leased alone only if the ranges all fail). */
void siqs_coord_plan(const mpz_t n, uint32_t *width, uint64_t *ranges);

struct siqs_coord_stats {
    struct siqs_wire_stats wire; /* relations added, repeats, dropped, malformed */
    size_t results;              /* result texts taken */
    size_t sets, want_sets;      /* what the combine has, what it waits for */
    uint32_t width;              /* A indices a job */
    int combines;                /* matrices run so far (short checks not counted) */
};

enum siqs_coord_open {
    SIQS_COORD_OPENED = 0,
    SIQS_COORD_SPLIT = 1,   /* set-up found a factor already (in *factor) */
    SIQS_COORD_NOT_SIQS = -1, /* n is not for this engine (size, even, a power) */
    SIQS_COORD_NO_MEMORY = -2,
};

/* Sets up n's factor base and parameters (the same as every worker's).
 * On SIQS_COORD_OPENED *out is the coordinator, else NULL. */
enum siqs_coord_open siqs_coord_open(struct siqs_coord **out, const mpz_t n, mpz_t factor);
void siqs_coord_free(struct siqs_coord *c);

/* The job text of range number i ([i * width, (i + 1) * width)), written
 * into buf (SIQS_RANGE_JOB_MAX + 1 bytes); its length, 0 on a short buf. */
size_t siqs_coord_job(const struct siqs_coord *c, uint64_t i, char *buf, size_t cap);

/* Merges one result text (siqs_range_result_decode). False: malformed or
 * out of memory (counted; what came before the fault is kept). */
bool siqs_coord_take(struct siqs_coord *c, const char *text, size_t len);

/* Enough sets for the next combine? */
bool siqs_coord_ready(const struct siqs_coord *c);

/* The matrix and square root: 1 a proper factor of n in *factor; 0 none
 * this time (the coordinator now wants a few percent more sets: take
 * more results and call again); -1 it gave up (SIQS_MP_COMBINE_TRIES). */
int siqs_coord_combine(struct siqs_coord *c, mpz_t factor);

void siqs_coord_stats(const struct siqs_coord *c, struct siqs_coord_stats *st);

#endif
