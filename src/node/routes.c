/* routes.c - the runtime at a glance: which module handles each link
 * message, what runs on every cluster tick and what follows each applied
 * entry, in the order they run (dispatch.h). The order is behaviour: the
 * cluster organises and follows leadership before anyone leases, writes
 * settle before work is dispatched, and the merge and membership ticks come
 * last because they may restart consensus. */
#include "dispatch.h"

#include "api.h"
#include "cluster.h"
#include "consensus.h"
#include "damaged.h"
#include "hard.h"
#include "event_log.h"
#include "lead_node.h"
#include "members.h"
#include "merge.h"
#include "node.h"
#include "run.h"
#include "meshmsg.h"
#include "pex.h"
#include "result_fetch.h"
#include "retain.h"
#include "spill.h"
#include "spread.h"
#include "spread_cofactor.h"
#include "spread_route.h"
#include "work_node.h"
#include "write.h"

static const struct node_msg_route messages[] = {
    {CONSENSUS_MSG_FIRST, CONSENSUS_MSG_LAST, false, "cluster", NULL, node_cluster_on_raft_msg},
    {MESH_MSG_CLUSTER, MESH_MSG_CLUSTER, false, "cluster", node_cluster_on_gossip, NULL},
    {MESH_MSG_JOIN, MESH_MSG_JOIN, false, "members", node_members_on_join, NULL},
    {MESH_MSG_PEERS, MESH_MSG_PEERS, false, "pex", node_pex_on_message, NULL},
    {MESH_MSG_LEAVE, MESH_MSG_LEAVE, false, "members", node_members_on_leave, NULL},
    {MESH_MSG_MEMBERSHIP, MESH_MSG_MEMBERSHIP, false, "members", node_members_on_verdict, NULL},
    {MESH_MSG_FORWARD, MESH_MSG_FORWARD, false, "write", node_write_on_forward, NULL},
    {MESH_MSG_REPLY, MESH_MSG_REPLY, false, "write", node_write_on_reply, NULL},
    {MESH_MSG_REPLY, MESH_MSG_REPLY, false, "merge", node_merge_on_reply, NULL},
    {MESH_MSG_LEASE, MESH_MSG_LEASE, false, "work", node_work_on_lease_msg, NULL},
    {MESH_MSG_RESULTS, MESH_MSG_RESULTS, false, "lead", node_lead_on_results_msg, NULL},
    {MESH_MSG_LEASE_END, MESH_MSG_LEASE_END, false, "lead", node_lead_on_lease_end_msg, NULL},
    /* The event log is the link's, not the cluster's: told while consensus
     * restarts too. */
    {MESH_MSG_EVENT, MESH_MSG_EVENT, true, "event_log", node_events_on_msg, NULL},
    {MESH_MSG_PROGRESS, MESH_MSG_PROGRESS, true, "hard", node_hard_on_msg, NULL},
    {MESH_MSG_FILE_GET, MESH_MSG_FILE_GET, false, "results", node_results_on_get, NULL},
    {MESH_MSG_FILE_PART, MESH_MSG_FILE_PART, false, "results", node_results_on_part, NULL},
    {0, 0, false, NULL, NULL, NULL},
};

static const struct node_tick_route ticks[] = {
    {"cluster", node_cluster_tick},
    {"lead", node_lead_tick},
    {"spread", node_spread_tick}, /* hands the leader a hard number's factors */
    {"spread_route", node_route_tick}, /* ... and those of a routed one to its batch */
    {"spread_cofactor", node_cofactor_tick}, /* ... and N's with its cofactor's */
    {"retain", node_retain_tick},
    {"spill", node_spill_tick},
    {"results", node_results_tick},
    {"write", node_write_progress},
    {"work", node_work_tick},
    {"work", node_work_dispatch},
    {"api", api_wake_waiters}, /* results waiters for a batch that never came */
    {"pex", node_pex_tick},
    {"hard", node_hard_tick},
    {"merge", node_merge_tick}, /* these three may restart consensus */
    {"members", node_members_tick},
    {"damaged", node_damaged_tick},
    {NULL, NULL},
};

static const struct node_applied_route applied[] = {
    {"cluster", node_cluster_on_applied, NULL},
    {"work", node_work_on_applied_entry, NULL},
    {"api", NULL, api_wake_waiters},
    {"write", NULL, node_write_progress},
    {"work", NULL, node_work_dispatch},
    {"lead", node_lead_on_applied, NULL},
    {"spread", node_spread_on_applied, NULL},
    {NULL, NULL, NULL},
};

/* A snapshot replaced the replica: the batch being spilled is read anew,
 * the leader's leases are rebuilt, waiters look again. */
static const struct node_tick_route restored[] = {
    {"spill", node_spill_stop},
    {"results", node_results_on_restored},
    {"lead", node_lead_on_queue_replaced},
    {"api", api_wake_waiters},
    {NULL, NULL},
};

/* A new leader (cluster.c follows raft every loop iteration): it starts
 * leasing, and every node re-sends what the old one may not have
 * committed. */
static const struct node_tick_route leader[] = {
    {"members", node_members_on_leader_change},
    {"lead", node_lead_on_leader_change},
    {"work", node_work_on_leader_change},
    {"write", node_write_progress},
    {"lead", node_lead_dispatch},
    {NULL, NULL},
};

static const struct node_peer_route peer_up[] = {
    {"cluster", node_cluster_on_peer_up},
    {"pex", node_pex_send},
    {NULL, NULL},
};

static const struct node_peer_route peer_down[] = {
    {"cluster", node_cluster_on_raft_peer_down},
    {"lead", node_lead_on_peer_down},
    {"cluster", node_cluster_on_peer_down},
    {NULL, NULL},
};

/* A batch's results file was loaded or fetched (result_fetch.c, which
 * does not call the readers' module itself: api.c asks it how a fetch
 * stands, so a direct call would make a circle). */
static const struct node_tick_route readable[] = {
    {"api", api_wake_waiters},
    {NULL, NULL},
};

const struct node_routes node_routes = {
    .messages = messages, .ticks = ticks, .applied = applied, .restored = restored,
    .leader = leader, .readable = readable, .peer_up = peer_up, .peer_down = peer_down,
    .stop = node_stop, .restart = node_cluster_restart,
    .own_lease = node_work_on_lease, .own_results = node_lead_on_results,
    .own_lease_end = node_lead_on_lease_end,
};
