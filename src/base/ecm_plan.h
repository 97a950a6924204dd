/* ecm_plan.h - GMP-ECM's table of levels and a spread batch's plan of
 * ECM curve jobs (doc/DESIGN.md, "ECM across the mesh").
 *
 * The table is the kernel's schedule (src/factor/ecm_mp.h runs it); the
 * plan cuts its first levels into jobs of a few curves each, so that a
 * batch spec (src/sm/batch.h, which cannot depend on the kernel) turns an
 * index into "curves [lo, hi) of level L" identically on every machine.
 * Both live here, below the kernel and the state machine, so the two
 * share one table. */
#ifndef MESH_BASE_ECM_PLAN_H
#define MESH_BASE_ECM_PLAN_H

#include <stdbool.h>
#include <stdint.h>

struct ecm_mp_level {
    unsigned digits;  /* factor size this level targets */
    double b1;        /* stage-1 bound */
    unsigned curves;  /* expected curves to find such a factor */
};

enum { ECM_MP_LEVEL_COUNT = 9 };
/* 15, 20, ..., 55 digits: B1 2e3 .. 11e7, GMP-ECM's table. */
extern const struct ecm_mp_level ecm_mp_levels[ECM_MP_LEVEL_COUNT];

/* Which curves a spread runs: levels 0 .. levels - 2 whole, then
 * last_curves curves of level levels - 1. levels 0: no ECM. */
struct ecm_plan {
    uint32_t levels;      /* 0..ECM_MP_LEVEL_COUNT */
    uint32_t last_curves; /* 1..ecm_mp_levels[levels - 1].curves */
};

/* Is the plan one a spec may carry? */
bool ecm_plan_valid(const struct ecm_plan *p);

/* Curves of one job at level L: about ECM_PLAN_JOB_B1 units of B1 (a few
 * seconds of one core at 500 bits), at least one curve. */
#define ECM_PLAN_JOB_B1 5e5
uint32_t ecm_plan_per_job(unsigned level);

/* Curves the plan runs at level L (0 past its last). */
uint32_t ecm_plan_level_curves(const struct ecm_plan *p, unsigned level);

/* Jobs in the plan (0 for levels 0). */
uint64_t ecm_plan_jobs(const struct ecm_plan *p);

/* Job j: curves [*lo, *hi) of *level. False when j is past the plan. */
bool ecm_plan_job(const struct ecm_plan *p, uint64_t j, unsigned *level, uint32_t *lo,
                  uint32_t *hi);

#endif
