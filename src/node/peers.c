/* peers.c - who leads, who is linked, and sending to a peer: the small
 * questions every part of the runtime asks (they were in cluster.c, which
 * made the router a dependency of everything it routes to). */
#include "peers.h"

#include "consensus.h"
#include "net.h"
#include "node.h"

bool node_is_leader(const struct node *n)
{
    return n->cons != NULL && consensus_leader(n->cons) == n->keys.node_id;
}

/* Raft's view now (known_leader lags by up to a tick: it only marks
 * leadership changes for follow_leadership). */
uint64_t node_leader_id(const struct node *n)
{
    return n->cons != NULL ? consensus_leader(n->cons) : 0;
}

const struct peer_cluster *node_peer_cluster(const struct node *n, uint64_t id)
{
    for (size_t i = 0; i < n->n_peer_info; i++)
        if (n->peer_info[i].id == id)
            return &n->peer_info[i];
    return NULL;
}

/* Only the leader of this node's own cluster decides its membership. An id
 * of 0 names no cluster; a node that never heard its cluster's id (it
 * joined a moment before gossip told it) knows its cluster's leader as a
 * member of its configuration. */
bool node_verdict_is_ours(const struct node *n, uint64_t leader, uint64_t cluster_id)
{
    const struct peer_cluster *pc = node_peer_cluster(n, leader);
    uint64_t mine = consensus_cluster_id(n->cons);
    if (pc == NULL || pc->leader != leader || cluster_id == 0)
        return false;
    return cluster_id == mine || (mine == 0 && consensus_is_member(n->cons, leader));
}

int node_send(struct node *n, uint64_t peer, uint8_t type, const uint8_t *data, size_t len)
{
    return n->net != NULL ? net_send(n->net, peer, type, data, len) : UV_ENOTCONN;
}

bool node_linked(const struct node *n, uint64_t peer)
{
    const struct net_peer *p = n->net ? net_peer_find(n->net, peer) : NULL;
    return p != NULL && p->connected;
}

/* Voters this node can reach (itself included): what a quorum needs. */
unsigned node_reachable_voters(const struct node *n, const struct consensus_status *st)
{
    unsigned reachable = 0;
    for (size_t i = 0; i < st->n_members; i++) {
        const struct consensus_member *m = &st->members[i];
        if (m->role == CONSENSUS_VOTER && (m->id == n->keys.node_id || node_linked(n, m->id)))
            reachable++;
    }
    return reachable;
}
