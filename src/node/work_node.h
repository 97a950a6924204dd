/* work_node.h - the interface of src/node/work_node.c: this node's side of
 * the work plane (work.c) wired to the node's clock, links, consensus and
 * worker pool. */
#ifndef MESH_NODE_WORK_NODE_H
#define MESH_NODE_WORK_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "meshmsg.h"

struct node;
struct worker_pool_config;

/* work_node.c: this node's side of leases (n->work). */
int node_work_start(struct node *n);
void node_work_free(struct node *n);
void node_work_on_lease(struct node *n, uint64_t from, const struct msg_lease *l);
/* Dispatcher rows (routes.c): a MESH_MSG_LEASE, and an applied entry (a
 * cancel aborts the batch's work; a complete or cancel ends its leases). */
void node_work_on_lease_msg(struct node *n, uint64_t peer, const uint8_t *data, size_t len);
struct consensus_applied;
void node_work_on_applied_entry(struct node *n, const struct consensus_applied *a);
void node_work_dispatch(struct node *n);
void node_work_flush(struct node *n);
void node_work_on_leader_change(struct node *n);
/* A tick row: results sent and not committed for a while go again. */
void node_work_tick(struct node *n);
size_t node_work_outbox(const struct node *n);
/* No lease waiting for a worker and every result seen committed. */
bool node_work_settled(const struct node *n);
void node_work_pool_config(struct node *n, struct worker_pool_config *wc);

#endif
