/* peers.h - the interface of src/node/peers.c (see that file for why). */
#ifndef MESH_NODE_PEERS_H
#define MESH_NODE_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct node;
struct peer_cluster;

/* peers.c: who leads, who is linked, and sending to a peer. */
/* True when this node is the leader (raft says so). */
bool node_is_leader(const struct node *n);
/* True when a link to that peer is up. */
bool node_linked(const struct node *n, uint64_t peer);
uint64_t node_leader_id(const struct node *n);
const struct peer_cluster *node_peer_cluster(const struct node *n, uint64_t id);
/* True when a verdict about cluster_id from the leader `leader` concerns
 * this node's own cluster (see peers.c). */
bool node_verdict_is_ours(const struct node *n, uint64_t leader, uint64_t cluster_id);
/* Voters this node is linked to, itself included (what a quorum needs). */
struct consensus_status;
unsigned node_reachable_voters(const struct node *n, const struct consensus_status *st);
/* Sends a mesh message (meshmsg.h) to a linked peer; 0 or a libuv error. */
int node_send(struct node *n, uint64_t peer, uint8_t type, const uint8_t *data, size_t len);

#endif
