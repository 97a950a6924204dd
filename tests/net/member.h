/* member.h - a scripted key holder for the net tests: it speaks the real
 * protocol (handshake.h, frame.h, netmsg.h) from any loopback source
 * address, with a fresh identity, and can then misbehave the way a member
 * of the mesh could: mint identities, stop reading. */
#ifndef MESH_TEST_NET_MEMBER_H
#define MESH_TEST_NET_MEMBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "frame.h"
#include "handshake.h"
#include "keys.h"

struct member {
    uv_tcp_t tcp;
    uv_connect_t req;
    struct mesh_keys keys;
    struct handshake hs;
    struct frame_key tx, rx;
    uint8_t rx_buf[4096];
    size_t rx_len;
    unsigned frames_in;     /* frames from the node decrypted so far */
    bool up;                /* handshake done, our HELLO sent */
    bool closed;            /* the connection ended (either side) */
    bool handle_closed;
};

/* A new random identity holding the mesh secret of `mesh`. */
void member_keys(struct mesh_keys *out, const struct mesh_keys *mesh);

/* Connects from src_ip (127.x.y.z) to 127.0.0.1:port and handshakes with
 * the node whose static key is server_pk (NULL: whichever node answers),
 * then sends HELLO. */
void member_connect(struct member *m, uv_loop_t *loop, const char *src_ip,
                    uint16_t port, const struct mesh_keys *mesh,
                    const uint8_t server_pk[MESH_KEY_BYTES]);

/* One encrypted frame (after up). */
void member_send(struct member *m, uint8_t type, const void *data, size_t len);

/* From now on the member never reads: the node's writes pile up. */
void member_stop_reading(struct member *m);

void member_close(struct member *m);

/* Runs the loop until each of the n members is linked (the node's HELLO and
 * a second frame came: it has the member as a peer) or closed; false on
 * timeout. */
bool members_linked(uv_loop_t *loop, struct member *m, size_t n, uint64_t timeout_ms);
/* Runs the loop until the n members' handles are closed. */
bool members_closed(uv_loop_t *loop, struct member *m, size_t n, uint64_t timeout_ms);

/* count fresh identities link to 127.0.0.1:port in waves of 32, from
 * 127.0.0.2..251, and leave again; on_linked (may be NULL) runs for each
 * one the node linked, before it leaves. Returns how many linked. */
size_t members_in_waves(uv_loop_t *loop, uint16_t port, const struct mesh_keys *mesh,
                        size_t count, void (*on_linked)(struct member *m, void *arg),
                        void *arg);

#endif
