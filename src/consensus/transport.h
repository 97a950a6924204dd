/* transport.h - (consensus-internal) raft_uv's transport over the node's
 * encrypted peer links.
 *
 * raft_uv wants byte streams to other servers. Each stream is one end of a
 * socketpair; the other end belongs to this transport, which carries the
 * bytes as CHAN_* messages inside the authenticated link to that peer. So
 * Raft has no port of its own and nothing travels in clear.
 *
 * raft's connections are one-way: it writes only on streams it opened
 * (connect) and reads only from streams it accepted. A channel therefore
 * carries data from its opener to its acceptor; either side may end it.
 *
 * The peer id of an accepted channel is the id the LINK authenticated, never
 * a value read from the stream, and vote requests whose candidate id differs
 * from it are refused (raft_stream.h), so a key holder cannot speak for
 * another server. */
#ifndef MESH_CONSENSUS_TRANSPORT_H
#define MESH_CONSENSUS_TRANSPORT_H

#include <raft.h>
#include <raft/uv.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "log.h"

/* Link message types of the transport (the node routes them here). */
enum chan_msg_type {
    CHAN_MSG_OPEN = 16,       /* ch u32: the opener starts channel ch */
    CHAN_MSG_DATA = 17,       /* ch u32 | raft bytes (opener -> acceptor) */
    CHAN_MSG_FIN_OPENER = 18, /* ch u32: the opener ended ch */
    CHAN_MSG_FIN_ACCEPTOR = 19, /* ch u32: the acceptor ended ch */
};

struct transport_config {
    uv_loop_t *loop;
    struct mesh_log *log;
    void *ud;
    /* Sends one link message; 0 or a libuv error (peer not linked...). */
    int (*send)(void *ud, uint64_t peer, uint8_t type, const void *data, size_t len);
    /* Bytes queued on the link to peer (for backpressure). */
    size_t (*backlog)(void *ud, uint64_t peer);
    /* True while a link to peer is up. */
    int (*linked)(void *ud, uint64_t peer);
};

/* Fills t (a raft_uv_transport) with this transport's methods. */
int transport_init(struct raft_uv_transport *t, const struct transport_config *cfg);
/* Frees what transport_init allocated; after raft_uv_close. */
void transport_free(struct raft_uv_transport *t);
/* For a transport raft never started: closes its timer, frees it later. */
void transport_abandon(struct raft_uv_transport *t);

/* A CHAN_* message arrived from an authenticated peer. */
void transport_on_message(struct raft_uv_transport *t, uint64_t peer, uint8_t type,
                          const uint8_t *data, size_t len);
/* The link to peer went down: every channel with it ends. */
void transport_on_peer_down(struct raft_uv_transport *t, uint64_t peer);

/* While refusing, every channel a peer opens is ended at once (and those
 * open now are ended): raft here hears nothing from its peers, as if cut
 * off. Used while the disk is full (storage_guard.h): as a follower raft
 * takes no entries it could not store (0.15's failed follower append keeps
 * them in memory only), as leader it steps down after an election timeout
 * (no contact with a majority), so a member with room leads. */
void transport_set_refusing(struct raft_uv_transport *t, bool refusing);

/* Channels open now (both directions), for status and tests. */
size_t transport_channel_count(const struct raft_uv_transport *t);

#endif
