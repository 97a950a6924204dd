/* dispatch.h - the runtime's dispatcher: who handles each link message,
 * who runs on the 250 ms cluster tick, who hears of each applied entry.
 *
 * The routes are const tables (routes.c, the one file that names every
 * handler, as cmd.c names every command); each module exports handlers of
 * the uniform shapes below. dispatch.c walks whatever tables it is given and
 * knows no module, so the modules sit below it and the table above it: no
 * hub that calls everyone and is called back by everyone. */
#ifndef MESH_NODE_DISPATCH_H
#define MESH_NODE_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct node;
struct consensus_applied;

typedef void (*node_msg_fn)(struct node *n, uint64_t peer, const uint8_t *data, size_t len);
/* A handler of a range of types (raft's) is told which. */
typedef void (*node_range_fn)(struct node *n, uint64_t peer, uint8_t type, const uint8_t *data,
                              size_t len);
typedef void (*node_tick_fn)(struct node *n);
typedef void (*node_peer_fn)(struct node *n, uint64_t peer);
typedef void (*node_applied_fn)(struct node *n, const struct consensus_applied *a);

/* Link message types first..last go to `handle` (or `handle_range`). A type may have more than
 * one row (REPLY: the write waiting for it, and a merge); they run in table
 * order. Rows without `any_time` are skipped when the message arrives while
 * consensus is closed (a restart, or shutdown): the state they act on is
 * not there. */
struct node_msg_route {
    uint8_t first, last;
    bool any_time;
    const char *module;
    node_msg_fn handle;
    node_range_fn handle_range;
};

struct node_tick_route {
    const char *module;
    node_tick_fn tick;
};

struct node_peer_route {
    const char *module;
    node_peer_fn on_peer;
};

/* One of the two is set: `entry` sees the applied entry, `then` only that
 * the replica moved on. */
struct node_applied_route {
    const char *module;
    node_applied_fn entry;
    node_tick_fn then;
};

struct msg_lease;
struct msg_lease_end;
struct msg_result;

/* Each table ends with a row whose functions are all NULL. Past the
 * tables, what a module asks without naming who does it: stopping the node
 * and restarting consensus (their owners call the modules that ask), and
 * the messages a node hands itself, decoded (the leader leasing to itself,
 * its own worker's results). These are the seams a simulator wires too. */
struct node_routes {
    const struct node_msg_route *messages;
    const struct node_tick_route *ticks;
    const struct node_applied_route *applied;
    const struct node_tick_route *restored;   /* a snapshot replaced the replica */
    const struct node_tick_route *leader;     /* the leader changed (n->known_leader) */
    /* a finished batch's results became readable here (its file loaded or
     * fetched, result_fetch.c): readers waiting for them go on at once */
    const struct node_tick_route *readable;
    const struct node_peer_route *peer_up, *peer_down;  /* a link came up, went down */
    void (*stop)(struct node *n);
    void (*restart)(struct node *n, bool discard);
    void (*own_lease)(struct node *n, uint64_t from, const struct msg_lease *l);
    void (*own_results)(struct node *n, uint64_t from, uint64_t batch,
                        const struct msg_result *items, size_t count);
    void (*own_lease_end)(struct node *n, uint64_t from, const struct msg_lease_end *e);
};

/* The node's own tables (routes.c). */
extern const struct node_routes node_routes;

/* Hands a message from `peer` to every row routing its type; returns how
 * many handled it: 0 for a type no row routes (dropped, nothing called). */
size_t dispatch_message(const struct node_routes *r, struct node *n, uint64_t peer,
                        uint8_t type, const uint8_t *data, size_t len);
/* How many rows route `type` (what dispatch_message would call, with
 * consensus open). */
size_t dispatch_routes_of(const struct node_routes *r, uint8_t type);
void dispatch_tick(const struct node_routes *r, struct node *n);
void dispatch_applied(const struct node_routes *r, struct node *n,
                      const struct consensus_applied *a);
void dispatch_restored(const struct node_routes *r, struct node *n);
void dispatch_leader(const struct node_routes *r, struct node *n);
void dispatch_readable(const struct node_routes *r, struct node *n);
/* A link to `peer` came up or went down; nothing while consensus is closed. */
void dispatch_peer(const struct node_routes *r, struct node *n, uint64_t peer, bool up);

/* The node's routes' hooks (n->routes), with this node as sender. */
void dispatch_stop(struct node *n);
void dispatch_restart(struct node *n, bool discard);
void dispatch_own_lease(struct node *n, const struct msg_lease *l);
void dispatch_own_results(struct node *n, uint64_t batch, const struct msg_result *items,
                          size_t count);
void dispatch_own_lease_end(struct node *n, const struct msg_lease_end *e);

#endif
