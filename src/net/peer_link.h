/* peer_link.h - one authenticated, encrypted TCP connection to a peer.
 *
 * A link drives the handshake (handshake.h) over its socket, then carries
 * frames (frame.h). It knows nothing of peers, names or reconnects: the
 * owner (net.c) gets on_up when the session keys are ready, on_frame per
 * decrypted frame, and on_closed exactly once, after every handle is closed,
 * right before the link frees itself. A timer closes links that are not
 * confirmed (link_confirm) within handshake_timeout_ms of their creation
 * (and a responder whose first message is late), so a half-open or
 * stalled peer cannot hold resources. */
#ifndef MESH_NET_PEER_LINK_H
#define MESH_NET_PEER_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "keys.h"

struct peer_link;

/* Buffer memory shared by all links of one owner (net.c): queued writes and
 * read buffers, in bytes. Links refuse to grow past max; the owner keeps
 * it (no global state). */
struct link_budget {
    size_t used, max;
};

struct link_config {
    uv_loop_t *loop;
    const struct mesh_keys *keys;
    uint32_t handshake_timeout_ms;
    /* Responder: the initiator's first message must arrive this soon after
     * the connection (0 = handshake_timeout_ms). Idle connections from
     * strangers are cut quickly; a genuine peer answers in one round trip. */
    uint32_t first_msg_timeout_ms;
    size_t max_backlog;   /* wire bytes queued before link_send refuses */
    struct link_budget *budget;
    void *ud;             /* passed back to every callback */
    void (*on_up)(struct peer_link *l, void *ud);
    void (*on_frame)(struct peer_link *l, void *ud, uint8_t type,
                     const uint8_t *data, size_t len);
    /* reason is a static string; was_up: the handshake had completed. */
    void (*on_closed)(struct peer_link *l, void *ud, const char *reason, bool was_up);
};

/* Accepts a pending connection from server. Nothing is read or sent until
 * link_start_responder, so the owner can first vet link_remote_ip() and
 * link_close() a connection it refuses, without any handshake work.
 * On failure returns a libuv error and nothing is left to clean up. */
int link_accept(struct peer_link **out, const struct link_config *cfg,
                uv_stream_t *server);
void link_start_responder(struct peer_link *l);

/* Connects to addr and runs the initiator side; expected_pk (may be NULL)
 * pins the responder's static key. Failures later arrive as on_closed. */
int link_connect(struct peer_link **out, const struct link_config *cfg,
                 const struct sockaddr *addr, const uint8_t *expected_pk);

/* Encrypts and queues one frame. 0, UV_ENOBUFS when the backlog is full,
 * UV_ENOTCONN before on_up or after close, UV_E2BIG when len is too big. */
int link_send(struct peer_link *l, uint8_t type, const void *data, size_t len);

/* Stops the handshake timer: the owner is satisfied with this peer. */
void link_confirm(struct peer_link *l);

/* Starts closing (idempotent); on_closed follows from the loop. */
void link_close(struct peer_link *l, const char *reason);

/* Wire bytes queued for writing (frames and handshake messages). */
size_t link_backlog(const struct peer_link *l);
/* True when bytes have been queued and none drained for stall_ms: the peer
 * does not read. */
bool link_stalled(struct peer_link *l, uint64_t now_ms, uint64_t stall_ms);
/* When bytes last arrived (0: never), whole frames or not. */
uint64_t link_last_read_ms(const struct peer_link *l);
/* The handshake failed because the other end is ourselves (HS_ERR_SELF). */
bool link_reflected(const struct peer_link *l);
bool link_is_up(const struct peer_link *l);
bool link_is_initiator(const struct peer_link *l);
const uint8_t *link_peer_pk(const struct peer_link *l);  /* valid once up */
/* A number both ends of one session agree on (derived from its keys). */
uint64_t link_session_id(const struct peer_link *l);
const char *link_remote_ip(const struct peer_link *l);   /* "" if unknown */
uint16_t link_remote_port(const struct peer_link *l);

#endif
