/* pex.c - peer exchange: a node learns the mesh's other nodes from
 * any one of them.
 *
 * mDNS does not cross routers and `--peer` names one machine; so every node
 * tells its linked peers whom it is linked to (key and listening address),
 * on each new link and every PEX_PERIOD_MS. A receiver dials each key it
 * has no link to, pinned to that key, so an address that lies reaches
 * nobody but the key's owner. A `--peer` chain a->b->c thus ends with every
 * node linked to every node it can reach. The sender holds the authkey
 * (the link proved it), so these dials skip the per-host cap that guards
 * against unauthenticated mDNS announcements. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "pex.h"
#include "peers.h"
#include "net.h"

enum { PEX_PERIOD_MS = 10000 };

static void fill_peers(const struct node *n, uint64_t except, struct msg_peers *m)
{
    m->n = 0;
    for (size_t i = 0; i < net_peer_count(n->net) && m->n < MESH_MSG_MAX_PEERS; i++) {
        const struct net_peer *p = net_peer_at(n->net, i);
        if (!p->connected || p->id == except || p->addr[0] == '\0')
            continue;
        struct msg_peer *out = &m->peers[m->n++];
        memcpy(out->key, p->pk, sizeof out->key);
        snprintf(out->addr, sizeof out->addr, "%s", p->addr);
    }
}

void node_pex_send(struct node *n, uint64_t to)
{
    if (n->net == NULL)
        return;
    struct msg_peers *m = malloc(sizeof *m);
    uint8_t *buf;
    size_t len;
    if (m == NULL)
        return;
    fill_peers(n, to, m);
    if (m->n > 0 && msg_peers_encode(m, &buf, &len) == 0) {
        node_send(n, to, MESH_MSG_PEERS, buf, len);
        free(buf);
    }
    free(m);
}

void node_pex_tick(struct node *n)
{
    uint64_t now = uv_now(&n->loop);
    if (n->net == NULL || now - n->pex_sent_ms < PEX_PERIOD_MS)
        return;
    n->pex_sent_ms = now;
    for (size_t i = 0; i < net_peer_count(n->net); i++) {
        const struct net_peer *p = net_peer_at(n->net, i);
        if (p->connected)
            node_pex_send(n, p->id);
    }
}

static void dial_vouched(struct node *n, const struct msg_peer *p)
{
    uint64_t id = mesh_node_id_of(p->key);
    const struct net_peer *known = net_peer_find(n->net, id);
    if (id == n->keys.node_id || (known != NULL && known->connected))
        return;
    char host[256];
    uint16_t port;
    if (config_split_hostport(p->addr, host, sizeof host, &port) != 0 || port == 0)
        return;
    if (net_dial_vouched(n->net, host, port, p->key) == 0)
        mlog(&n->log, LOG_DEBUG, "peer exchange: dialing %016llx at %s",
             (unsigned long long)id, p->addr);
}

void node_pex_on_message(struct node *n, uint64_t peer, const uint8_t *data, size_t len)
{
    (void)peer; /* the addresses vouch for themselves by their keys */
    struct msg_peers *m = malloc(sizeof *m);
    if (m == NULL || n->net == NULL) {
        free(m);
        return;
    }
    if (msg_peers_decode(m, data, len) == 0)
        for (size_t i = 0; i < m->n; i++)
            dial_vouched(n, &m->peers[i]);
    free(m);
}
