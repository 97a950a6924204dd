/* view.h - the ONE view of the mesh: a plain copy of the node's state,
 * built by src/node/snapshot.c, shown by the dashboard a few times a second and
 * serialised by `mesh status --json` (src/api.c), so both say the same. The
 * dashboard reads only this and acts only through struct ui_actions, the
 * same operations the CLI uses; it knows nothing of links, raft or avahi. */
#ifndef MESH_VIEW_H
#define MESH_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { VIEW_MAX_NODES = 1024, VIEW_MAX_BATCHES = 1024, VIEW_EVENTS = 32, VIEW_MAX_HARD = 256,
       VIEW_MAX_SPREAD = 16, VIEW_SPREAD_NODES = 16 };

struct view_node {
    char id[17];
    char name[64];
    char role[16];         /* "leader", "voter", "standby", "joining", "worker" */
    char state[16];        /* "active", "draining", "drained", "down" */
    char addr[64];         /* "ip:port" of its link ("" for self) */
    bool self, connected;
    unsigned workers, busy;
    double rate;           /* numbers per second */
    uint64_t done;         /* numbers this node factored since it started */
    uint64_t unfactored;
    double last_heard_s;   /* seconds since last heard; -1 never; 0 for self */
    unsigned leases;       /* leases it holds (known on the leader; else 0) */
    uint64_t refused;      /* its results this node refused as leader */
};

/* One line of the mesh's event log (src/events.h), texts sanitised. */
struct view_event {
    uint64_t seq;
    char time[9];          /* "HH:MM:SS" UTC */
    char kind[12];         /* "join", "drain", "election", ... */
    char node[64];         /* the node it happened on */
    char text[160];
    unsigned repeat;       /* >1: this many like it in a row were folded
                              into this line (the latest; first_time is
                              the first's) */
    char first_time[9];
};

struct view_batch {
    uint64_t id;
    char name[64];
    char state[16];        /* "running", "done", "cancelled" */
    uint64_t total, done, unfactored;
    uint32_t chunk;
    uint64_t budget_ms;    /* its own budget per number (batch.h:
                              BATCH_BUDGET_DEFAULT, _NONE, or ms) */
    bool results_elsewhere; /* restored from a manifest snapshot, its results
                              file not loaded or fetched yet (result_fetch.c) */
    bool results_missing;  /* ... and every linked peer said "not here" */
    unsigned results_asked; /* ... that many peers */
    uint64_t results_wait_since_ms; /* wall clock: looked for since (0: not yet) */
};
/* A worker on a long number (src/factor/progress.h): where it is. */
struct view_hard {
    char node[17];         /* the node's id */
    uint64_t batch, index;
    unsigned worker;       /* its slot on that node */
    char phase[8];         /* "ecm", "sieving", "matrix", "sqrt", "pari" */
    unsigned bits;         /* of the composite being split */
    uint64_t b1;           /* ECM's bound; 0 outside ECM */
    uint64_t found, needed;/* curves (ECM) or relation sets (sieving) */
    double rate;           /* found per second */
    bool eta_known;
    uint64_t eta_s;
};

/* A hard number sieved by the whole mesh (src/node/spread_progress.h):
 * its coordinator's counts and the nodes whose workers sieve it now. */
struct view_spread {
    uint64_t batch;        /* the spread batch */
    uint64_t for_batch;    /* the batch whose number it is (0: none, a
                              `submit --spread` batch of its own) */
    uint64_t index;        /* the number's index there (or the spread
                              batch's last, N's own) */
    char node[17];         /* the coordinator: the leader */
    char phase[8];         /* "sieving" or "matrix" (a combine runs) */
    unsigned bits;
    uint64_t found, needed;/* relation sets mesh-wide, those the combine wants */
    double rate;           /* sets per second since this leader counts */
    bool eta_known;
    uint64_t eta_s;
    unsigned n_nodes;      /* nodes sieving it now (their ids below) */
    char nodes[VIEW_SPREAD_NODES][17];
};

/* Batches are listed running first, then the others; newest first in each
 * (the order of the dashboard's panel and `mesh status`). */

struct mesh_view {
    char leader[17];       /* "" when none */
    uint64_t term, commit_index, applied_index;
    unsigned voters, reachable;  /* voters in the configuration; linked ones */
    bool quorum_ok;
    char cluster_id[17];   /* "" until this node belongs to a cluster */
    size_t n_batches_total; /* batches in the queue (batches[] holds the latest) */
    struct view_node nodes[VIEW_MAX_NODES];   /* nodes[0] is this node */
    size_t n_nodes;
    struct view_batch batches[VIEW_MAX_BATCHES]; /* the most recent ones */
    size_t n_batches;
    bool mdns_enabled, mdns_running;
    unsigned foreign_meshes;
    bool weak_key;         /* the authkey is guessable: warn in the header */
    /* Numbers of the running batches: waiting, being factored now (busy
     * workers of the linked nodes), and done in every batch shown. */
    uint64_t pending, in_flight, done;
    /* Retention (src/node/retain.c): what the batches kept hold against
     * --results-budget; full: running batches alone fill it, so submits
     * are refused; in_memory: of the bytes, those held in this node's memory
     * (pages not moved to files yet, src/node/spill.c). */
    struct {
        uint64_t batches, bytes, running_bytes, budget, keep_ms, forgotten, in_memory;
        bool full;
    } retained;
    char disk_full[160];   /* "" or why this node refuses writes (a full disk) */
    struct view_hard hard[VIEW_MAX_HARD]; /* workers on long numbers, this
                                              node's first (src/node/hard.h) */
    size_t n_hard;
    struct view_spread spread[VIEW_MAX_SPREAD]; /* hard numbers on the
                                                    whole mesh */
    size_t n_spread;
    struct view_event events[VIEW_EVENTS]; /* the latest events, oldest first */
    size_t n_events;
};

#endif
