/* cluster.h - the interface of src/node/cluster.c (see that file for why). */
#ifndef MESH_NODE_CLUSTER_H
#define MESH_NODE_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct node;

/* cluster.c: consensus wiring and self-organisation. */
int node_cluster_start(struct node *n);
unsigned node_cluster_stop(struct node *n, void (*on_closed)(void *ud));
/* Rows of the dispatcher (routes.c): raft's messages, a peer's gossip
 * (MESH_MSG_CLUSTER), the cluster's part of the tick and of each applied
 * entry. */
void node_cluster_on_raft_msg(struct node *n, uint64_t peer, uint8_t type, const uint8_t *data,
                              size_t len);
void node_cluster_on_gossip(struct node *n, uint64_t peer, const uint8_t *data, size_t len);
void node_cluster_tick(struct node *n);
struct consensus_applied;
void node_cluster_on_applied(struct node *n, const struct consensus_applied *a);
void node_cluster_on_peer_up(struct node *n, uint64_t peer);
void node_cluster_on_raft_peer_down(struct node *n, uint64_t peer);
void node_cluster_on_peer_down(struct node *n, uint64_t peer);
/* Follows leadership changes; the node calls it every loop iteration. */
void node_cluster_poll(struct node *n);

/* Closes consensus and starts it again on a fresh replica (after a forced
 * recovery request, or with the raft state discarded: --rejoin). */
void node_cluster_restart(struct node *n, bool discard);

#endif
