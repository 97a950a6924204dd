/* events.h - the mesh's event log: a ring of recent events (joins, leaves,
 * elections, drains, requeues, refused peers, membership changes, errors).
 *
 * Pure data structure, no I/O: the node owns one (struct node.events) and
 * records into it through node_event() (node.h), which also logs the line
 * and tells linked peers. The dashboard's log panel, `mesh events` and
 * the metrics read the same ring.
 *
 * Every event has a local sequence number (1, 2, ... in the order this node
 * recorded it: what `mesh events --after SEQ` follows) and its origin's own
 * (origin, origin_seq), which is what duplicates are recognised by when the
 * same event reaches a node twice. Texts are sanitised on the way in:
 * printable ASCII only, so a peer's name can never carry a terminal escape
 * to a screen or a log. */
#ifndef MESH_EVENTS_H
#define MESH_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mesh_event_kind {
    MESH_EV_JOIN = 1,     /* a node joined the mesh (linked, or added to it) */
    MESH_EV_LEAVE,        /* a node left or its link went down */
    MESH_EV_ELECTION,     /* a leader was elected / leadership changed */
    MESH_EV_DRAIN,        /* a node was drained */
    MESH_EV_UNDRAIN,      /* a node takes work again */
    MESH_EV_REQUEUE,      /* leased numbers went back to the queue */
    MESH_EV_REFUSED,      /* a peer was refused (wrong key, bad handshake...) */
    MESH_EV_MEMBER,       /* voter added / removed / promoted / demoted */
    MESH_EV_BATCH,        /* a batch was submitted, finished or cancelled */
    MESH_EV_ERROR,        /* an error worth the user's attention */
    MESH_EV_WARNING,      /* a warning of a node's log */
    MESH_EV_KIND_END,
};

enum {
    EVENTS_RING = 256,        /* events kept */
    EVENT_TEXT_MAX = 160,     /* bytes of text kept, NUL included */
    EVENT_NAME_MAX = 64,      /* origin node name, NUL included */
};

struct mesh_event {
    uint64_t seq;             /* local: 1, 2, ... in recording order */
    uint64_t origin;          /* node id of the node it happened on */
    uint64_t origin_seq;      /* that node's own sequence number */
    uint64_t time_ms;         /* wall clock (Unix ms) at the origin */
    enum mesh_event_kind kind;
    char origin_name[EVENT_NAME_MAX];
    char text[EVENT_TEXT_MAX];
};

struct events {
    struct mesh_event ring[EVENTS_RING];
    size_t next;              /* slot the next event goes to */
    size_t count;
    uint64_t last_seq;        /* local seq of the latest event (0: none) */
    uint64_t own_seq;         /* the latest origin_seq this node gave out */
    uint64_t by_kind[MESH_EV_KIND_END]; /* events recorded per kind */
};

/* own_seq_base: where this node's own numbering starts. Pass the start-up
 * wall clock in ms so that a restarted node's events are not taken for
 * duplicates of its earlier ones. */
void events_init(struct events *ev, uint64_t own_seq_base);

/* Records an event; its text and name are sanitised. origin_seq 0 means a
 * new event of this node (a fresh origin_seq is given). Returns the stored
 * event, or NULL when (origin, origin_seq) is already in the ring. */
const struct mesh_event *events_add(struct events *ev, enum mesh_event_kind kind,
                                    uint64_t origin, uint64_t origin_seq,
                                    uint64_t time_ms, const char *origin_name,
                                    const char *text);

/* Copies up to max events with seq > after, oldest first; returns how many.
 * Events that fell out of the ring are gone. */
size_t events_since(const struct events *ev, uint64_t after, struct mesh_event *out,
                    size_t max);
/* The latest max events, oldest first. */
size_t events_latest(const struct events *ev, struct mesh_event *out, size_t max);

/* "join", "leave", "election", ... ("?" for an unknown kind). */
const char *events_kind_name(enum mesh_event_kind kind);
/* Parses a kind name; -1 when unknown. */
int events_kind_parse(const char *name);

/* Copies src into dst (size > 0) keeping printable ASCII, replacing every
 * other byte (control characters, escapes, bytes >= 0x7f) with '?'. */
void events_sanitize(char *dst, size_t size, const char *src);

#endif
