/* work.c - a node's worker side: src/node/work.c itself (linked in),
 * wired to the simulator through its seam (struct work_io, work.h) as
 * src/node/work_node.c wires it to the node: the clock is the fixture's,
 * the replica this server's queue, results and lease ends go over the
 * simulator's links or to this server's own leader half. In place of the
 * worker pool, worker slots: a job assigned to a slot factors its numbers
 * with the real kernel, in-process, each costing a few simulated ms, and
 * ends through work.c's pool callbacks (work_on_result, work_on_job_end)
 * as the pool's do; a cancel stops the slots on its batch. Nodes are named
 * by raft id (server index + 1) in leases and ends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "node/work.h"
#include "worker.h"
#include "sim.h"

struct slot {
    bool busy;
    bool aborted;               /* its batch was cancelled: ends at the next run */
    struct sched_job job;
    uint64_t index, busy_until;
};

struct sim_work {
    struct work *core;
    struct slot slots[SIM_MAX_WORKERS];
};

static struct sim_node *node_of(void *ud)
{
    return ud;
}

/* ---- the seam (struct work_io) -------------------------------------------------- */

static uint64_t io_now(void *ud)
{
    return sim_now(node_of(ud)->sim);
}

static struct queue *io_queue(void *ud)
{
    struct sim_node *nd = ud;
    return nd->sim->c.m[nd->index].q;
}

/* The leader raft names (the simulator follows it once a step). */
static uint64_t io_leader(void *ud)
{
    return node_of(ud)->known_leader;
}

static uint64_t io_applied(void *ud)
{
    struct sim_node *nd = ud;
    return raft_last_applied(raft_fixture_get(&nd->sim->c.f, nd->index));
}

static bool io_is_member(void *ud, uint64_t id)
{
    (void)ud, (void)id;
    return true; /* every server is a voter */
}

static bool io_stopping(void *ud)
{
    (void)ud;
    return false;
}

static int io_send(void *ud, uint64_t peer, uint8_t type, const uint8_t *data, size_t len)
{
    struct sim_node *nd = ud;
    return sim_send_bytes(nd->sim, nd->index, (unsigned)peer - 1, type, data, len);
}

static void io_own_results(void *ud, uint64_t batch, const struct msg_result *items,
                           size_t count)
{
    struct sim_node *nd = ud;
    sim_lead_on_own_results(nd->sim, nd->index, batch, items, count);
}

static void io_own_lease_end(void *ud, const struct msg_lease_end *e)
{
    struct sim_node *nd = ud;
    sim_lead_on_own_lease_end(nd->sim, nd->index, e);
}

static unsigned io_idle_workers(void *ud)
{
    struct sim_node *nd = ud;
    unsigned idle = 0;
    for (unsigned k = 0; k < nd->workers; k++)
        idle += !nd->work->slots[k].busy;
    return idle;
}

/* A job to the first free slot; its first number is done 1-4 ms later. */
static bool io_assign(void *ud, const struct sched_job *job)
{
    struct sim_node *nd = ud;
    for (unsigned k = 0; k < nd->workers; k++) {
        struct slot *sl = &nd->work->slots[k];
        if (sl->busy)
            continue;
        *sl = (struct slot){true, false, *job, job->lo,
                            sim_now(nd->sim) + 1 + sim_rng_below(&nd->sim->rng, 4)};
        return true;
    }
    return false;
}

static void io_abort_batch(void *ud, uint64_t batch)
{
    struct sim_node *nd = ud;
    for (unsigned k = 0; k < nd->workers; k++)
        if (nd->work->slots[k].busy && nd->work->slots[k].job.batch_id == batch)
            nd->work->slots[k].aborted = true;
}

static void io_counted(void *ud, unsigned done, unsigned unfactored)
{
    (void)unfactored;
    node_of(ud)->sim->stats.numbers += done;
}

/* work.c's line for results sent again (work_tick), counted. */
static void io_log(void *ud, enum log_level level, const char *text)
{
    (void)level;
    node_of(ud)->sim->stats.results_resent += strstr(text, "sending them again") != NULL;
}

static const struct work_io sim_work_io = {
    io_now, io_queue, io_leader, io_leader, io_applied, io_is_member, io_stopping, io_send,
    io_own_results, io_own_lease_end, io_idle_workers, io_assign, io_abort_batch, io_counted,
    io_log,
};

/* ---- the node's rows -------------------------------------------------------------- */

void sim_work_start(struct sim *s, unsigned i)
{
    struct sim_work *w = calloc(1, sizeof *w);
    CHECK(w != NULL);
    struct work_config c = {&sim_work_io, &s->nodes[i], i + 1, 0};
    w->core = work_new(&c);
    CHECK(w->core != NULL);
    s->nodes[i].work = w;
}

void sim_work_stop(struct sim *s, unsigned i)
{
    struct sim_work *w = s->nodes[i].work;
    if (w == NULL)
        return;
    work_free(w->core);
    free(w);
    s->nodes[i].work = NULL;
}

void sim_work_on_msg(struct sim *s, unsigned i, const struct sim_msg *m)
{
    if (s->nodes[i].work != NULL && m->type == SIM_LEASE)
        work_on_lease_msg(s->nodes[i].work->core, m->from + 1, m->data, m->len);
}

void sim_work_on_own_lease(struct sim *s, unsigned i, const struct msg_lease *l)
{
    if (s->nodes[i].work != NULL)
        work_on_lease(s->nodes[i].work->core, i + 1, l);
}

bool sim_work_holds(const struct sim *s, unsigned i, uint64_t granter, uint64_t lease)
{
    const struct sim_work *w = s->nodes[i].work;
    if (w == NULL)
        return false;
    for (unsigned k = 0; k < s->nodes[i].workers; k++)
        if (w->slots[k].busy && w->slots[k].job.granter == granter &&
            w->slots[k].job.job_id == lease)
            return true;
    return work_waits(w->core, granter, lease);
}

void sim_work_on_applied(struct sim *s, unsigned i, int rc, enum qcmd_type type,
                         uint64_t batch)
{
    if (s->nodes[i].work != NULL)
        work_on_applied_entry(s->nodes[i].work->core, rc, type, batch);
}

void sim_work_on_leader_change(struct sim *s, unsigned i)
{
    if (s->nodes[i].work != NULL)
        work_on_leader_change(s->nodes[i].work->core);
}

/* ---- the worker slots ---------------------------------------------------------------- */

/* The canonical result text of one number, by the real kernel; a liar
 * claims a wrong factorisation instead. */
static char *factor_text(struct sim *s, unsigned i, const char *num)
{
    if (sim_now(s) < s->nodes[i].liar_until)
        return strdup(strcmp(num, "2") == 0 ? "3" : "2");
    struct factor_result res;
    if (factor_decimal(s->fctx, num, 0, &res) != FACTOR_DONE) {
        sim_fail(s, "the kernel failed on %s: %s", num, res.error);
        factor_result_free(&res);
        return strdup("");
    }
    size_t len = 1;
    for (size_t k = 0; k < res.count; k++)
        len += strlen(res.factors[k]) + 1;
    char *text = malloc(len), *p = text;
    CHECK(text != NULL);
    *p = '\0';
    for (size_t k = 0; k < res.count; k++)
        p += sprintf(p, "%s%s", k ? " " : "", res.factors[k]);
    factor_result_free(&res);
    return text;
}

/* A slot's job ends (as the pool ends one: work_on_job_end sends its
 * results, then the lease's end), and the pool's idle callback runs. */
static void end_job(struct sim *s, unsigned i, struct slot *sl, uint64_t next,
                    enum worker_end why)
{
    struct work *core = s->nodes[i].work->core;
    struct sched_job job = sl->job;
    sl->busy = false;
    work_on_job_end(core, &job, next, why);
    work_dispatch(core);
}

/* One number of a slot done: the number made as the pool makes it
 * (work_make_number; one that cannot be made returns the rest), factored,
 * its result to work_on_result. */
static void finish_number(struct sim *s, unsigned i, struct slot *sl)
{
    struct work *core = s->nodes[i].work->core;
    char num[MESH_MAX_DIGITS + 2];
    if (work_make_number(core, sl->job.batch_id, sl->index, num, sizeof num) != 0) {
        end_job(s, i, sl, sl->index, WORKER_JOB_RETURNED);
        return;
    }
    char *text = factor_text(s, i, num);
    work_on_result(core, &(struct worker_result){sl->job.batch_id, sl->index, text, strlen(text),
                                                  false, 0});
    free(text);
    sl->index++;
    sl->busy_until += 1 + sim_rng_below(&s->rng, 4);
    if (sl->index >= sl->job.hi)
        end_job(s, i, sl, sl->job.hi, WORKER_JOB_DONE);
}

/* One step of server i: waiting leases to idle slots (the node's tick and
 * applied rows), the slots' numbers due by now, then the flush and tick
 * rows (results to the leader, lost ones again). */
void sim_work_run(struct sim *s, unsigned i)
{
    struct sim_work *w = s->nodes[i].work;
    work_dispatch(w->core);
    for (unsigned k = 0; k < s->nodes[i].workers && s->failure[0] == '\0'; k++) {
        struct slot *sl = &w->slots[k];
        if (sl->busy && sl->aborted)
            end_job(s, i, sl, sl->index, WORKER_JOB_ABORTED);
        while (s->failure[0] == '\0' && sl->busy && sl->busy_until <= sim_now(s))
            finish_number(s, i, sl);
    }
    work_flush(w->core);
    work_tick(w->core);
}
