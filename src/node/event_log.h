/* event_log.h - the interface of src/node/event_log.c (see that file for why). */
#ifndef MESH_NODE_EVENT_LOG_H
#define MESH_NODE_EVENT_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "events.h"

struct node;

/* event_log.c: the mesh's event log (events.h). node_event() records an
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
/* Once a second: the leader tells what changed in its view of the mesh,
 * n->snapshot, which the caller has just taken (the log stands below the
 * view: the view reads the modules that record events). */
void node_events_tick(struct node *n);
struct net_peer;
void node_events_on_message(struct node *n, const struct net_peer *p, const uint8_t *data,
                            size_t len);
/* The same as a dispatcher row (routes.c), the peer by id. */
void node_events_on_msg(struct node *n, uint64_t peer, const uint8_t *data, size_t len);

#endif
