/* netmsg.h - the link layer's own messages (frame types < 16), pure codecs.
 *
 * HELLO (first frame each side sends after the handshake):
 *   id u64 | version u32 | workers u32 | listen_port u16 | name_len u8 | name
 * STATS (every tick; doubles as the keepalive):
 *   rate f64 bits u64 | busy u32 | done u64 | flags u8 (bit 0: draining)
 * KEEPALIVE: empty; accepted and ignored (for senders with nothing to say).
 * All integers big-endian. Decoders check every length and reject trailing
 * bytes; names are reduced to printable ASCII since they end up on screens. */
#ifndef MESH_NET_NETMSG_H
#define MESH_NET_NETMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum net_msg_type {
    NET_MSG_HELLO = 1,
    NET_MSG_STATS = 2,
    NET_MSG_KEEPALIVE = 3,
    NET_MSG_FIRST_APP = 16,  /* types below are reserved to the link layer */
};

enum {
    NET_NAME_MAX = 63,
    NET_HELLO_MAX_BYTES = 8 + 4 + 4 + 2 + 1 + NET_NAME_MAX,
    NET_STATS_BYTES = 8 + 4 + 8 + 1,
};

struct net_stats {
    double rate;       /* numbers factored per second */
    uint32_t busy;     /* busy workers */
    uint64_t done;     /* numbers done since start */
    bool draining;
};

struct net_hello {
    uint64_t id;
    uint32_t version;
    uint32_t workers;
    uint16_t listen_port;
    char name[NET_NAME_MAX + 1];
};

size_t net_hello_encode(const struct net_hello *h, uint8_t out[NET_HELLO_MAX_BYTES]);
int net_hello_decode(struct net_hello *h, const uint8_t *data, size_t len);

size_t net_stats_encode(const struct net_stats *s, uint8_t out[NET_STATS_BYTES]);
int net_stats_decode(struct net_stats *s, const uint8_t *data, size_t len);

#endif
