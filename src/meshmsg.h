/* meshmsg.h - the node's own link messages (types 20..31), pure codecs.
 *
 * Link types 1..15 belong to the link layer (net/netmsg.h), 16..19 to the
 * raft transport (consensus.h). These carry the mesh's work plane and its
 * self-organisation. Every field is a varint or a length-prefixed string
 * (queue_codec.h); decoders check every length and refuse trailing bytes
 * (fuzzed: tests/core/fuzz_meshmsg.c). The sender's id is never in a
 * message: it is the id the link authenticated.
 *
 *   CLUSTER  cluster_id | leader | term | member u8 | applied | members | merging_into
 *            (4 per second; members: the size of its configuration;
 *            merging_into: the cluster its leader is moving into, or 0)
 *   JOIN     (empty)                       a node asks the leader to add it
 *   FORWARD  req | command bytes (qcmd)    a write, to the leader
 *   REPLY    req | rc (enum msg_reply_rc) | index | batch | err
 *   LEASE    lease | batch | lo | hi | needs (applied index the node must reach)
 *            | crashes (worker deaths so far on lo)
 *   RESULTS  lease | batch | n | n x (index, text)   factored numbers
 *   LEASE_END lease | next | why (enum worker_end) | crashes | ms
 *   EVENT    kind u8 | origin_seq | time_ms | origin name | text
 *            an event of the sender's (events.h), told to every linked peer
 *   PEERS    n | n x (key 32 bytes | addr "ip:port")  linked peers (peer exchange)
 *   LEAVE    (empty)                       a node asks the leader to remove it
 *   MEMBERSHIP verdict (enum msg_membership) | cluster_id   leader to a node
 *   PROGRESS n | n x (batch | index | worker | phase u8 | bits | b1 | found
 *            | needed | rate_milli | eta_s + 1 (0: unknown))
 *            the sender's workers on long numbers (src/factor/progress.h),
 *            4 a second while there are any, once empty when they end;
 *            a peer that does not know the type ignores it
 *   FILE_GET  hash (32 bytes) | offset     a result file's bytes from offset on
 *   FILE_PART hash (32 bytes) | offset | total | data str (at most
 *             MESH_MSG_FILE_CHUNK bytes; total 0 and no data: "not here")
 * (the last two: a finished batch's results file, named by its BLAKE2b-256,
 * asked of any peer by a node restored from a manifest snapshot;
 * src/node/result_fetch.c)
 */
#ifndef MESH_MESHMSG_H
#define MESH_MESHMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "queue.h"

enum mesh_msg_type {
    MESH_MSG_CLUSTER = 20,
    MESH_MSG_JOIN = 21,
    MESH_MSG_FORWARD = 22,
    MESH_MSG_REPLY = 23,
    MESH_MSG_LEASE = 24,
    MESH_MSG_RESULTS = 25,
    MESH_MSG_LEASE_END = 26,
    MESH_MSG_EVENT = 27,
    MESH_MSG_PEERS = 28,
    MESH_MSG_LEAVE = 29,
    MESH_MSG_MEMBERSHIP = 30,
    MESH_MSG_PROGRESS = 31,
    MESH_MSG_FILE_GET = 32,
    MESH_MSG_FILE_PART = 33,
};

enum { MESH_MSG_FILE_CHUNK = 256 * 1024, MESH_MSG_FILE_HASH = 32 };

struct msg_file_get {
    uint8_t hash[MESH_MSG_FILE_HASH];
    uint64_t offset;
};

/* FILE_PART: data points into the decoded message. */
struct msg_file_part {
    uint8_t hash[MESH_MSG_FILE_HASH];
    uint64_t offset, total;
    const uint8_t *data;
    size_t len;
};

enum { MESH_MSG_MAX_PEERS = 256, MESH_MSG_ADDR_MAX = 63 };

/* What the leader tells a node about its place in the configuration. */
enum msg_membership {
    MSG_MEMBERSHIP_LEFT = 1,     /* its `mesh leave` is done */
    MSG_MEMBERSHIP_REMOVED = 2,  /* it is not in the configuration (any more) */
    MSG_MEMBERSHIP_MERGED = 3,   /* its cluster moved into another: join that */
};

struct msg_peer {
    uint8_t key[32];
    char addr[MESH_MSG_ADDR_MAX + 1];   /* "ip:port", printable */
};

struct msg_peers {
    size_t n;
    struct msg_peer peers[MESH_MSG_MAX_PEERS];
};

struct msg_membership_note {
    uint8_t verdict;
    uint64_t cluster_id;
};

enum { MESH_MSG_ERR_MAX = 200, MESH_MSG_MAX_RESULTS = 65536,
       MESH_MSG_EVENT_NAME_MAX = 63, MESH_MSG_EVENT_TEXT_MAX = 159 };

enum msg_reply_rc {
    MSG_REPLY_OK = 0,
    MSG_REPLY_REFUSED = 1,      /* applied: the state machine said no */
    MSG_REPLY_FAILED = 2,       /* proposed, outcome unknown (leadership lost) */
    MSG_REPLY_NOT_LEADER = 3,   /* nothing proposed: safe to retry elsewhere */
};

struct msg_cluster {
    uint64_t cluster_id, leader, term, applied, members, merging_into;
    bool member;
};

struct msg_reply {
    uint64_t req;
    uint8_t rc;
    uint64_t index, batch;
    char err[MESH_MSG_ERR_MAX + 1];
};

struct msg_lease {
    uint64_t lease, batch, lo, hi, needs;
    uint32_t crashes;   /* worker deaths so far on index lo */
};

/* RESULTS: texts point into the decoded message (not NUL-terminated). */
struct msg_result {
    uint64_t index;
    const char *text;
    size_t len;
};

struct msg_results {
    uint64_t lease, batch;
    size_t n;
    struct msg_result *items;   /* decode: malloc'd by the decoder */
};

struct msg_lease_end {
    uint64_t lease, next;
    uint8_t why;
    uint32_t crashes;
    uint64_t ms;
};

/* EVENT: texts are printable ASCII (refused otherwise), NUL-terminated. */
struct msg_event {
    uint8_t kind;
    uint64_t origin_seq, time_ms;
    char name[MESH_MSG_EVENT_NAME_MAX + 1];
    char text[MESH_MSG_EVENT_TEXT_MAX + 1];
};

/* PROGRESS: one entry per worker on a long number. */
enum { MESH_MSG_MAX_HARD = 64 };

struct msg_hard {
    uint64_t batch, index;
    uint32_t worker;       /* < 65536 */
    uint8_t phase;         /* enum factor_phase */
    uint32_t bits;         /* 1..1024 */
    uint64_t b1, found, needed, rate_milli;
    bool eta_known;
    uint64_t eta_s;        /* < UINT64_MAX */
};

struct msg_progress {
    size_t n;
    struct msg_hard hard[MESH_MSG_MAX_HARD];
};

/* Encoders return 0 with a malloc'd buffer, or -1 (ENOMEM). */
int msg_cluster_encode(const struct msg_cluster *m, uint8_t **buf, size_t *len);
int msg_cluster_decode(struct msg_cluster *m, const uint8_t *p, size_t len);
int msg_forward_encode(uint64_t req, const struct qcmd *c, uint8_t **buf, size_t *len);
/* c owns its memory on success. */
int msg_forward_decode(uint64_t *req, struct qcmd *c, const uint8_t *p, size_t len);
int msg_reply_encode(const struct msg_reply *m, uint8_t **buf, size_t *len);
int msg_reply_decode(struct msg_reply *m, const uint8_t *p, size_t len);
int msg_lease_encode(const struct msg_lease *m, uint8_t **buf, size_t *len);
int msg_lease_decode(struct msg_lease *m, const uint8_t *p, size_t len);
int msg_results_encode(const struct msg_results *m, uint8_t **buf, size_t *len);
/* On success free m->items (texts point into p). */
int msg_results_decode(struct msg_results *m, const uint8_t *p, size_t len);
int msg_lease_end_encode(const struct msg_lease_end *m, uint8_t **buf, size_t *len);
int msg_lease_end_decode(struct msg_lease_end *m, const uint8_t *p, size_t len);
int msg_peers_encode(const struct msg_peers *m, uint8_t **buf, size_t *len);
int msg_peers_decode(struct msg_peers *m, const uint8_t *p, size_t len);
int msg_membership_encode(const struct msg_membership_note *m, uint8_t **buf, size_t *len);
int msg_membership_decode(struct msg_membership_note *m, const uint8_t *p, size_t len);
int msg_event_encode(const struct msg_event *m, uint8_t **buf, size_t *len);
int msg_event_decode(struct msg_event *m, const uint8_t *p, size_t len);
int msg_progress_encode(const struct msg_progress *m, uint8_t **buf, size_t *len);
int msg_progress_decode(struct msg_progress *m, const uint8_t *p, size_t len);
int msg_file_get_encode(const struct msg_file_get *m, uint8_t **buf, size_t *len);
int msg_file_get_decode(struct msg_file_get *m, const uint8_t *p, size_t len);
int msg_file_part_encode(const struct msg_file_part *m, uint8_t **buf, size_t *len);
/* Refuses data past total, a "not here" with data, more than a chunk. */
int msg_file_part_decode(struct msg_file_part *m, const uint8_t *p, size_t len);

#endif
