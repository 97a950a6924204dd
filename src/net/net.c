/* net.c - see net.h. Owns the listener, the dial targets (static and
 * discovered peers, with reconnect backoff), the connections and the peer
 * table; peer_link.c does the bytes of one connection. */
#include "net.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr_limit.h"
#include "frame.h"
#include "handshake.h"
#include "peer_link.h"
#include "target_addrs.h"

/* One connection as the manager sees it. */
struct conn {
    struct net *net;
    struct peer_link *link;
    struct dial_target *target;  /* NULL for inbound connections */
    struct peer_slot *peer;      /* set while this is the peer's active link */
    uint64_t peer_id;            /* from the handshake key, once up */
    bool inbound, counted_pending, refused, hello;
    uint64_t since_ms;           /* connection accepted or dialed */
    uint64_t hello_ms;           /* the peer's HELLO arrived */
    uint64_t last_rx_ms;
    struct conn *next, *prev;
};

/* A peer we keep dialing: a static --peer (one address, forever) or a
 * discovered peer (key pinned, several addresses that can expire). */
struct dial_target {
    struct net *net;
    struct target_addrs addrs;
    bool pinned;                 /* pk known in advance and checked */
    uint8_t pk[MESH_KEY_BYTES];
    uint64_t node_id;            /* learned on first hello; 0 = unknown */
    bool linked;                 /* a link to it has come up, ever */
    uv_timer_t timer;
    uv_getaddrinfo_t gai;
    bool resolving;
    struct conn *conn;
    uint32_t backoff_ms;
};

struct peer_slot {
    struct net_peer pub;
    struct conn *active;
};

struct net {
    struct net_config cfg;
    uv_tcp_t listener;
    uv_timer_t tick;
    uint64_t last_tick_ms;       /* when on_tick last ran */
    struct conn *conns;
    size_t nconns, pending_inbound;
    struct peer_slot **peers;
    size_t npeers;
    struct dial_target **targets;
    size_t ntargets;
    struct addr_limiter limiter;
    struct link_budget budget;   /* all links' buffer bytes */
    /* One limiter per cause: unauthenticated junk, refused connections,
     * authenticated peers breaking the protocol, peer up/down, dial targets,
     * evicted handshakes. */
    struct log_ratelimit rl_handshake, rl_refused, rl_protocol, rl_peer, rl_target,
        rl_evict;
    bool stopping;
    int resolving;               /* getaddrinfo requests in flight */
    int closing;                 /* handles/links/requests still to finish */
    void (*stop_done)(void *ud);
};

enum { MAX_TARGETS = 256, JITTER_DIVISOR = 4 };

static uint64_t now_ms(const struct net *net) { return uv_now(net->cfg.loop); }

/* ---------- configuration ---------- */

static uint32_t or_default(uint32_t v, uint32_t dflt) { return v != 0 ? v : dflt; }

static void apply_defaults(struct net_config *c)
{
    c->tick_ms = or_default(c->tick_ms, 1000);
    c->dead_after_ms = or_default(c->dead_after_ms, 3000);
    c->handshake_timeout_ms = or_default(c->handshake_timeout_ms, 5000);
    c->first_msg_timeout_ms = or_default(c->first_msg_timeout_ms, 1000);
    c->max_pending = or_default(c->max_pending, 64);
    c->max_pending_per_addr = or_default(c->max_pending_per_addr, 8);
    c->stable_link_ms = or_default(c->stable_link_ms, 10000);
    c->stall_ms = or_default(c->stall_ms, 5000);
    c->max_targets_per_host = or_default(c->max_targets_per_host, 8);
    c->addr_fail_limit = or_default(c->addr_fail_limit, 5);
    c->handshake_burst = or_default(c->handshake_burst, 20);
    c->handshakes_per_sec = or_default(c->handshakes_per_sec, 5);
    c->reconnect_min_ms = or_default(c->reconnect_min_ms, 250);
    c->reconnect_max_ms = or_default(c->reconnect_max_ms, 10000);
    c->version = or_default(c->version, NET_PROTOCOL_VERSION);
    if (c->max_backlog == 0)
        c->max_backlog = (size_t)4 << 20;
    if (c->max_buffers == 0)
        c->max_buffers = (size_t)64 << 20;
    if (c->listen_host == NULL)
        c->listen_host = "0.0.0.0";
    if (c->name == NULL)
        c->name = "";
}

/* ---------- stop bookkeeping ---------- */

static void finish_stop_if_idle(struct net *net)
{
    if (!net->stopping || net->closing > 0)
        return;
    for (size_t i = 0; i < net->npeers; i++)
        free(net->peers[i]);
    for (size_t i = 0; i < net->ntargets; i++)
        free(net->targets[i]);
    free(net->peers);
    free(net->targets);
    void (*done)(void *) = net->stop_done;
    void *ud = net->cfg.ud;
    free(net);
    if (done != NULL)
        done(ud);
}

static void on_net_handle_closed(uv_handle_t *h)
{
    struct net *net = h->data;
    net->closing--;
    finish_stop_if_idle(net);
}

/* ---------- peer table ---------- */

static struct peer_slot *peer_find(const struct net *net, uint64_t id)
{
    for (size_t i = 0; i < net->npeers; i++)
        if (net->peers[i]->pub.id == id)
            return net->peers[i];
    return NULL;
}

/* The down peer heard from longest ago, or SIZE_MAX when all are up. */
static size_t peer_lru_down(const struct net *net)
{
    size_t victim = SIZE_MAX;
    for (size_t i = 0; i < net->npeers; i++) {
        const struct peer_slot *p = net->peers[i];
        if (p->active == NULL &&
            (victim == SIZE_MAX || p->pub.last_heard_ms < net->peers[victim]->pub.last_heard_ms))
            victim = i;
    }
    return victim;
}

/* Makes room for one more peer: grows the table, or when it is full
 * forgets the longest-unseen down peer (identities minted by a key holder,
 * containers restarted with fresh data dirs). false when every slot is up. */
static bool peer_make_room(struct net *net)
{
    if (net->npeers < NET_MAX_PEERS) {
        struct peer_slot **grown =
            realloc(net->peers, (net->npeers + 1) * sizeof *grown);
        if (grown == NULL)
            return false;
        net->peers = grown;
        return true;
    }
    size_t victim = peer_lru_down(net);
    if (victim == SIZE_MAX)
        return false;
    free(net->peers[victim]);
    memmove(&net->peers[victim], &net->peers[victim + 1],
            (net->npeers - victim - 1) * sizeof net->peers[0]);
    net->npeers--;
    return true;
}

static struct peer_slot *peer_add(struct net *net, const uint8_t pk[MESH_KEY_BYTES])
{
    if (!peer_make_room(net))
        return NULL;
    struct peer_slot *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    memcpy(p->pub.pk, pk, MESH_KEY_BYTES);
    p->pub.id = mesh_node_id_of(pk);
    mesh_id_to_hex(p->pub.id, p->pub.id_hex);
    net->peers[net->npeers++] = p;
    return p;
}

/* ---------- sending our own messages ---------- */

static void send_stats(struct conn *c)
{
    struct net_stats st = {0};
    if (c->net->cfg.fill_stats != NULL)
        c->net->cfg.fill_stats(c->net->cfg.ud, &st);
    uint8_t buf[NET_STATS_BYTES];
    size_t len = net_stats_encode(&st, buf);
    link_send(c->link, NET_MSG_STATS, buf, len);
}

static void send_hello(struct conn *c)
{
    const struct net *net = c->net;
    struct net_hello h = {
        .id = net->cfg.keys->node_id,
        .version = net->cfg.version,
        .workers = net->cfg.workers,
        .listen_port = net_port(net),
    };
    snprintf(h.name, sizeof h.name, "%s", net->cfg.name);
    uint8_t buf[NET_HELLO_MAX_BYTES];
    size_t len = net_hello_encode(&h, buf);
    link_send(c->link, NET_MSG_HELLO, buf, len);
}

/* ---------- connection list ---------- */

static void conn_unlink(struct conn *c)
{
    struct net *net = c->net;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        net->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    net->nconns--;
}

static void pending_done(struct conn *c)
{
    if (c->counted_pending) {
        c->counted_pending = false;
        c->net->pending_inbound--;
    }
}

static void on_link_up(struct peer_link *l, void *ud);
static void on_link_frame(struct peer_link *l, void *ud, uint8_t type,
                          const uint8_t *data, size_t len);
static void on_link_closed(struct peer_link *l, void *ud, const char *reason, bool was_up);

static struct conn *conn_new(struct net *net, struct link_config *lc)
{
    struct conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->net = net;
    c->last_rx_ms = c->since_ms = now_ms(net);
    c->next = net->conns;
    if (net->conns != NULL)
        net->conns->prev = c;
    net->conns = c;
    net->nconns++;
    *lc = (struct link_config){
        .loop = net->cfg.loop,
        .keys = net->cfg.keys,
        .handshake_timeout_ms = net->cfg.handshake_timeout_ms,
        .first_msg_timeout_ms = net->cfg.first_msg_timeout_ms,
        .max_backlog = net->cfg.max_backlog,
        .budget = &net->budget,
        .ud = c,
        .on_up = on_link_up,
        .on_frame = on_link_frame,
        .on_closed = on_link_closed,
    };
    return c;
}

/* ---------- dialing ---------- */

static void on_dial_timer(uv_timer_t *timer);

static void schedule_dial(struct dial_target *t, uint32_t delay_ms)
{
    if (!t->net->stopping)
        uv_timer_start(&t->timer, on_dial_timer, delay_ms, 0);
}

/* Exponential backoff with jitter, so restarted nodes do not dial in step. */
static uint32_t next_backoff(struct dial_target *t)
{
    const struct net_config *cfg = &t->net->cfg;
    uint32_t delay = t->backoff_ms;
    t->backoff_ms = t->backoff_ms * 2 > cfg->reconnect_max_ms ? cfg->reconnect_max_ms
                                                              : t->backoff_ms * 2;
    return delay + randombytes_uniform(delay / JITTER_DIVISOR + 1);
}

static void dial_address(struct dial_target *t, const struct sockaddr *addr)
{
    struct net *net = t->net;
    struct link_config lc;
    struct conn *c = conn_new(net, &lc);
    if (c == NULL) {
        schedule_dial(t, next_backoff(t));
        return;
    }
    c->target = t;
    t->conn = c;
    if (link_connect(&c->link, &lc, addr, t->pinned ? t->pk : NULL) != 0) {
        conn_unlink(c);
        free(c);
        t->conn = NULL;
        schedule_dial(t, next_backoff(t));
    }
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct dial_target *t = req->data;
    struct net *net = t->net;
    t->resolving = false;
    net->resolving--;
    if (net->stopping) {
        uv_freeaddrinfo(res);
        net->closing--;
        finish_stop_if_idle(net);
        return;
    }
    if (status != 0 || res == NULL) {
        mlog_limited(net->cfg.log, &net->rl_handshake, now_ms(net), LOG_WARN,
                     "cannot resolve peer %s: %s", taddrs_current(&t->addrs)->host,
                     uv_strerror(status));
        schedule_dial(t, next_backoff(t));
    } else {
        dial_address(t, res->ai_addr);
    }
    uv_freeaddrinfo(res);
}

static void on_dial_timer(uv_timer_t *timer)
{
    struct dial_target *t = timer->data;
    struct net *net = t->net;
    if (net->stopping || t->conn != NULL || t->resolving)
        return;
    struct peer_slot *known = t->node_id != 0 ? peer_find(net, t->node_id) : NULL;
    if (known != NULL && known->active != NULL) {
        /* Already linked (perhaps it dialed us): look again later. */
        schedule_dial(t, net->cfg.tick_ms);
        return;
    }
    const struct target_addr *a = taddrs_current(&t->addrs);
    if (a == NULL)
        return;     /* every address expired: the target is being removed */
    struct sockaddr_storage ss;
    if (uv_ip4_addr(a->host, a->port, (struct sockaddr_in *)&ss) == 0 ||
        uv_ip6_addr(a->host, a->port, (struct sockaddr_in6 *)&ss) == 0) {
        dial_address(t, (struct sockaddr *)&ss);
        return;
    }
    char port[8];
    snprintf(port, sizeof port, "%u", a->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    t->gai.data = t;
    if (uv_getaddrinfo(net->cfg.loop, &t->gai, on_resolved, a->host, port, &hints) == 0) {
        t->resolving = true;
        net->resolving++;
    } else {
        schedule_dial(t, next_backoff(t));
    }
}

static struct dial_target *target_add(struct net *net, const char *host, uint16_t port)
{
    if (net->stopping || net->ntargets >= MAX_TARGETS)
        return NULL;
    struct dial_target *t = calloc(1, sizeof *t);
    if (t == NULL || taddrs_add(&t->addrs, host, port, now_ms(net)) != TADDR_ADDED) {
        free(t);
        return NULL;
    }
    struct dial_target **grown =
        realloc(net->targets, (net->ntargets + 1) * sizeof *grown);
    if (grown == NULL) {
        free(t);
        return NULL;
    }
    net->targets = grown;
    t->net = net;
    t->backoff_ms = net->cfg.reconnect_min_ms;
    uv_timer_init(net->cfg.loop, &t->timer);
    t->timer.data = t;
    net->targets[net->ntargets++] = t;
    return t;
}

static void on_target_timer_closed(uv_handle_t *h) { free(h->data); }

/* Forgets a discovered target (no address left). Its connection, if any,
 * finishes on its own; it no longer points here. */
static void target_remove(struct dial_target *t)
{
    struct net *net = t->net;
    for (size_t i = 0; i < net->ntargets; i++) {
        if (net->targets[i] != t)
            continue;
        memmove(&net->targets[i], &net->targets[i + 1],
                (net->ntargets - i - 1) * sizeof net->targets[0]);
        net->ntargets--;
        break;
    }
    if (t->conn != NULL)
        t->conn->target = NULL;
    uv_close((uv_handle_t *)&t->timer, on_target_timer_closed);
}

int net_add_static_peer(struct net *net, const char *host, uint16_t port)
{
    struct dial_target *t = target_add(net, host, port);
    if (t == NULL)
        return UV_ENOMEM;
    schedule_dial(t, 0);
    return 0;
}

static struct dial_target *target_find_pk(const struct net *net,
                                          const uint8_t pk[MESH_KEY_BYTES])
{
    for (size_t i = 0; i < net->ntargets; i++) {
        struct dial_target *t = net->targets[i];
        if (t->pinned && sodium_memcmp(t->pk, pk, MESH_KEY_BYTES) == 0)
            return t;
    }
    return NULL;
}

/* Discovered keys already dialed at host: one announcing host (who can
 * claim any key) gets a bounded share of the target table. */
static size_t targets_at_host(const struct net *net, const char *host)
{
    size_t n = 0;
    for (size_t i = 0; i < net->ntargets; i++)
        n += net->targets[i]->pinned && taddrs_has_host(&net->targets[i]->addrs, host);
    return n;
}

/* When the table is full, a discovered target that has never linked and
 * is not connecting gives way: spoofed keys cannot crowd out real ones. */
static bool target_make_room(struct net *net)
{
    if (net->ntargets < MAX_TARGETS)
        return true;
    for (size_t i = 0; i < net->ntargets; i++) {
        struct dial_target *t = net->targets[i];
        if (t->pinned && !t->linked && t->conn == NULL && !t->resolving) {
            target_remove(t);
            return true;
        }
    }
    return false;
}

static int target_add_address(struct dial_target *t, const char *host, uint16_t port)
{
    enum taddr_add r = taddrs_add(&t->addrs, host, port, now_ms(t->net));
    if (r == TADDR_ADDED && t->conn == NULL && !t->resolving &&
        !uv_is_active((uv_handle_t *)&t->timer))
        schedule_dial(t, 0);
    return r == TADDR_ADDED || r == TADDR_KNOWN ? 0 : UV_EBUSY;
}

static int dial_pinned(struct net *net, const char *host, uint16_t port,
                       const uint8_t pk[MESH_KEY_BYTES], bool capped)
{
    if (strlen(host) >= TARGET_HOST_MAX || !hs_pk_canonical(pk))
        return UV_EINVAL;
    if (sodium_memcmp(pk, net->cfg.keys->pk, MESH_KEY_BYTES) == 0)
        return 0; /* discovery found ourselves */
    struct dial_target *t = target_find_pk(net, pk);
    if (t != NULL)
        return target_add_address(t, host, port);
    if ((capped && targets_at_host(net, host) >= net->cfg.max_targets_per_host) ||
        !target_make_room(net)) {
        mlog_limited(net->cfg.log, &net->rl_target, now_ms(net), LOG_WARN,
                     "not dialing another key announced at %s: too many", host);
        return UV_EBUSY;
    }
    t = target_add(net, host, port);
    if (t == NULL)
        return UV_ENOMEM;
    t->pinned = true;
    memcpy(t->pk, pk, MESH_KEY_BYTES);
    t->node_id = mesh_node_id_of(pk);
    schedule_dial(t, 0);
    return 0;
}

int net_dial(struct net *net, const char *host, uint16_t port,
             const uint8_t pk[MESH_KEY_BYTES])
{
    return dial_pinned(net, host, port, pk, true);
}

int net_dial_vouched(struct net *net, const char *host, uint16_t port,
                     const uint8_t pk[MESH_KEY_BYTES])
{
    return dial_pinned(net, host, port, pk, false);
}

void net_undial(struct net *net, const char *host, uint16_t port,
                const uint8_t pk[MESH_KEY_BYTES])
{
    struct dial_target *t = target_find_pk(net, pk);
    if (t == NULL || net->stopping || !taddrs_remove(&t->addrs, host, port))
        return;
    if (t->addrs.n == 0 && !t->resolving)
        target_remove(t);
}

/* ---------- link events ---------- */

static void conn_describe(const struct conn *c, char *out, size_t len)
{
    const char *ip = link_remote_ip(c->link);
    const struct target_addr *a = c->target ? taddrs_current(&c->target->addrs) : NULL;
    if (a != NULL)
        snprintf(out, len, "%s:%u", a->host, a->port);
    else
        snprintf(out, len, "%s:%u", ip[0] ? ip : "?", link_remote_port(c->link));
}

static void on_link_up(struct peer_link *l, void *ud)
{
    struct conn *c = ud;
    c->peer_id = mesh_node_id_of(link_peer_pk(l));
    /* The initiator proved the key: it no longer holds a pre-auth slot. */
    pending_done(c);
    send_hello(c);
}

/* Between two links to one peer, keep the one the lower node id dialed; when
 * one side dialed both, keep the lower session id. Both ends see the same
 * facts and so close the same link. Exception: an old link that has been
 * silent for two ticks is probably dead (peer restarted): take the new one. */
static bool prefer_new_link(const struct net *net, const struct conn *old,
                            const struct conn *fresh)
{
    if (now_ms(net) - old->last_rx_ms > 2 * (uint64_t)net->cfg.tick_ms)
        return true;
    uint64_t self = net->cfg.keys->node_id;
    uint64_t low = self < fresh->peer_id ? self : fresh->peer_id;
    bool old_by_low = (old->inbound ? old->peer_id : self) == low;
    bool fresh_by_low = (fresh->inbound ? fresh->peer_id : self) == low;
    if (old_by_low != fresh_by_low)
        return fresh_by_low;
    return link_session_id(fresh->link) < link_session_id(old->link);
}

static void record_hello(struct conn *c, struct peer_slot *p, const struct net_hello *h)
{
    snprintf(p->pub.name, sizeof p->pub.name, "%s", h->name);
    p->pub.version = h->version;
    p->pub.workers = h->workers;
    const char *ip = link_remote_ip(c->link);
    uint16_t port = h->listen_port != 0 ? h->listen_port : link_remote_port(c->link);
    snprintf(p->pub.addr, sizeof p->pub.addr, strchr(ip, ':') ? "[%s]:%u" : "%s:%u",
             ip, port);
    p->pub.last_heard_ms = now_ms(c->net);
}

static void handle_hello(struct conn *c, const uint8_t *data, size_t len)
{
    struct net *net = c->net;
    struct net_hello h;
    if (net_hello_decode(&h, data, len) != 0 || h.id != c->peer_id) {
        link_close(c->link, "malformed hello");
        return;
    }
    const uint8_t *pk = link_peer_pk(c->link);
    struct peer_slot *p = peer_find(net, c->peer_id);
    if (p != NULL && sodium_memcmp(p->pub.pk, pk, MESH_KEY_BYTES) != 0) {
        link_close(c->link, "node id taken by another key");
        return;
    }
    if (p == NULL && (p = peer_add(net, pk)) == NULL) {
        link_close(c->link, "peer table full");
        return;
    }
    c->hello = true;
    c->hello_ms = now_ms(net);
    pending_done(c);
    link_confirm(c->link);
    if (c->target != NULL) {
        c->target->node_id = c->peer_id;
        c->target->linked = true;
        taddrs_linked(&c->target->addrs);
    }
    record_hello(c, p, &h);
    if (p->active != NULL) {
        struct conn *old = p->active;
        if (!prefer_new_link(net, old, c)) {
            link_close(c->link, "duplicate link");
            return;
        }
        old->peer = NULL;   /* swap silently: the peer never went down */
        link_close(old->link, "duplicate link");
        p->active = c;
        c->peer = p;
        send_stats(c);
        return;
    }
    p->active = c;
    c->peer = p;
    p->pub.connected = true;
    send_stats(c);
    mlog_limited(net->cfg.log, &net->rl_peer, now_ms(net), LOG_INFO, "peer %s (%s) up at %s",
                 p->pub.name, p->pub.id_hex, p->pub.addr);
    if (net->cfg.on_peer_up != NULL)
        net->cfg.on_peer_up(net->cfg.ud, &p->pub);
}

static void on_link_frame(struct peer_link *l, void *ud, uint8_t type,
                          const uint8_t *data, size_t len)
{
    struct conn *c = ud;
    struct net *net = c->net;
    c->last_rx_ms = now_ms(net);
    if (!c->hello) {
        if (type == NET_MSG_HELLO)
            handle_hello(c, data, len);
        else
            link_close(l, "message before hello");
        return;
    }
    struct peer_slot *p = c->peer;
    if (p == NULL)
        return;     /* a losing duplicate, already closing */
    p->pub.last_heard_ms = c->last_rx_ms;
    if (type == NET_MSG_STATS) {
        if (net_stats_decode(&p->pub.stats, data, len) != 0)
            link_close(l, "malformed stats");
    } else if (type >= NET_MSG_FIRST_APP && net->cfg.on_message != NULL) {
        net->cfg.on_message(net->cfg.ud, &p->pub, type, data, len);
    }
    /* KEEPALIVE, a second HELLO and unknown reserved types are ignored, so
     * later versions can add link-layer messages. */
}

static void log_closed(struct conn *c, const char *reason, bool was_up)
{
    struct net *net = c->net;
    if (c->refused || net->stopping)
        return;
    char where[300];
    conn_describe(c, where, sizeof where);
    if (c->peer != NULL)
        mlog_limited(net->cfg.log, &net->rl_peer, now_ms(net), LOG_INFO,
                     "peer %s (%s) down: %s", c->peer->pub.name,
                     c->peer->pub.id_hex, reason);
    else if (!c->hello)
        mlog_limited(net->cfg.log, was_up ? &net->rl_protocol : &net->rl_handshake,
                     now_ms(net), LOG_WARN,
                     "link %s %s %s: %s", c->inbound ? "from" : "to", where,
                     was_up ? "closed before hello" : "failed handshake", reason);
}

/* Picks the next dial of the target a connection served. The backoff only
 * resets after a link that lived stable_link_ms: a peer that accepts and
 * then drops us (table full, duplicate) is not redialed 4 times a second.
 * A reflection (our own listener answered) costs the longest backoff and
 * nothing else: the address may be spliced back to the real peer later. */
static void target_after_close(struct conn *c, struct peer_link *l)
{
    struct net *net = c->net;
    struct dial_target *t = c->target;
    t->conn = NULL;
    if (c->hello && now_ms(net) - c->hello_ms >= net->cfg.stable_link_ms)
        t->backoff_ms = net->cfg.reconnect_min_ms;
    if (link_reflected(l)) {
        const struct target_addr *a = taddrs_current(&t->addrs);
        mlog_limited(net->cfg.log, &net->rl_target, now_ms(net), LOG_WARN,
                     "%s:%u leads back to this node; retrying it slowly",
                     a ? a->host : "?", a ? a->port : 0);
        t->backoff_ms = net->cfg.reconnect_max_ms;
    }
    if (!c->hello)
        taddrs_failed(&t->addrs, t->pinned ? net->cfg.addr_fail_limit : 0);
    if (t->addrs.n == 0 && !net->stopping) {
        mlog_limited(net->cfg.log, &net->rl_target, now_ms(net), LOG_INFO,
                     "no working address left for discovered peer %016llx",
                     (unsigned long long)t->node_id);
        target_remove(t);
        return;
    }
    schedule_dial(t, next_backoff(t));
}

static void on_link_closed(struct peer_link *l, void *ud, const char *reason, bool was_up)
{
    struct conn *c = ud;
    struct net *net = c->net;
    log_closed(c, reason, was_up);
    pending_done(c);
    conn_unlink(c);
    struct peer_slot *p = c->peer;
    if (p != NULL) {
        p->active = NULL;
        p->pub.connected = false;
        if (!net->stopping && net->cfg.on_peer_down != NULL)
            net->cfg.on_peer_down(net->cfg.ud, &p->pub);
    }
    if (c->target != NULL)
        target_after_close(c, l);
    free(c);
    if (net->stopping) {
        net->closing--;
        finish_stop_if_idle(net);
    }
}

/* ---------- listener ---------- */

static void refuse(struct conn *c, const char *why)
{
    struct net *net = c->net;
    char where[300];
    conn_describe(c, where, sizeof where);
    mlog_limited(net->cfg.log, &net->rl_refused, now_ms(net), LOG_WARN,
                 "refused connection from %s: %s", where, why);
    c->refused = true;
    link_close(c->link, why);
}

/* The pending handshake to give up for a newcomer from ip: that address's
 * oldest when it already holds its share, else the oldest of all. Pending
 * connections have not proven the key, so none is worth more than another
 * and the newest gets its round trip: idle connections, however many and
 * from however many addresses, each last only until max_pending newer
 * ones arrived, while a genuine peer needs one round trip. */
static struct conn *pending_victim(struct net *net, const char *ip)
{
    struct conn *oldest = NULL, *oldest_here = NULL;
    size_t here = 0;
    for (struct conn *c = net->conns; c != NULL; c = c->next) {
        if (!c->counted_pending)
            continue;
        if (oldest == NULL || c->since_ms <= oldest->since_ms)
            oldest = c;
        if (strcmp(link_remote_ip(c->link), ip) == 0) {
            here++;
            if (oldest_here == NULL || c->since_ms <= oldest_here->since_ms)
                oldest_here = c;
        }
    }
    return here >= net->cfg.max_pending_per_addr ? oldest_here : oldest;
}

static void evict_for(struct net *net, const char *ip)
{
    struct conn *victim = pending_victim(net, ip);
    if (victim == NULL)
        return;
    mlog_limited(net->cfg.log, &net->rl_evict, now_ms(net), LOG_WARN,
                 "dropped a pending handshake from %s for a newer one (%zu pending)",
                 link_remote_ip(victim->link), net->pending_inbound);
    victim->refused = true;
    pending_done(victim);
    link_close(victim->link, "evicted for a newer handshake");
}

static bool pending_full_for(const struct net *net, const char *ip)
{
    if (net->pending_inbound >= net->cfg.max_pending)
        return true;
    size_t here = 0;
    for (const struct conn *c = net->conns; c != NULL; c = c->next)
        here += c->counted_pending && strcmp(link_remote_ip(c->link), ip) == 0;
    return here >= net->cfg.max_pending_per_addr;
}

static void on_connection(uv_stream_t *server, int status)
{
    struct net *net = server->data;
    if (net->stopping)
        return;
    if (status < 0) {
        /* On EMFILE libuv accepts and closes the waiting connections with
         * its reserve descriptor (mostly without telling us); links go on,
         * pending handshakes expire within first_msg_timeout_ms, and
         * accepting resumes by itself once descriptors are free again. */
        mlog_limited(net->cfg.log, &net->rl_refused, now_ms(net), LOG_WARN,
                     "cannot accept peer connections: %s", uv_strerror(status));
        return;
    }
    struct link_config lc;
    struct conn *c = conn_new(net, &lc);
    if (c == NULL || link_accept(&c->link, &lc, server) != 0) {
        if (c != NULL) {
            conn_unlink(c);
            free(c);
        }
        return;
    }
    c->inbound = true;
    const char *ip = link_remote_ip(c->link);
    if (!addr_limiter_allow(&net->limiter, ip, now_ms(net))) {
        refuse(c, "handshake rate limit");
        return;
    }
    if (pending_full_for(net, ip))
        evict_for(net, ip);
    c->counted_pending = true;
    net->pending_inbound++;
    link_start_responder(c->link);
}

static int listen_on(struct net *net)
{
    struct sockaddr_storage ss;
    const char *host = net->cfg.listen_host;
    int rc = strchr(host, ':') != NULL
                 ? uv_ip6_addr(host, net->cfg.port, (struct sockaddr_in6 *)&ss)
                 : uv_ip4_addr(host, net->cfg.port, (struct sockaddr_in *)&ss);
    if (rc == 0)
        rc = uv_tcp_bind(&net->listener, (struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&net->listener, 128, on_connection);
    return rc;
}

uint16_t net_port(const struct net *net)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getsockname(&net->listener, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* ---------- periodic work ---------- */

static void on_tick(uv_timer_t *timer)
{
    struct net *net = timer->data;
    uint64_t now = now_ms(net);
    /* A tick that runs late means this loop was held (a starved CPU, a
     * long fsync): libuv runs timers before it polls, so what the peers
     * sent meanwhile is still unread in the socket, and judging them by it
     * closed healthy links under load, which re-sent everything and held
     * the loop again (a leaderless mesh for minutes at load 30). Such a
     * tick only sends; the next one judges, after the reads. */
    bool judge = now - net->last_tick_ms <= 2 * (uint64_t)net->cfg.tick_ms;
    net->last_tick_ms = now;
    for (struct conn *c = net->conns, *next; c != NULL; c = next) {
        next = c->next;
        if (!c->hello || c->peer == NULL)
            continue;
        /* Bytes of a frame still arriving count as heard: a large frame
         * on a slow link is not silence. */
        uint64_t heard = link_last_read_ms(c->link);
        if (heard < c->last_rx_ms)
            heard = c->last_rx_ms;
        if (!judge)
            send_stats(c);
        else if (now - heard > net->cfg.dead_after_ms)
            link_close(c->link, "keepalive timeout");
        else if (link_stalled(c->link, now, net->cfg.stall_ms))
            link_close(c->link, "peer does not read (backlog not draining)");
        else
            send_stats(c);
    }
}

/* ---------- lifecycle ---------- */

int net_start(struct net **out, const struct net_config *cfg)
{
    if (sodium_init() < 0)
        return UV_ENOSYS;
    struct net *net = calloc(1, sizeof *net);
    if (net == NULL)
        return UV_ENOMEM;
    net->cfg = *cfg;
    apply_defaults(&net->cfg);
    addr_limiter_init(&net->limiter, net->cfg.handshake_burst,
                      net->cfg.handshakes_per_sec);
    net->budget.max = net->cfg.max_buffers;
    uv_tcp_init(cfg->loop, &net->listener);
    net->listener.data = net;
    int rc = listen_on(net);
    if (rc != 0) {
        /* Nothing else is open yet: close the listener and free after. */
        net->stopping = true;
        net->closing = 1;
        uv_close((uv_handle_t *)&net->listener, on_net_handle_closed);
        return rc;
    }
    uv_timer_init(cfg->loop, &net->tick);
    net->tick.data = net;
    net->last_tick_ms = now_ms(net);
    uv_timer_start(&net->tick, on_tick, net->cfg.tick_ms, net->cfg.tick_ms);
    *out = net;
    return 0;
}

void net_stop(struct net *net, void (*done)(void *ud))
{
    if (net->stopping)
        return;
    net->stopping = true;
    net->stop_done = done;
    net->closing = 2 + (int)net->ntargets + (int)net->nconns + net->resolving;
    uv_close((uv_handle_t *)&net->listener, on_net_handle_closed);
    uv_close((uv_handle_t *)&net->tick, on_net_handle_closed);
    for (size_t i = 0; i < net->ntargets; i++) {
        struct dial_target *t = net->targets[i];
        t->timer.data = net;
        uv_close((uv_handle_t *)&t->timer, on_net_handle_closed);
        if (t->resolving)
            uv_cancel((uv_req_t *)&t->gai);  /* on_resolved still runs */
    }
    for (struct conn *c = net->conns; c != NULL; c = c->next)
        link_close(c->link, "shutting down");
}

/* ---------- queries and sending ---------- */

int net_send(struct net *net, uint64_t node_id, uint8_t type, const void *data,
             size_t len)
{
    if (type < NET_MSG_FIRST_APP)
        return UV_EINVAL;
    struct peer_slot *p = peer_find(net, node_id);
    if (p == NULL || p->active == NULL || net->stopping)
        return UV_ENOTCONN;
    return link_send(p->active->link, type, data, len);
}

size_t net_backlog(const struct net *net, uint64_t node_id)
{
    struct peer_slot *p = peer_find(net, node_id);
    return p != NULL && p->active != NULL ? link_backlog(p->active->link) : 0;
}

size_t net_peer_count(const struct net *net) { return net->npeers; }

const struct net_peer *net_peer_at(const struct net *net, size_t i)
{
    return i < net->npeers ? &net->peers[i]->pub : NULL;
}

const struct net_peer *net_peer_find(const struct net *net, uint64_t node_id)
{
    struct peer_slot *p = peer_find(net, node_id);
    return p != NULL ? &p->pub : NULL;
}

size_t net_pending_handshakes(const struct net *net) { return net->pending_inbound; }
size_t net_link_count(const struct net *net) { return net->nconns; }
size_t net_buffer_bytes(const struct net *net) { return net->budget.used; }
