/* lead_node.h - the interface of src/node/lead_node.c: the node's leader
 * half (lead.c) wired to the node's clock, links, consensus and events. */
#ifndef MESH_NODE_LEAD_NODE_H
#define MESH_NODE_LEAD_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "meshmsg.h"

struct node;

/* lead_node.c: the leader's leases and commits, while this node leads
 * (n->lead; every call does nothing when it does not). */
int node_lead_start(struct node *n);
void node_lead_stop(struct node *n);
void node_lead_dispatch(struct node *n);
void node_lead_on_results(struct node *n, uint64_t from, uint64_t batch,
                          const struct msg_result *items, size_t count);
void node_lead_on_lease_end(struct node *n, uint64_t from, const struct msg_lease_end *e);
void node_lead_on_peer_down(struct node *n, uint64_t peer);
/* Dispatcher rows (routes.c): MESH_MSG_RESULTS and MESH_MSG_LEASE_END
 * decoded, and an applied submit or drain (leases to hand out). */
void node_lead_on_results_msg(struct node *n, uint64_t peer, const uint8_t *data, size_t len);
void node_lead_on_lease_end_msg(struct node *n, uint64_t peer, const uint8_t *data, size_t len);
struct consensus_applied;
void node_lead_on_applied(struct node *n, const struct consensus_applied *a);
void node_lead_on_leader_change(struct node *n);
void node_lead_tick(struct node *n);
void node_lead_flush(struct node *n);
void node_lead_on_queue_replaced(struct node *n);
size_t node_lead_leases_of(const struct node *n, uint64_t node_id);

#endif
