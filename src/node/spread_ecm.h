/* spread_ecm.h - the leader's watch over a spread batch's ECM curve jobs
 * (doc/DESIGN.md, "ECM across the mesh").
 *
 * Curve jobs come first in a spread batch (src/sm/batch.h). Their results
 * are "no factor" or a factor the leader checked divides N before it
 * committed it (src/factor/ecm_range.h). The watch reads the results
 * committed since its last look; the first factor ends the ECM phase
 * (spread.c then commits N's factors and ends every job not yet done).
 * It holds nothing but which results it has read, so a new leader rebuilds
 * it from the committed results. */
#ifndef MESH_NODE_SPREAD_ECM_H
#define MESH_NODE_SPREAD_ECM_H

#include <stdbool.h>
#include <stdint.h>

#include <gmp.h>

struct queue;
struct batch_spec;

struct spread_ecm {
    uint64_t jobs;        /* curve jobs of the batch (its first indices) */
    uint8_t *taken;       /* per job: its result read */
    uint64_t done;        /* jobs read */
    uint64_t curves;      /* curves run in them */
    uint64_t cut;         /* curves planned in them but not run: the job's
                           * per-number budget ran out first (counted, not
                           * leased again: the next level's curves are the
                           * better use of the time) */
    uint32_t *planned;    /* per job: its curves (HI - LO) */
    bool told;            /* the phase's end logged (spread.c) */
    uint64_t bad;         /* committed texts that did not parse or divide
                           * (a leader that did not check: counted, ignored) */
};

/* Sets the watch up for spec's curve jobs. False when out of memory. */
bool spread_ecm_open(struct spread_ecm *e, const struct batch_spec *spec);
void spread_ecm_close(struct spread_ecm *e);

/* Reads the curve results committed since the last call; true with a
 * proper factor of n in *factor at the first one that has one. */
bool spread_ecm_scan(struct spread_ecm *e, const struct queue *q, uint64_t batch, const mpz_t n,
                     mpz_t factor);

/* Are all curve jobs read (the ECM phase over without a factor)? */
bool spread_ecm_spent(const struct spread_ecm *e);

#endif
