/* run.c - see run.h. Start-up, the event wiring, and shutdown. */
#include "node.h"
#include "run.h"
#include "api.h"
#include "api_events.h"
#include "cluster.h"
#include "damaged.h"
#include "event_log.h"
#include "lead_node.h"
#include "links.h"
#include "members.h"
#include "memwatch.h"
#include "merge.h"
#include "metrics_feed.h"
#include "refusals.h"
#include "snapshot.h"
#include "result_fetch.h"
#include "spill.h"
#include "tally.h"
#include "terminal.h"
#include "work_node.h"
#include "write.h"

#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "consensus.h"
#include "datadir.h"
#include "numtext.h"

enum { TICK_MS = 1000 };

/* End of every loop iteration: what this node factored goes to the leader,
 * and the leader proposes what it gathered, as few large entries. */
static void on_commit_check(uv_check_t *h)
{
    struct node *n = h->data;
    node_cluster_poll(n);
    node_work_flush(n);
    node_lead_flush(n);
}

/* ---- life cycle ----------------------------------------------------------- */

static void on_tick(uv_timer_t *t)
{
    struct node *n = t->data;
    n->stats.busy = worker_pool_busy(n->pool);
    rate_meter_tick(&n->stats.meter, n->stats.done, uv_now(&n->loop));
    node_tally_save(&n->tally, n->stats.done, uv_now(&n->loop), false);
    node_snapshot(n, &n->snapshot);
    node_events_tick(n);
    node_memwatch_tick(n);
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
    api_events_drop(n);
    uv_close((uv_handle_t *)&n->sigint, NULL);
    uv_close((uv_handle_t *)&n->sigterm, NULL);
    uv_close((uv_handle_t *)&n->tick, NULL);
    uv_close((uv_handle_t *)&n->commit_check, NULL);
    node_members_close(n);
    node_write_fail_all(n, "node shutting down");
    n->closing = 2 + node_spill_close(n, on_subsystem_closed) +
                 node_cluster_stop(n, on_subsystem_closed) +
                 node_links_stop(n, on_subsystem_closed) + node_ui_stop(n, on_subsystem_closed) +
                 node_metrics_stop(n, on_subsystem_closed);
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
    n->number_budget_ms = budget_ms(n->cfg->number_timeout_s);
    struct worker_pool_config wc = {
        .loop = &n->loop, .log = &n->log, .count = n->cfg->workers,
        .budget_ms = n->number_budget_ms,
        .stderr_fd = n->log_out != NULL ? fileno(n->log_out) : STDERR_FILENO,
    };
    node_work_pool_config(n, &wc);
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
    node_spill_init(n);
    uv_check_init(&n->loop, &n->commit_check);
    n->commit_check.data = n;
    uv_check_start(&n->commit_check, on_commit_check);
}

/* After `mesh leave`: this node is no longer in its cluster, and a
 * restart must join afresh rather than revive a configuration that
 * forgot it. Runs once raft has closed its files. */
static void discard_left_state(struct node *n)
{
    char dir[DATADIR_PATH_MAX];
    datadir_raft_path(n->cfg->data_dir, dir, sizeof dir);
    if (n->discard_raft_on_exit && consensus_discard_state(dir) != 0)
        mlog(&n->log, LOG_ERROR, "cannot discard the raft state in %s", dir);
}

static void node_free(struct node *n)
{
    discard_left_state(n);
    node_members_free(n);
    node_merge_free(n);
    node_events_free(n);
    node_work_free(n);
    node_refusals_free(n);
    free(n->peer_info);
    worker_pool_free(n->pool);
    node_spill_stop(n);
    node_results_stop(n);
    queue_free(n->queue);
    mesh_keys_wipe(&n->keys);
    if (n->lock_fd >= 0)
        close(n->lock_fd);
    if (n->log_out != NULL)
        fclose(n->log_out);
}

int node_run(struct node_config *cfg, const struct node_routes *routes)
{
    struct node *n = calloc(1, sizeof *n);
    if (n == NULL)
        return 1;
    n->cfg = cfg;
    n->routes = routes;
    n->tally = (struct tally){.data_dir = cfg->data_dir, .log = &n->log};
    n->lock_fd = -1;
    signal(SIGPIPE, SIG_IGN); /* a dead worker or client is an error code, not a signal */
    /* One malloc arena: glibc gives libuv's pool threads arenas of their
     * own, and what they freed (snapshot encoding, raft's disk I/O) stayed
     * resident there: on soak.sh nodes a 24 MiB arena with 12-19 MiB
     * resident, all of it free (malloc_info). The pool threads allocate
     * seldom (a snapshot's encoding, raft's reads), so the lock they now
     * share with the loop is rarely contended. Workers are processes. */
    mallopt(M_ARENA_MAX, 1);
    uv_loop_init(&n->loop);
    n->log.level = cfg->log_level;
    n->log.out = stderr;
    node_events_start(n);
    int rc = 1;
    if (claim_data_dir(n) != 0 || open_log(n) != 0)
        goto out;
    node_tally_load(&n->tally, &n->stats.done);
    n->queue = queue_new();
    node_write_start(n);
    if (n->queue == NULL || node_work_start(n) != 0 || node_members_start(n) != 0 ||
        start_control(n) != 0)
        goto out;
    if (start_pool(n) != 0) {
        n->closing = 1;
        control_stop(n->control, on_subsystem_closed, n);
        uv_run(&n->loop, UV_RUN_DEFAULT);
        goto out;
    }
    if (node_links_start(n) != 0 || node_discovery_start(n) != 0 ||
        node_cluster_start(n) != 0) {
        n->stopping = true;
        n->closing = 2 + node_links_stop(n, on_subsystem_closed) +
                     node_cluster_stop(n, on_subsystem_closed);
        control_stop(n->control, on_subsystem_closed, n);
        worker_pool_stop(n->pool, on_subsystem_closed, n);
        uv_run(&n->loop, UV_RUN_DEFAULT);
        goto out;
    }
    start_handles(n);
    uv_update_time(&n->loop);
    n->started_ms = uv_now(&n->loop);
    if (node_metrics_start(n) != 0) {   /* the address was asked for: no silent run */
        node_stop(n);
        uv_run(&n->loop, UV_RUN_DEFAULT);
        goto out;
    }
    if (node_wants_ui(cfg))
        node_ui_start(n);
    mlog(&n->log, LOG_INFO, "node %s (%s) up: %u workers, port %u, data dir %s",
         cfg->name, n->keys.id_hex, cfg->workers, n->link_port, cfg->data_dir);
    uv_run(&n->loop, UV_RUN_DEFAULT);
    /* the numbers finished while stopping too */
    node_tally_save(&n->tally, n->stats.done, uv_now(&n->loop), true);
    rc = n->exit_code;
out:
    node_damaged_finish(n);
    uv_run(&n->loop, UV_RUN_NOWAIT); /* let pending close callbacks run */
    uv_loop_close(&n->loop);
    node_free(n);
    free(n);
    return rc;
}
