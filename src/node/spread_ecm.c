/* spread_ecm.c - the leader's watch over curve jobs (spread_ecm.h). */
#include <stdlib.h>
#include <string.h>

#include "spread_ecm.h"
#include "batch.h"
#include "ecm_range.h"
#include "queue.h"

bool spread_ecm_open(struct spread_ecm *e, const struct batch_spec *spec)
{
    uint64_t ranges;
    *e = (struct spread_ecm){0};
    batch_spread_layout(spec, &e->jobs, &ranges);
    if (e->jobs == 0)
        return true;
    e->taken = calloc(e->jobs, 1);
    e->planned = calloc(e->jobs, sizeof *e->planned);
    if (e->taken == NULL || e->planned == NULL)
        return false;
    char text[MESH_MAX_DIGITS + 2];
    struct ecm_range_job job;
    mpz_t n;
    mpz_init(n);
    for (uint64_t i = 0; i < e->jobs; i++) /* the job texts are the spec's: no I/O */
        if (batch_number(spec, i, text, sizeof text) == 0 &&
            ecm_range_job_parse(text, strlen(text), n, &job))
            e->planned[i] = job.hi - job.lo;
    mpz_clear(n);
    return true;
}

void spread_ecm_close(struct spread_ecm *e)
{
    free(e->taken);
    free(e->planned);
    *e = (struct spread_ecm){0};
}

/* One committed text: true with a proper factor of n. The leader checked
 * it before committing (factor_verify); checked again here, since this
 * leader may not be the one that committed it. */
static bool read_one(struct spread_ecm *e, uint64_t i, const char *text, const mpz_t n,
                     mpz_t factor)
{
    struct ecm_range_result r;
    if (!ecm_range_result_parse(text, strlen(text), &r, factor)) {
        e->bad++;
        return false;
    }
    e->curves += r.ran;
    if (!r.found) {
        e->cut += r.ran < e->planned[i] ? e->planned[i] - r.ran : 0;
        return false;
    }
    if (mpz_cmp(factor, n) < 0 && mpz_divisible_p(n, factor))
        return true;
    e->bad++;
    return false;
}

bool spread_ecm_scan(struct spread_ecm *e, const struct queue *q, uint64_t batch, const mpz_t n,
                     mpz_t factor)
{
    for (uint64_t i = 0; i < e->jobs; i++) {
        if (e->taken[i] || !queue_is_done(q, batch, i))
            continue;
        const char *text = queue_result(q, batch, i);
        if (text == NULL)
            continue; /* in a segment file not loaded here yet: read once it is */
        e->taken[i] = 1;
        e->done++;
        if (read_one(e, i, text, n, factor))
            return true;
    }
    return false;
}

bool spread_ecm_spent(const struct spread_ecm *e)
{
    return e->done == e->jobs;
}
