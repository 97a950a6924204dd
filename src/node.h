/* node.h - the node context: owns the uv loop and wires every module.
 *
 * node.c is the one place that knows all modules; api.c answers control
 * requests against the same context. Everything a node has lives here:
 * there is no global state. */
#ifndef MESH_NODE_H
#define MESH_NODE_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "control.h"
#include "keys.h"
#include "log.h"
#include "queue.h"
#include "scheduler.h"
#include "snapshot.h"
#include "stats.h"
#include "worker.h"

struct results_waiter;
struct net;
struct discovery;

/* Results of finished numbers not yet committed to the queue: committed
 * together once per loop iteration, many per COMPLETE command (the Raft
 * log will want few large entries, not many small ones). */
struct pending_results {
    struct qresult *items;
    uint64_t *batch_ids;
    size_t n, cap;
};

struct node {
    struct node_config *cfg;
    uv_loop_t loop;
    struct mesh_log log;
    FILE *log_out;
    int lock_fd;
    struct mesh_keys keys;
    char control_path[4200];

    struct queue *queue;
    struct sched *sched;
    struct worker_pool *pool;
    struct control *control;
    struct net *net;            /* peer links */
    struct discovery *disc;     /* mDNS; NULL with --no-mdns */
    uint16_t link_port;         /* the port actually bound */
    struct ui *ui;              /* the dashboard; NULL when headless */
    uv_timer_t ui_timer;        /* feeds it snapshots */
    struct ui_snapshot snapshot;

    uv_signal_t sigint, sigterm;
    uv_timer_t tick;            /* 1 s: stats */
    uv_check_t commit_check;    /* end of each loop iteration: commit results */

    struct pending_results pending;
    struct results_waiter *waiters;
    bool draining;
    bool stopping;
    unsigned closing;           /* subsystems still closing at shutdown */
    struct node_stats stats;
    uint64_t started_ms;
};

/* Runs a node until SIGINT/SIGTERM (or `q` on the dashboard); returns the
 * process exit code. */
int node_run(struct node_config *cfg);
/* Starts a graceful shutdown: every subsystem closes, then node_run returns. */
void node_stop(struct node *n);

/* Commands, shared by the control API (and later the dashboard). */
int node_submit(struct node *n, struct qcmd *submit, uint64_t *batch_id,
                char *err, size_t errlen);
int node_cancel(struct node *n, uint64_t batch_id, char *err, size_t errlen);
void node_set_drain(struct node *n, bool drain);
/* Hands out jobs to idle workers. */
void node_dispatch(struct node *n);

/* node_ui.c: the dashboard, when the node has a terminal. */
struct ui;
bool node_wants_ui(const struct node_config *cfg);
int node_ui_start(struct node *n);
unsigned node_ui_stop(struct node *n, void (*on_closed)(void *ud));

/* node_snapshot.c: the dashboard's copy of the node's state. */
void node_snapshot(const struct node *n, struct ui_snapshot *s);
/* "active", "draining" (workers still finishing) or "drained". */
const char *node_state_name(const struct node *n);

/* node_links.c: peer links and discovery. */
int node_links_start(struct node *n);
int node_discovery_start(struct node *n);
unsigned node_links_stop(struct node *n, void (*on_closed)(void *ud));
/* Appends the peers to `nodes`; adds "port" and "discovery" to `top`. */
void node_links_status(const struct node *n, json_t *nodes, json_t *top);

/* api.c: the control-socket request handlers. */
void api_on_request(void *ud, struct control_conn *c, json_t *req);
void api_on_conn_closed(void *ud, struct control_conn *c);
/* Answers results waiters that can now make progress. */
void api_wake_waiters(struct node *n);
void api_drop_waiters(struct node *n);

#endif
