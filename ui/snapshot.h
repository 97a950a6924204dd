/* snapshot.h - what the dashboard shows: a plain copy of the node's state,
 * filled by the node (src/node_snapshot.c) a few times a second. The
 * dashboard reads only this and acts only through struct ui_actions, the
 * same operations the CLI uses; it knows nothing of links, raft or avahi. */
#ifndef MESH_UI_SNAPSHOT_H
#define MESH_UI_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { UI_MAX_NODES = 128, UI_MAX_BATCHES = 64, UI_LOG_LINES = 8 };

struct ui_node {
    char id[17];
    char name[64];
    char role[16];         /* "leader", "peer", ... */
    char state[16];        /* "active", "draining", "drained" */
    bool self, connected;
    unsigned workers, busy;
    double rate;           /* numbers per second */
    uint64_t done;
    double last_heard_s;   /* seconds since last heard; -1 never; 0 for self */
};

struct ui_batch {
    uint64_t id;
    char name[64];
    char state[16];        /* "running", "done", "cancelled" */
    uint64_t total, done, unfactored;
};

struct ui_snapshot {
    char leader[17];       /* "" when none */
    struct ui_node nodes[UI_MAX_NODES];   /* nodes[0] is this node */
    size_t n_nodes;
    struct ui_batch batches[UI_MAX_BATCHES]; /* the most recent ones */
    size_t n_batches;
    bool mdns_enabled, mdns_running;
    unsigned foreign_meshes;
    bool weak_key;         /* the authkey is guessable: warn in the header */
    char log[UI_LOG_LINES][160]; /* the latest log lines, oldest first */
    size_t n_log;
};

#endif
