/* node.h - the node context: the uv loop and every module's state.
 *
 * run.c starts and stops the modules, routes.c says who handles what
 * (dispatch.h), api.c answers control requests against the same context.
 * Everything a node has lives here: there is no global state. */
#ifndef MESH_NODE_H
#define MESH_NODE_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "control.h"
#include "events.h"
#include "hard.h"
#include "keys.h"
#include "meshmsg.h"
#include "log.h"
#include "queue.h"
#include "scheduler.h"
#include "view.h"
#include "stats.h"
#include "tally.h"
#include "worker.h"

struct results_waiter;
struct metrics;
struct ui;
struct net;
struct discovery;

struct consensus;
struct lead;
struct node_spread;
struct node_route;
struct node_cofactor;
struct work;
struct write_op;
struct members;
struct merge;
struct control_conn;
struct msg_cluster;
struct refusals;
struct damaged;

/* What a peer last said of its cluster (MESH_MSG_CLUSTER). */
struct peer_cluster {
    uint64_t id;
    uint64_t cluster_id, leader, term, applied, members, merging_into;
    bool member;
    uint64_t heard_ms;
};

/* A peer's gossip (4 a second) newer than this is fresh: it is alive. */
enum { NODE_MAX_PEER_INFO = 1024, NODE_PEER_FRESH_MS = 2000 };

struct spill_sync;

struct node {
    struct node_config *cfg;
    uv_loop_t loop;
    struct mesh_log log;
    FILE *log_out;
    int lock_fd;
    struct mesh_keys keys;
    char control_path[4200];

    struct queue *queue;        /* this node's replica */
    struct consensus *cons;     /* the raft log under the queue */
    struct lead *lead;          /* leases and commits: only while leader */
    struct work *work;          /* leases taken and results not yet committed */
    struct refusals *refusals;  /* results refused as leader, per sender */
    struct write_op *writes;    /* client writes waiting for the mesh */
    uint64_t next_write_req;
    unsigned long drop_replies; /* MESH_FAULT_DROP_REPLIES: REPLYs still to lose */
    struct worker_pool *pool;
    uint64_t number_budget_ms;  /* per number (--number-timeout); 0 = none */
    struct control *control;
    struct net *net;            /* peer links */
    struct discovery *disc;     /* mDNS; NULL with --no-mdns */
    uint16_t link_port;         /* the port actually bound */
    struct ui *ui;              /* the dashboard; NULL when headless */
    uv_timer_t ui_timer;        /* feeds it snapshots */
    struct mesh_view snapshot;
    int saved_stderr;           /* the terminal's stderr while the dashboard runs */
    struct metrics *metrics;    /* --metrics: the Prometheus endpoint, or NULL */

    uv_signal_t sigint, sigterm;
    uv_timer_t tick;            /* 1 s: stats */
    uv_check_t commit_check;    /* end of each loop iteration: flush results */
    uv_timer_t cluster_timer;   /* organise, gossip cluster state, lease deadlines */
    const struct node_routes *routes; /* who handles what (dispatch.h) */

    /* Self-organisation (cluster.c). */
    struct peer_cluster *peer_info;
    size_t n_peer_info;
    uint64_t organize_at_ms;    /* no cluster state: decide after this */
    uint64_t last_join_ms;
    uint64_t known_leader;
    bool seen_leader;           /* some leader was known since start */
    struct members *members;    /* autopilot, leaving, removal (members.c) */
    struct merge *merge;        /* moving this cluster into another (merge.c) */
    bool discard_raft_on_exit;  /* left the mesh: the raft state is void */
    bool cluster_restarting;    /* consensus closing to start again */
    bool restart_discard;       /* ... with its raft state discarded */
    struct damaged *damaged;    /* rejoining after damaged raft state (damaged.c) */
    int exit_code;              /* node_run's, once the loop ends */
    uint64_t pex_sent_ms;       /* peer exchange (pex.c) */
    uint64_t retain_next_ms;    /* retention (retain.c): next look */
    uint64_t retain_sent_ms;    /* ... a FORGET proposed then, not answered (0) */
    struct queue_spill *spill;  /* a finished batch moving to disk (spill.c) */
    struct queue_spill *spill_seg;  /* a running batch's full pages, likewise */
    uv_timer_t spill_timer;     /* more slices while spill is behind */
    struct spill_sync *spill_sync, *spill_seg_sync;  /* jobs being named on the pool */
    void (*spill_on_closed)(void *ud);  /* ... awaited by node_stop */
    unsigned spill_closing;
    uint64_t spill_slice_ns;    /* a tick's slice (MESH_SPILL_SLICE_US in tests) */
    uint64_t spill_trim_ms;     /* when segments last gave their heap back */
    bool spill_trim_due;        /* a segment was spilled since */
    const struct queue *spill_queue;  /* ... of this replica */
    uint64_t spill_retry_ms;    /* ... not before, after a failed write */
    struct result_fetch *results;  /* result files here and fetched (result_fetch.c) */

    struct node_hard hard;      /* the long numbers of the peers (hard.c) */
    struct node_spread *spread; /* the leader's spread batches (spread.c) */
    struct node_route *route;   /* the leader's routed hard numbers (spread_hold.c) */
    struct node_cofactor *cofactor; /* ... and spread cofactors (spread_cofactor_hold.c) */

    struct results_waiter *waiters;
    bool draining;
    bool stopping;
    unsigned closing;           /* subsystems still closing at shutdown */
    struct node_stats stats;
    struct tally tally;         /* stats.done over the node's life (tally.c) */
    uint64_t started_ms;

    /* The mesh's event log (event_log.c). */
    struct events events;
    bool in_event;              /* logging an event: not an event again */
    struct mesh_view *events_prev;  /* the leader's previous view */
    bool events_prev_valid, events_was_leader;
    uint64_t forgets_told;      /* the queue's tombstones told as events */
    struct log_ratelimit events_rl, events_bad_rl;
    struct events_waiter *event_waiters;  /* `mesh events` clients */
};

#endif
