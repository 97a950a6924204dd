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
#include "events.h"
#include "keys.h"
#include "meshmsg.h"
#include "log.h"
#include "queue.h"
#include "scheduler.h"
#include "view.h"
#include "stats.h"
#include "worker.h"

struct results_waiter;
struct metrics;
struct ui;
struct net;
struct discovery;

struct consensus;
struct lead;
struct work;
struct write_op;
struct members;
struct merge;
struct control_conn;
struct msg_cluster;
struct refusals;

/* What a peer last said of its cluster (MESH_MSG_CLUSTER). */
struct peer_cluster {
    uint64_t id;
    uint64_t cluster_id, leader, term, applied, members, merging_into;
    bool member;
    uint64_t heard_ms;
};

/* A peer's gossip (4 a second) newer than this is fresh: it is alive. */
enum { NODE_MAX_PEER_INFO = 1024, NODE_PEER_FRESH_MS = 2000 };

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

    /* Self-organisation (node_cluster.c). */
    struct peer_cluster *peer_info;
    size_t n_peer_info;
    uint64_t organize_at_ms;    /* no cluster state: decide after this */
    uint64_t last_join_ms;
    uint64_t known_leader;
    bool seen_leader;           /* some leader was known since start */
    struct members *members;    /* autopilot, leaving, removal (node_members.c) */
    struct merge *merge;        /* moving this cluster into another (node_merge.c) */
    bool discard_raft_on_exit;  /* left the mesh: the raft state is void */
    bool cluster_restarting;    /* consensus closing to start again */
    bool restart_discard;       /* ... with its raft state discarded */
    uint64_t pex_sent_ms;       /* peer exchange (node_pex.c) */
    uint64_t retain_next_ms;    /* retention (node_retain.c): next look */
    uint64_t retain_sent_ms;    /* ... a FORGET proposed then, not answered (0) */
    struct queue_spill *spill;  /* results moving to disk (node_spill.c) */
    const struct queue *spill_queue;  /* ... of this replica */
    uint64_t spill_retry_ms;    /* ... not before, after a failed write */

    struct results_waiter *waiters;
    bool draining;
    bool stopping;
    unsigned closing;           /* subsystems still closing at shutdown */
    struct node_stats stats;
    uint64_t tally_saved, tally_saved_ms; /* stats.done as last saved (node_tally.c) */
    uint64_t started_ms;

    /* The mesh's event log (node_events.c). */
    struct events events;
    bool in_event;              /* logging an event: not an event again */
    struct mesh_view *events_prev;  /* the leader's previous view */
    bool events_prev_valid, events_was_leader;
    uint64_t forgets_told;      /* the queue's tombstones told as events */
    struct log_ratelimit events_rl, events_bad_rl;
    struct events_waiter *event_waiters;  /* `mesh events` clients */
};

/* Runs a node until SIGINT/SIGTERM (or `q` on the dashboard); returns the
 * process exit code. */
int node_run(struct node_config *cfg);
/* Starts a graceful shutdown: every subsystem closes, then node_run returns. */
void node_stop(struct node *n);

/* node_tally.c: stats.done over the node's whole life, in the data dir. */
void node_tally_load(struct node *n);
void node_tally_save(struct node *n, bool now);

/* node_retain.c: the leader forgets what --keep-results and
 * --results-budget say (one FORGET at a time, once a second at most). */
void node_retain_tick(struct node *n);
/* Running batches alone fill the budget: new submits are refused (err). */
bool node_retain_full(const struct node *n, char *err, size_t errlen);

/* node_spill.c: a slice of moving finished batches' results to the data
 * dir, each tick; stop drops the job in progress. */
void node_spill_tick(struct node *n);
void node_spill_stop(struct node *n);

/* node_write.c: every write (submit, cancel, drain) goes through the
 * leader's log. done runs once: rc 0 when THIS node's replica has applied
 * the entry (so a read that follows sees it), -1 refused or failed (err). */
typedef void (*node_write_cb)(void *ud, int rc, uint64_t batch_id, const char *err);
/* tag: what node_write_forget() matches (the client connection). */
void node_write(struct node *n, const struct qcmd *cmd, node_write_cb done, void *ud,
                void *tag);
/* Leader side of a forwarded write. */
void node_write_on_forward(struct node *n, uint64_t peer, const uint8_t *data, size_t len);
void node_write_on_reply(struct node *n, uint64_t peer, const uint8_t *data, size_t len);
/* Applied index advanced, or the leader changed: finish what can be. */
void node_write_progress(struct node *n);
void node_write_fail_all(struct node *n, const char *why);
/* A client went away: its waiting writes still call done, with rc
 * NODE_WRITE_GONE, so the caller frees what it must and answers nobody. */
enum { NODE_WRITE_GONE = -3 };
void node_write_forget(struct node *n, void *tag);
/* "no quorum: 1 of 3 voters reachable" (or "no leader elected yet"). */
void node_quorum_text(const struct node *n, char *buf, size_t len);
void node_set_drain(struct node *n, bool drain);

/* node_cluster.c: consensus wiring and self-organisation. */
int node_cluster_start(struct node *n);
unsigned node_cluster_stop(struct node *n, void (*on_closed)(void *ud));
void node_cluster_on_message(struct node *n, uint64_t peer, uint8_t type,
                             const uint8_t *data, size_t len);
void node_cluster_on_peer(struct node *n, uint64_t peer, bool up);
/* Follows leadership changes; the node calls it every loop iteration. */
void node_cluster_poll(struct node *n);
/* True when this node is the leader (raft says so). */
bool node_is_leader(const struct node *n);
/* True when a link to that peer is up. */
bool node_linked(const struct node *n, uint64_t peer);
uint64_t node_leader_id(const struct node *n);
const struct peer_cluster *node_peer_cluster(const struct node *n, uint64_t id);
/* True when a verdict about cluster_id from the leader `leader` concerns
 * this node's own cluster (see node_cluster.c). */
bool node_verdict_is_ours(const struct node *n, uint64_t leader, uint64_t cluster_id);

/* Closes consensus and starts it again on a fresh replica (after a forced
 * recovery request, or with the raft state discarded: --rejoin). */
void node_cluster_restart(struct node *n, bool discard);

/* node_members.c: autopilot (the leader keeps --voters voters), leaving,
 * and nodes removed while away. */
int node_members_start(struct node *n);
void node_members_free(struct node *n);
void node_members_reset(struct node *n);
void node_members_close(struct node *n);
void node_members_tick(struct node *n);
void node_members_on_leadership(struct node *n);
void node_members_on_gossip(struct node *n, uint64_t peer, const struct msg_cluster *m);
void node_members_on_verdict(struct node *n, uint64_t peer, const uint8_t *data, size_t len);
void node_members_on_leave(struct node *n, uint64_t peer);
void node_members_on_join(struct node *n, uint64_t peer);
void node_members_step(struct node *n);
void node_members_on_changed(struct node *n, uint64_t id, bool stays);
void node_members_leave(struct node *n, struct control_conn *c);
void node_members_recover(struct node *n, struct control_conn *c);
void node_members_forget(struct node *n, struct control_conn *c);
bool node_members_was_removed(const struct node *n, uint64_t id);
bool node_members_estranged(const struct node *n);
bool node_members_leaving(const struct node *n);

/* node_merge.c: two clusters that meet become one. */
void node_merge_tick(struct node *n);
bool node_merge_active(const struct node *n);
uint64_t node_merge_into(const struct node *n);
void node_merge_on_reply(struct node *n, uint64_t peer, const uint8_t *data, size_t len);
void node_merge_on_dissolved(struct node *n, uint64_t peer, uint64_t cluster_id);
void node_merge_free(struct node *n);

/* node_pex.c: peer exchange. */
void node_pex_send(struct node *n, uint64_t to);
void node_pex_tick(struct node *n);
void node_pex_on_message(struct node *n, const uint8_t *data, size_t len);

/* node_lead.c: the leader's leases and commits. */
int node_lead_start(struct node *n);
void node_lead_stop(struct node *n);
void node_lead_dispatch(struct node *n);
void node_lead_on_results(struct node *n, uint64_t from, uint64_t batch,
                          const struct msg_result *items, size_t count);
void node_lead_on_lease_end(struct node *n, uint64_t from, const struct msg_lease_end *e);
void node_lead_on_peer_down(struct node *n, uint64_t peer);
void node_lead_tick(struct node *n);
void node_lead_flush(struct node *n);
void node_lead_on_queue_replaced(struct node *n);
size_t node_lead_leases_of(const struct node *n, uint64_t node_id);

/* node_refusals.c: results the leader refused, per sender. note() counts
 * one, logs it (rate-limited) and, when `wrong` (it failed the check, as
 * opposed to coming without a lease), counts a strike against a member and
 * drains it after a run of them. skip() counts results not read after a
 * wrong one (the rest of its message). */
void node_refusals_note(struct node *n, uint64_t from, uint64_t batch, uint64_t index,
                        const char *why, bool wrong);
void node_refusals_skip(struct node *n, uint64_t from, size_t count);
uint64_t node_refusals_of(const struct node *n, uint64_t id);
void node_refusals_free(struct node *n);

/* node_work.c: this node's side of leases. */
int node_work_start(struct node *n);
void node_work_free(struct node *n);
void node_work_on_lease(struct node *n, uint64_t from, const struct msg_lease *l);
void node_work_dispatch(struct node *n);
void node_work_flush(struct node *n);
void node_work_on_leader_change(struct node *n);
void node_work_on_applied(struct node *n, uint64_t batch_id);
void node_work_abort_batch(struct node *n, uint64_t batch_id);
size_t node_work_outbox(const struct node *n);
void node_work_pool_config(struct node *n, struct worker_pool_config *wc);

/* Sends a mesh message (meshmsg.h) to a linked peer; 0 or a libuv error. */
int node_send(struct node *n, uint64_t peer, uint8_t type, const uint8_t *data, size_t len);

/* node_ui.c: the dashboard, when the node has a terminal. */
bool node_wants_ui(const struct node_config *cfg);
int node_ui_start(struct node *n);
unsigned node_ui_stop(struct node *n, void (*on_closed)(void *ud));

/* node_view.c: the one view of the mesh (dashboard and status --json). */
void node_snapshot(const struct node *n, struct mesh_view *s);
/* Voters this node is linked to, itself included (what a quorum needs). */
struct consensus_status;
unsigned node_reachable_voters(const struct node *n, const struct consensus_status *st);
/* "active", "draining" (workers still finishing) or "drained". */
const char *node_state_name(const struct node *n);

/* node_events.c: the mesh's event log (events.h). node_event() records an
 * event of this node, logs it (error: LOG_ERROR, refused and warning:
 * LOG_WARN, else LOG_INFO) and tells every linked peer once; `mesh events`,
 * the dashboard and the metrics show it. Call it on ONE node per fact:
 * where it happens (a node leaving, a refusal) or on the leader for a
 * change of the replicated state (e.g. MESH_EV_MEMBER when the leader's
 * raft_assign/raft_remove succeeds), never from the state machine's apply
 * (every replica would tell it again). Joins, nodes going down, drains,
 * batches and elections are already told by the leader from its view. */
void node_event(struct node *n, enum mesh_event_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void node_events_start(struct node *n);
void node_events_free(struct node *n);
/* Once a second: the leader tells what changed in its view of the mesh. */
void node_events_tick(struct node *n);
struct net_peer;
void node_events_on_message(struct node *n, const struct net_peer *p, const uint8_t *data,
                            size_t len);

/* node_metrics.c: --metrics (metrics.h). Start: 0, or -1 (logged). */
int node_metrics_start(struct node *n);
unsigned node_metrics_stop(struct node *n, void (*on_closed)(void *ud));

/* node_links.c: peer links and discovery. */
int node_links_start(struct node *n);
int node_discovery_start(struct node *n);
unsigned node_links_stop(struct node *n, void (*on_closed)(void *ud));
/* Adds "port" and "discovery" to `top`. */
void node_links_status(const struct node *n, json_t *top);

/* api.c: the control-socket request handlers. */

void api_on_request(void *ud, struct control_conn *c, json_t *req);
/* A submit request (the JSON `mesh submit` sends) as a command; 0 or -1
 * with err. The dashboard's form submits through it too. */
int api_submit_command(struct qcmd *cmd, json_t *req, char *err, size_t errlen);
/* NODE by name, hex id or unique id prefix (NULL: this node): 0, -1 none,
 * -2 ambiguous. */
int api_resolve_node(struct node *n, const char *which, uint64_t *id);
void api_on_conn_closed(void *ud, struct control_conn *c);
/* Answers results waiters that can now make progress. */
void api_wake_waiters(struct node *n);
void api_drop_waiters(struct node *n);
/* api_events.c: `mesh events` (long polls answered as events arrive). */
struct events_waiter;
void api_events(struct node *n, struct control_conn *c, json_t *req);
void api_events_wake(struct node *n);
void api_events_forget(struct node *n, struct control_conn *c);
void api_events_drop(struct node *n);

#endif
