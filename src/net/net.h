/* net.h - the peer link manager a node uses.
 *
 * Listens for peers, dials static peers (--peer) and discovered ones
 * (net_dial, key pinned), reconnects with backoff, runs the handshake and
 * encrypted frames (peer_link.h), exchanges hello and per-second stats, and
 * keeps a table of authenticated peers (down ones too, up to NET_MAX_PEERS;
 * the longest-unseen down peer makes room) for `mesh status`. Peers are
 * keyed by their 32-byte static key; the 64-bit node id names them in this
 * API, and a second key claiming a known id is refused. Duplicate links between one pair collapse to the one dialed
 * by the lower node id. Peers are addressed by node id; every id in this API
 * was authenticated by its static key during the handshake, so upper layers
 * (raft) may trust it. All calls run on the loop thread. */
#ifndef MESH_NET_NET_H
#define MESH_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "keys.h"
#include "log.h"
#include "netmsg.h"

enum {
    NET_DEFAULT_PORT = 47110,
    NET_PROTOCOL_VERSION = 1,
    NET_MAX_PAYLOAD = 1 << 20,   /* net_send's len limit (FRAME_MAX_PAYLOAD) */
    NET_MAX_PEERS = 1024,
};

struct net;

struct net_peer {
    uint64_t id;
    char id_hex[MESH_ID_HEX_LEN + 1];
    char name[NET_NAME_MAX + 1];
    char addr[64];             /* "ip:listen_port" as last seen */
    uint8_t pk[MESH_KEY_BYTES];
    uint32_t version, workers;
    bool connected;
    uint64_t last_heard_ms;    /* uv_now() of the last frame; 0 = never */
    struct net_stats stats;    /* last stats received */
};

struct net_config {
    uv_loop_t *loop;
    struct mesh_log *log;
    const struct mesh_keys *keys;  /* K must be derived; outlives the net */
    const char *name;              /* shown to peers (<= 63 chars used) */
    const char *listen_host;       /* NULL = "0.0.0.0" */
    uint16_t port;                 /* 0 = any free port, see net_port() */
    uint32_t workers;
    uint32_t version;              /* sent in hello; 0 = NET_PROTOCOL_VERSION */
    void *ud;
    void (*on_peer_up)(void *ud, const struct net_peer *p);
    void (*on_peer_down)(void *ud, const struct net_peer *p);
    /* type >= 16; data is valid only during the call. */
    void (*on_message)(void *ud, const struct net_peer *p, uint8_t type,
                       const uint8_t *data, size_t len);
    void (*fill_stats)(void *ud, struct net_stats *out);  /* may be NULL */

    /* Tunables: 0 picks the default in brackets. */
    uint32_t tick_ms;              /* stats/keepalive period [1000] */
    uint32_t dead_after_ms;        /* silence before a peer is down [3000] */
    uint32_t handshake_timeout_ms; /* connect to hello [5000] */
    uint32_t first_msg_timeout_ms; /* inbound: connect to the first message [1000] */
    uint32_t max_pending;          /* concurrent inbound handshakes [64] */
    uint32_t max_pending_per_addr; /* of those, from one source address [8] */
    uint32_t handshake_burst;      /* per source address [20] */
    uint32_t handshakes_per_sec;   /* per source address, sustained [5] */
    uint32_t reconnect_min_ms;     /* [250] */
    uint32_t reconnect_max_ms;     /* [10000] */
    uint32_t stable_link_ms;       /* a link this old resets the backoff [10000] */
    uint32_t stall_ms;             /* queued bytes not draining: close [5000] */
    uint32_t max_targets_per_host; /* discovered targets at one address [8] */
    uint32_t addr_fail_limit;      /* failed dials before a discovered address
                                    * is dropped [5] */
    size_t max_backlog;            /* wire bytes queued per link [4 MiB] */
    size_t max_buffers;            /* all links' buffers together [64 MiB] */
};

/* Binds and listens. Returns 0 or a libuv error (e.g. UV_EADDRINUSE). */
int net_start(struct net **out, const struct net_config *cfg);

/* The port actually bound (useful with port 0). */
uint16_t net_port(const struct net *net);

/* Dials host:port (name or address) now and after every drop, with backoff,
 * for as long as the net runs. The peer's key is learned in the handshake. */
int net_add_static_peer(struct net *net, const char *host, uint16_t port);

/* Like a static peer but the responder must prove it owns pk (discovery
 * announced it). Announcements are unauthenticated, so a pk keeps up to
 * TARGET_ADDRS_MAX addresses, tried in turn; one that failed
 * addr_fail_limit times in a row is dropped, and the target with it once
 * it has none. At most max_targets_per_host keys are dialed at one host.
 * 0, UV_EINVAL, UV_EBUSY (a cap was hit), UV_ENOMEM. */
int net_dial(struct net *net, const char *host, uint16_t port,
             const uint8_t pk[MESH_KEY_BYTES]);

/* Like net_dial, for an address an authenticated peer vouched for (peer
 * exchange): the per-host cap, which bounds what unauthenticated mDNS
 * announcements can make us dial, does not apply (many nodes may share a
 * host, e.g. on loopback). */
int net_dial_vouched(struct net *net, const char *host, uint16_t port,
                     const uint8_t pk[MESH_KEY_BYTES]);
/* The announcement of pk at host:port was withdrawn: stop dialing there. */
void net_undial(struct net *net, const char *host, uint16_t port,
                const uint8_t pk[MESH_KEY_BYTES]);

/* Sends one message to a connected peer. type must be >= NET_MSG_FIRST_APP.
 * 0, UV_EINVAL, UV_ENOTCONN (peer unknown or down), UV_E2BIG,
 * UV_ENOBUFS (too much queued: retry after net_backlog() drops). */
int net_send(struct net *net, uint64_t node_id, uint8_t type, const void *data,
             size_t len);

/* Wire bytes queued for writing to that peer (0 when not connected). */
size_t net_backlog(const struct net *net, uint64_t node_id);

size_t net_peer_count(const struct net *net);
const struct net_peer *net_peer_at(const struct net *net, size_t i);
const struct net_peer *net_peer_find(const struct net *net, uint64_t node_id);

/* Inbound connections that have not finished handshake + hello; and all
 * open links. Both return to their floor when hostile clients go away. */
size_t net_pending_handshakes(const struct net *net);
size_t net_link_count(const struct net *net);

/* Bytes of link buffers (queued writes, read buffers) held by all links. */
size_t net_buffer_bytes(const struct net *net);

/* Closes every link, timer and the listener; frees the net once all are
 * closed, then calls done(cfg->ud) (done may be NULL). No peer_down
 * callbacks are made during the stop. */
void net_stop(struct net *net, void (*done)(void *ud));

#endif
