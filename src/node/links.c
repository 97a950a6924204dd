/* links.c - the node's wiring of peer links (src/net) and mDNS
 * discovery (src/mdns): discovered peers are dialed with their key pinned,
 * static --peer addresses are dialed by the link layer with backoff, and
 * link events become log lines. Liveness comes from the links alone. */
#include <stdio.h>
#include <string.h>

#include "node.h" /* first: declares struct net for net.h */
#include "links.h"
#include "dispatch.h"
#include "authkey.h"
#include "discovery.h"
#include "net.h"

static void on_peer_up(void *ud, const struct net_peer *p)
{
    struct node *n = ud;
    mlog(&n->log, LOG_DEBUG, "peer %s (%s) at %s linked: %u workers", p->name, p->id_hex,
         p->addr, p->workers);
    dispatch_peer(n->routes, n, p->id, true);
}

static void on_peer_down(void *ud, const struct net_peer *p)
{
    struct node *n = ud;
    mlog(&n->log, LOG_DEBUG, "peer %s (%s) down", p->name, p->id_hex);
    dispatch_peer(n->routes, n, p->id, false);
}

static void on_message(void *ud, const struct net_peer *p, uint8_t type,
                       const uint8_t *data, size_t len)
{
    struct node *n = ud;
    dispatch_message(n->routes, n, p->id, type, data, len);
}

static void fill_stats(void *ud, struct net_stats *out)
{
    struct node *n = ud;
    out->rate = n->stats.meter.rate;
    out->busy = worker_pool_busy(n->pool);
    out->done = n->stats.done;
    out->draining = n->draining;
}

static int add_static_peers(struct node *n)
{
    for (size_t i = 0; i < n->cfg->n_peers; i++) {
        char host[256];
        uint16_t port;
        if (config_split_hostport(n->cfg->peers[i], host, sizeof host, &port) != 0 ||
            net_add_static_peer(n->net, host, port) != 0) {
            mlog(&n->log, LOG_ERROR, "cannot use peer %s", n->cfg->peers[i]);
            return -1;
        }
    }
    return 0;
}

int node_links_start(struct node *n)
{
    struct net_config nc = {
        .loop = &n->loop, .log = &n->log, .keys = &n->keys, .name = n->cfg->name,
        .port = n->cfg->port, .workers = n->cfg->workers, .ud = n,
        .on_peer_up = on_peer_up, .on_peer_down = on_peer_down,
        .on_message = on_message, .fill_stats = fill_stats,
    };
    int rc = net_start(&n->net, &nc);
    if (rc != 0) {
        mlog(&n->log, LOG_ERROR, "cannot listen for peers on port %u: %s", n->cfg->port,
             uv_strerror(rc));
        return -1;
    }
    n->link_port = net_port(n->net);
    if (n->cfg->authkey_weak)
        mlog(&n->log, LOG_WARN, "%s", AUTHKEY_WEAK_RISK);
    if (n->cfg->authkey_file_mode != 0)
        mlog(&n->log, LOG_WARN, "authkey file %s has mode %04o: other users of this machine "
             "can read the key and join the mesh; chmod 600 %s", n->cfg->authkey_file,
             n->cfg->authkey_file_mode, n->cfg->authkey_file);
    return add_static_peers(n);
}

static void on_discovered(void *ud, const struct discovery_peer *p)
{
    struct node *n = ud;
    mlog(&n->log, LOG_INFO, "discovered %s (%s) at %s:%u", p->name, p->id_hex, p->address,
         p->port);
    if (net_dial(n->net, p->address, p->port, p->pk) != 0)
        mlog(&n->log, LOG_WARN, "cannot dial discovered peer %s", p->id_hex);
}

static void on_discovery_gone(void *ud, const struct discovery_peer *p)
{
    struct node *n = ud;
    net_undial(n->net, p->address, p->port, p->pk);
}

int node_discovery_start(struct node *n)
{
    if (n->cfg->no_mdns)
        return 0;
    char pk_hex[2 * MESH_KEY_BYTES + 1];
    for (int i = 0; i < MESH_KEY_BYTES; i++)
        snprintf(pk_hex + 2 * i, 3, "%02x", n->keys.pk[i]);
    struct discovery_config dc = {
        .loop = &n->loop, .log = &n->log, .name = n->cfg->name, .port = n->link_port,
        .id_hex = n->keys.id_hex, .pk_hex = pk_hex, .tag_hex = n->keys.tag_hex,
        .version = NET_PROTOCOL_VERSION, .ud = n, .on_peer = on_discovered,
        .on_peer_gone = on_discovery_gone,
    };
    if (discovery_start(&n->disc, &dc) != 0) {
        mlog(&n->log, LOG_ERROR, "cannot start mDNS discovery");
        return -1;
    }
    return 0;
}

/* Stops both; each calls on_closed(n) once when done. Returns how many. */
unsigned node_links_stop(struct node *n, void (*on_closed)(void *ud))
{
    unsigned count = 0;
    if (n->disc != NULL) {
        discovery_stop(n->disc, on_closed);
        n->disc = NULL;
        count++;
    }
    if (n->net != NULL) {
        net_stop(n->net, on_closed);
        n->net = NULL;
        count++;
    }
    return count;
}

void node_links_status(const struct node *n, json_t *top)
{
    json_object_set_new(top, "port", json_integer(n->link_port));
    json_object_set_new(top, "authkey_weak", json_boolean(n->cfg->authkey_weak));
    if (n->cfg->authkey_weak)
        json_object_set_new(top, "authkey_warning", json_string(AUTHKEY_WEAK_RISK));
    if (n->disc == NULL) {
        json_object_set_new(top, "discovery", json_pack("{s:b}", "enabled", 0));
        return;
    }
    struct discovery_status ds;
    discovery_status(n->disc, &ds);
    json_object_set_new(top, "discovery",
        json_pack("{s:b, s:b, s:s, s:i, s:i}", "enabled", 1, "daemon_running",
                  ds.daemon_running, "published_name", ds.published_name,
                  "foreign_meshes", (int)ds.foreign_meshes, "peers_seen",
                  (int)ds.peers_seen));
}
