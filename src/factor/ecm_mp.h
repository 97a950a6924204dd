/* ecm_mp.h - the elliptic curve method on multi-word numbers, through
 * GMP-ECM's libecm (internal).
 *
 * ECM finds a factor p in time that depends on p's size, not n's: it is
 * what splits numbers that are not balanced (a 20..35-digit factor of a
 * number past SIQS's range, or well inside it). The work is a schedule of
 * levels taken from GMP-ECM's table of bounds by factor size: level L runs
 * `curves` curves at stage-1 bound b1 (libecm picks stage 2's B2), which
 * finds a factor of `digits` digits with probability ~1 - 1/e.
 *
 * Every curve is named by (level, index): its sigma (Suyama's
 * parametrisation, GMP-ECM's -param 0) is ecm_mp_sigma(level, index), the same
 * for every n. So a run is reproducible, and a range of curves is a unit of
 * work another process (or node) can run: ecm_mp_run_curves is that unit. */
#ifndef MESH_FACTOR_ECM_MP_H
#define MESH_FACTOR_ECM_MP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gmp.h>

#include "ecm_plan.h" /* the table of levels, shared with batch specs */
#include "progress.h"

/* The sigma of curve `index` of `level`: distinct for every (level, index)
 * with index < 2^20, fixed across numbers and runs. */
uint32_t ecm_mp_sigma(unsigned level, uint32_t index);

/* Runs `count` curves at bound b1 on n (odd, composite), with sigmas
 * first_sigma, first_sigma + 1, ...; stops at the first proper factor.
 * Returns 1 (factor set, 1 < factor < n), 0 (none found, or libecm refused
 * n) or -1 (deadline_ms, CLOCK_MONOTONIC milliseconds, passed; 0: no
 * deadline). libecm checks the deadline at every prime of stage 1 and
 * between the steps of stage 2, so a run stops within milliseconds of it.
 * *ran (if not NULL): the curves run to the end without a factor (so
 * first_sigma + *ran is the curve that found it, or that was stopped). */
int ecm_mp_run_curves(const mpz_t n, double b1, uint32_t first_sigma, unsigned count,
                      uint64_t deadline_ms, mpz_t factor, unsigned *ran);

/* Estimated milliseconds of one curve at b1 on a number of `bits` bits
 * (stage 1 and 2 together, fitted on this project's reference machine).
 * Used to size a pass by cost before running it; never as a deadline. */
double ecm_mp_curve_ms(double b1, size_t bits);

/* The curves a pass from the first curve with work_ms (> 0) and levels up
 * to max_level runs, as ecm_mp_find_factor picks them (without repeat):
 * whole levels while they fit, then the curves that still fit. A plan of
 * no levels when not one curve fits. */
void ecm_mp_plan(size_t bits, double work_ms, unsigned max_level, struct ecm_plan *plan);

/* How much of the schedule a pass may run. */
struct ecm_mp_budget {
    double work_ms;       /* estimated cost (ecm_mp_curve_ms) of the curves
                           * planned; 0: no bound */
    unsigned max_level;   /* last level run (inclusive) */
    bool repeat_last;     /* after max_level's curves, go on with more
                           * curves at its bound until the deadline */
    uint64_t deadline_ms; /* hard stop; 0: none */
    const struct factor_progress_sink *progress; /* told after every curve
                           * (progress.h); NULL: curves run in one call */
};

/* A place in the schedule: curve `index` of `level`. */
struct ecm_mp_curve {
    unsigned level;
    uint32_t index;
};

/* Runs the schedule from *at up to the budget: the rest of its level, then
 * every later level's curves in turn (the level where work_ms runs out gets
 * the curves that still fit). The curves chosen depend only on n's size,
 * *at and the budget's work_ms and max_level, never on the clock. Returns
 * like ecm_mp_run_curves, and leaves *at on the curve that found the factor
 * (or the first not run). A divisor of n can start from there: the curves
 * before it found nothing for its primes either (a curve's group mod p does
 * not depend on n); the finding curve runs again, since it may have stopped
 * in stage 1 before stage 2 tried the other primes. */
int ecm_mp_find_factor(const mpz_t n, const struct ecm_mp_budget *budget,
                       struct ecm_mp_curve *at, mpz_t factor);

#endif
