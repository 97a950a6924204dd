/* ecm_plan.c - GMP-ECM's table and a spread's curve jobs (ecm_plan.h). */
#include "ecm_plan.h"

/* GMP-ECM's table (README, -param 0 with its default B2): the bound and
 * the expected number of curves for a factor of each size. */
const struct ecm_mp_level ecm_mp_levels[ECM_MP_LEVEL_COUNT] = {
    {15, 2e3, 25},     {20, 11e3, 74},    {25, 5e4, 214},
    {30, 25e4, 430},   {35, 1e6, 904},    {40, 3e6, 2350},
    {45, 11e6, 4480},  {50, 43e6, 7553},  {55, 11e7, 17769},
};

bool ecm_plan_valid(const struct ecm_plan *p)
{
    if (p->levels == 0)
        return p->last_curves == 0;
    return p->levels <= ECM_MP_LEVEL_COUNT && p->last_curves >= 1 &&
           p->last_curves <= ecm_mp_levels[p->levels - 1].curves;
}

uint32_t ecm_plan_per_job(unsigned level)
{
    double per = ECM_PLAN_JOB_B1 / ecm_mp_levels[level].b1;
    return per < 1 ? 1 : (uint32_t)per;
}

uint32_t ecm_plan_level_curves(const struct ecm_plan *p, unsigned level)
{
    if (level + 1 < p->levels)
        return ecm_mp_levels[level].curves;
    return level + 1 == p->levels ? p->last_curves : 0;
}

static uint64_t level_jobs(const struct ecm_plan *p, unsigned level)
{
    uint32_t per = ecm_plan_per_job(level);
    return (ecm_plan_level_curves(p, level) + per - 1) / per;
}

uint64_t ecm_plan_jobs(const struct ecm_plan *p)
{
    uint64_t jobs = 0;
    for (unsigned l = 0; l < p->levels && l < ECM_MP_LEVEL_COUNT; l++)
        jobs += level_jobs(p, l);
    return jobs;
}

bool ecm_plan_job(const struct ecm_plan *p, uint64_t j, unsigned *level, uint32_t *lo,
                  uint32_t *hi)
{
    for (unsigned l = 0; l < p->levels && l < ECM_MP_LEVEL_COUNT; l++) {
        uint64_t jobs = level_jobs(p, l);
        if (j >= jobs) {
            j -= jobs;
            continue;
        }
        uint32_t per = ecm_plan_per_job(l), curves = ecm_plan_level_curves(p, l);
        *level = l;
        *lo = (uint32_t)j * per;
        *hi = *lo + per < curves ? *lo + per : curves;
        return true;
    }
    return false;
}
