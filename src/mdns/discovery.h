/* discovery.h - find the other nodes of this mesh on the LAN via mDNS.
 *
 * Each node publishes one `_mesh._tcp` service through avahi-daemon (name,
 * link port, TXT: v, id, pk, tag — never the key) and browses/resolves the
 * same type. Peers with our mesh tag and another node id are reported to
 * on_peer; services of other meshes are ignored and counted.
 *
 * Discovery is a hint, not liveness: a peer is reported when first resolved
 * and again whenever its address or port changes; on_peer_gone says an
 * address was withdrawn or replaced (a host that dies with its daemon is
 * never withdrawn: the links say who is alive). Announcements are not
 * authenticated (the tag is public): the receiver must treat each report
 * as one more address to try, never as the peer's only address.
 * Instance names are sanitised (safe_name.h) before they are logged or
 * passed on. Without avahi-daemon the node keeps running: it says so
 * once in the log and connects by itself when the daemon appears; when the
 * daemon restarts it reconnects and republishes.
 *
 * Everything runs on the caller's uv loop; callbacks come from that loop. */
#ifndef MESH_DISCOVERY_H
#define MESH_DISCOVERY_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "log.h"

#define DISCOVERY_SERVICE_TYPE "_mesh._tcp"
#define DISCOVERY_NAME_MAX 63   /* DNS label limit */

/* Valid only during the on_peer call: copy what you keep. */
struct discovery_peer {
    const char *name;       /* service instance name, sanitised */
    const char *id_hex;     /* node id, lowercase hex */
    uint8_t pk[32];         /* static X25519 public key */
    const char *address;    /* IPv4 dotted quad */
    uint16_t port;          /* link port */
};

struct discovery_config {
    uv_loop_t *loop;
    struct mesh_log *log;
    const char *name;       /* wanted service name (renamed on collision) */
    uint16_t port;          /* link port to publish */
    const char *id_hex;     /* this node's id, hex (2..64 chars) */
    const char *pk_hex;     /* this node's public key, 64 hex chars */
    const char *tag_hex;    /* mesh tag, hex (2..64 chars) */
    unsigned version;       /* protocol version; others are ignored */
    void *ud;
    void (*on_peer)(void *ud, const struct discovery_peer *p);
    /* May be NULL. The same fields as the on_peer call being undone. */
    void (*on_peer_gone)(void *ud, const struct discovery_peer *p);
};

struct discovery_status {
    bool daemon_running;            /* connected to a running avahi-daemon */
    char published_name[DISCOVERY_NAME_MAX + 1]; /* "" until established */
    unsigned foreign_meshes;        /* distinct services of other meshes */
    unsigned peers_seen;            /* distinct peer ids ever reported */
};

struct discovery;

/* Copies the config strings. Returns 0, or -EINVAL on a malformed config,
 * -ENOMEM. A missing avahi-daemon or D-Bus is NOT an error. */
int discovery_start(struct discovery **out, const struct discovery_config *cfg);

void discovery_status(const struct discovery *d, struct discovery_status *out);

/* Withdraws the service, closes every handle, frees `d`, then calls
 * done(cfg->ud) from the loop (done may be NULL). Safe from on_peer. */
void discovery_stop(struct discovery *d, void (*done)(void *ud));

#endif
