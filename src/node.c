/* node.c - see node.h. Start-up, the event wiring, and shutdown. */
#include "node.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datadir.h"
#include "numtext.h"

enum { TICK_MS = 1000, PENDING_FLUSH_AT = 4096 };

/* ---- committing results -------------------------------------------------- */

/* Applies one command to the state machine. With Raft this becomes a
 * proposal to the leader; everything after it reacts to applied state. */
static int node_commit(struct node *n, const struct qcmd *cmd, uint64_t *batch_id,
                       char *err, size_t errlen)
{
    struct queue_outcome out;
    int rc = queue_apply(n->queue, cmd, &out, err, errlen);
    if (batch_id != NULL)
        *batch_id = out.batch_id;
    api_wake_waiters(n);
    return rc;
}

/* Returns -1 when out of memory: the results stay pending for the next
 * loop iteration. */
static int commit_pending_batch(struct node *n, uint64_t batch_id)
{
    struct pending_results *p = &n->pending;
    struct qcmd cmd = {.type = QCMD_COMPLETE, .batch_id = batch_id};
    cmd.results = malloc(p->n * sizeof *cmd.results);
    if (cmd.results == NULL)
        return -1;
    size_t kept = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (p->batch_ids[i] == batch_id)
            cmd.results[cmd.n_results++] = p->items[i];
        else {
            p->items[kept] = p->items[i];
            p->batch_ids[kept++] = p->batch_ids[i];
        }
    }
    p->n = kept;
    char err[256];
    if (node_commit(n, &cmd, NULL, err, sizeof err) != 0)
        mlog(&n->log, LOG_WARN, "results for batch %llu: %s",
             (unsigned long long)batch_id, err);
    qcmd_free(&cmd);
    return 0;
}

static void commit_pending(struct node *n)
{
    while (n->pending.n > 0)
        if (commit_pending_batch(n, n->pending.batch_ids[0]) != 0)
            return;
}

static void on_commit_check(uv_check_t *h)
{
    struct node *n = h->data;
    if (n->pending.n > 0) {
        commit_pending(n);
        node_dispatch(n);
    }
}

static void add_pending(struct node *n, uint64_t batch_id, uint64_t index,
                        const char *text)
{
    struct pending_results *p = &n->pending;
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 256;
        struct qresult *ni = realloc(p->items, cap * sizeof *ni);
        if (ni != NULL)
            p->items = ni;
        uint64_t *nb = realloc(p->batch_ids, cap * sizeof *nb);
        if (nb != NULL)
            p->batch_ids = nb;
        if (ni == NULL || nb == NULL)
            return; /* not recorded: the index stays pending and is redone */
        p->cap = cap;
    }
    char *copy = strdup(text);
    if (copy == NULL)
        return;
    p->items[p->n] = (struct qresult){index, copy};
    p->batch_ids[p->n++] = batch_id;
    if (p->n >= PENDING_FLUSH_AT)
        commit_pending(n);
}

/* ---- worker pool callbacks ------------------------------------------------ */

static int make_number(void *ud, uint64_t batch_id, uint64_t index, char *buf, size_t len)
{
    struct node *n = ud;
    struct batch_info info;
    if (queue_batch_get(n->queue, batch_id, &info) != 0)
        return -1;
    return batch_number(info.spec, index, buf, len);
}

static void on_result(void *ud, const struct worker_result *r)
{
    struct node *n = ud;
    n->stats.done++;
    n->stats.unfactored += r->unfactored;
    sched_observe(n->sched, r->batch_id, 1, r->ms);
    add_pending(n, r->batch_id, r->index, r->text);
}

/* The kernel could not finish `index` (it hung, or killed its worker twice):
 * record it as unfactored rather than retry forever. */
static void give_up_on(struct node *n, uint64_t batch_id, uint64_t index)
{
    char num[MESH_MAX_DIGITS + 2], text[MESH_MAX_DIGITS + 16];
    if (make_number(n, batch_id, index, num, sizeof num) != 0)
        return;
    snprintf(text, sizeof text, "unfactored:%s", num);
    n->stats.unfactored++;
    add_pending(n, batch_id, index, text);
}

static bool batch_running(const struct node *n, uint64_t batch_id)
{
    struct batch_info info;
    return queue_batch_get(n->queue, batch_id, &info) == 0 && info.state == BATCH_RUNNING;
}

static void on_job_end(void *ud, const struct sched_job *job, uint64_t next,
                       enum worker_end why)
{
    struct node *n = ud;
    if (!batch_running(n, job->batch_id))
        return; /* cancelled (or done) meanwhile: nothing to give back */
    switch (why) {
    case WORKER_JOB_DONE:
    case WORKER_JOB_ABORTED:
        break;
    case WORKER_JOB_RETURNED:
        sched_give_back(n->sched, job, next, 0);
        break;
    case WORKER_JOB_TIMEOUT:
        give_up_on(n, job->batch_id, next);
        sched_give_back(n->sched, job, next + 1, 0);
        break;
    case WORKER_JOB_CRASHED: {
        uint32_t crashes = (next == job->lo ? job->crashes : 0) + 1;
        if (crashes >= SCHED_MAX_CRASHES) {
            mlog(&n->log, LOG_WARN, "number %llu of batch %llu killed %u workers; "
                 "reporting it unfactored", (unsigned long long)next,
                 (unsigned long long)job->batch_id, crashes);
            give_up_on(n, job->batch_id, next);
            sched_give_back(n->sched, job, next + 1, 0);
        } else {
            sched_give_back(n->sched, job, next, crashes);
        }
        break;
    }
    }
}

static void on_idle(void *ud)
{
    node_dispatch(ud);
}

static bool has_unfinished_batch(const struct node *n)
{
    size_t count = queue_batch_count(n->queue);
    for (size_t i = 0; i < count; i++) {
        struct batch_info info;
        if (queue_batch_at(n->queue, i, &info) == 0 && info.state == BATCH_RUNNING)
            return true;
    }
    return false;
}

void node_dispatch(struct node *n)
{
    if (n->stopping || n->draining || n->pool == NULL)
        return;
    struct sched_job job;
    while (worker_pool_idle(n->pool) > 0 && sched_next_job(n->sched, &job))
        worker_pool_assign(n->pool, &job);
    /* Nothing out, nothing to hand out, yet a batch is unfinished: some
     * range fell through the cracks; find it again. */
    if (worker_pool_busy(n->pool) == 0 && n->pending.n == 0 && has_unfinished_batch(n)) {
        sched_rescan(n->sched);
        while (worker_pool_idle(n->pool) > 0 && sched_next_job(n->sched, &job))
            worker_pool_assign(n->pool, &job);
    }
}

/* ---- commands ------------------------------------------------------------- */

int node_submit(struct node *n, struct qcmd *submit, uint64_t *batch_id,
                char *err, size_t errlen)
{
    if (node_commit(n, submit, batch_id, err, errlen) != 0)
        return -1;
    mlog(&n->log, LOG_INFO, "batch %llu submitted: %llu numbers",
         (unsigned long long)*batch_id, (unsigned long long)submit->spec.count);
    node_dispatch(n);
    return 0;
}

int node_cancel(struct node *n, uint64_t batch_id, char *err, size_t errlen)
{
    commit_pending(n);
    struct qcmd cmd = {.type = QCMD_CANCEL, .batch_id = batch_id};
    if (node_commit(n, &cmd, NULL, err, errlen) != 0)
        return -1;
    worker_pool_abort_batch(n->pool, batch_id);
    sched_prune(n->sched);
    mlog(&n->log, LOG_INFO, "batch %llu cancelled", (unsigned long long)batch_id);
    return 0;
}

void node_set_drain(struct node *n, bool drain)
{
    if (n->draining == drain)
        return;
    n->draining = drain;
    mlog(&n->log, LOG_INFO, drain ? "draining: finishing started numbers, taking no new work"
                                  : "undrained: taking work again");
    if (drain)
        worker_pool_return_unstarted(n->pool);
    else
        node_dispatch(n);
}

/* ---- life cycle ----------------------------------------------------------- */

static void on_tick(uv_timer_t *t)
{
    struct node *n = t->data;
    n->stats.busy = worker_pool_busy(n->pool);
    rate_meter_tick(&n->stats.meter, n->stats.done, uv_now(&n->loop));
}

static void on_subsystem_closed(void *ud)
{
    struct node *n = ud;
    if (--n->closing == 0)
        uv_stop(&n->loop);
}

void node_stop(struct node *n)
{
    if (n->stopping)
        return;
    n->stopping = true;
    mlog(&n->log, LOG_INFO, "shutting down");
    api_drop_waiters(n);
    uv_close((uv_handle_t *)&n->sigint, NULL);
    uv_close((uv_handle_t *)&n->sigterm, NULL);
    uv_close((uv_handle_t *)&n->tick, NULL);
    uv_close((uv_handle_t *)&n->commit_check, NULL);
    n->closing = 2 + node_links_stop(n, on_subsystem_closed) +
                 node_ui_stop(n, on_subsystem_closed);
    control_stop(n->control, on_subsystem_closed, n);
    worker_pool_stop(n->pool, on_subsystem_closed, n);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct node *n = s->data;
    mlog(&n->log, LOG_INFO, "signal %d", signum);
    node_stop(n);
}

/* The log goes to --log-file, or to DATA_DIR/mesh.log while the dashboard
 * owns the terminal, or else to stderr. */
static int open_log(struct node *n)
{
    char path[4200];
    if (n->cfg->log_file[0] != '\0')
        snprintf(path, sizeof path, "%s", n->cfg->log_file);
    else if (node_wants_ui(n->cfg))
        snprintf(path, sizeof path, "%s/mesh.log", n->cfg->data_dir);
    else
        return 0;
    n->log_out = fopen(path, "a");
    if (n->log_out == NULL) {
        fprintf(stderr, "mesh: cannot open log file %s: %s\n", path, strerror(errno));
        return -1;
    }
    n->log.out = n->log_out;
    return 0;
}

static int claim_data_dir(struct node *n)
{
    char err[512];
    if (datadir_ensure(n->cfg->data_dir, err, sizeof err) != 0 ||
        (n->lock_fd = datadir_lock(n->cfg->data_dir, err, sizeof err)) < 0 ||
        mesh_keys_load_or_create(&n->keys, n->cfg->data_dir, err, sizeof err) != 0 ||
        (datadir_control_path(n->cfg->data_dir, n->control_path, sizeof n->control_path) != 0 &&
         snprintf(err, sizeof err, "data dir path too long: %s", n->cfg->data_dir) > 0)) {
        mlog(&n->log, LOG_ERROR, "%s", err);
        return -1;
    }
    if (mesh_keys_derive_authkey(&n->keys, n->cfg->authkey, n->cfg->authkey_len) != 0) {
        mlog(&n->log, LOG_ERROR, "cannot derive the mesh key (out of memory?)");
        return -1;
    }
    node_config_free(n->cfg); /* the key is no longer needed: wipe it */
    return 0;
}

/* Seconds to whole milliseconds, rounding up: a tiny budget must not
 * become 0, which means unlimited. */
static uint64_t budget_ms(double seconds)
{
    return seconds <= 0 ? 0 : (uint64_t)ceil(seconds * 1000.0);
}

static int start_pool(struct node *n)
{
    struct worker_pool_config wc = {
        .loop = &n->loop, .log = &n->log, .count = n->cfg->workers,
        .budget_ms = budget_ms(n->cfg->number_timeout_s), .ud = n,
        .stderr_fd = n->log_out != NULL ? fileno(n->log_out) : STDERR_FILENO,
        .make_number = make_number, .on_result = on_result,
        .on_job_end = on_job_end, .on_idle = on_idle,
    };
    n->stats.workers = n->cfg->workers;
    if (worker_pool_start(&n->pool, &wc) != 0) {
        mlog(&n->log, LOG_ERROR, "cannot start the worker pool");
        return -1;
    }
    return 0;
}

static int start_control(struct node *n)
{
    char err[512];
    struct control_config cc = {
        .loop = &n->loop, .log = &n->log, .path = n->control_path, .ud = n,
        .on_request = api_on_request, .on_conn_closed = api_on_conn_closed,
    };
    if (control_start(&n->control, &cc, err, sizeof err) != 0) {
        mlog(&n->log, LOG_ERROR, "%s", err);
        return -1;
    }
    return 0;
}

static void start_handles(struct node *n)
{
    uv_signal_init(&n->loop, &n->sigint);
    uv_signal_init(&n->loop, &n->sigterm);
    n->sigint.data = n->sigterm.data = n;
    uv_signal_start(&n->sigint, on_signal, SIGINT);
    uv_signal_start(&n->sigterm, on_signal, SIGTERM);
    uv_timer_init(&n->loop, &n->tick);
    n->tick.data = n;
    uv_timer_start(&n->tick, on_tick, TICK_MS, TICK_MS);
    uv_check_init(&n->loop, &n->commit_check);
    n->commit_check.data = n;
    uv_check_start(&n->commit_check, on_commit_check);
}

static void node_free(struct node *n)
{
    for (size_t i = 0; i < n->pending.n; i++)
        free(n->pending.items[i].text);
    free(n->pending.items);
    free(n->pending.batch_ids);
    worker_pool_free(n->pool);
    sched_free(n->sched);
    queue_free(n->queue);
    mesh_keys_wipe(&n->keys);
    if (n->lock_fd >= 0)
        close(n->lock_fd);
    if (n->log_out != NULL)
        fclose(n->log_out);
}

int node_run(struct node_config *cfg)
{
    struct node *n = calloc(1, sizeof *n);
    if (n == NULL)
        return 1;
    n->cfg = cfg;
    n->lock_fd = -1;
    signal(SIGPIPE, SIG_IGN); /* a dead worker or client is an error code, not a signal */
    uv_loop_init(&n->loop);
    n->log.level = cfg->log_level;
    n->log.out = stderr;
    int rc = 1;
    if (claim_data_dir(n) != 0 || open_log(n) != 0)
        goto out;
    n->queue = queue_new();
    n->sched = n->queue ? sched_new(n->queue) : NULL;
    if (n->sched == NULL || start_control(n) != 0)
        goto out;
    if (start_pool(n) != 0) {
        n->closing = 1;
        control_stop(n->control, on_subsystem_closed, n);
        uv_run(&n->loop, UV_RUN_DEFAULT);
        goto out;
    }
    if (node_links_start(n) != 0 || node_discovery_start(n) != 0) {
        n->stopping = true;
        n->closing = 2 + node_links_stop(n, on_subsystem_closed);
        control_stop(n->control, on_subsystem_closed, n);
        worker_pool_stop(n->pool, on_subsystem_closed, n);
        uv_run(&n->loop, UV_RUN_DEFAULT);
        goto out;
    }
    start_handles(n);
    n->started_ms = uv_now(&n->loop);
    if (node_wants_ui(cfg))
        node_ui_start(n);
    mlog(&n->log, LOG_INFO, "node %s (%s) up: %u workers, port %u, data dir %s",
         cfg->name, n->keys.id_hex, cfg->workers, n->link_port, cfg->data_dir);
    uv_run(&n->loop, UV_RUN_DEFAULT);
    rc = 0;
out:
    uv_run(&n->loop, UV_RUN_NOWAIT); /* let pending close callbacks run */
    uv_loop_close(&n->loop);
    node_free(n);
    free(n);
    return rc;
}
