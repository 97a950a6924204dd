/* sim.h - mesh-sim: N servers in one thread, on libraft's fixture (fake
 * clock and network), each running the real queue behind the real fsm
 * adapter (tests/consensus/cluster.h). Around it, the node runtime's own
 * work plane (src/node/lead.c and work.c, and the rules under them, linked
 * in), wired to the simulator through their seams (struct lead_io, struct
 * work_io) as lead_node.c and work_node.c wire them to the node:
 * the leader leases ranges from the real scheduler, workers factor them
 * with the real kernel, the leader checks each result with the real
 * verifier and proposes them as COMPLETE_BLOCK entries. Faults, delays and every other choice come from
 * one PRNG seeded by --seed, so a run replays exactly from its seed
 * (doc/DESIGN.md, "The simulator (tests/sim)"). */
#ifndef MESH_SIM_H
#define MESH_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster.h"
#include "factor.h"
#include "meshmsg.h"
#include "rng.h"
#include "scheduler.h"
#include "stall_watch.h"
#include "verify.h"

enum {
    SIM_MAX_SERVERS = 7,
    SIM_MAX_WORKERS = 3,
    SIM_STEP_MS = 10,           /* simulated time per step */
    SIM_MAX_BATCHES = 12,       /* client batches per run */
    SIM_BUDGET_MS = 2000,       /* every batch's budget per number */
    SIM_HOLD_PERMILLE = 2,      /* slow-node faults per 1000 steps */
    SIM_MAX_COPIES = 4,         /* committed blocks one result may be in */
};

/* A message between nodes' work planes (raft's own messages travel in the
 * fixture). Delivered at `due` unless its link is cut or its target dead
 * by then; a paused target keeps it waiting. */
enum sim_msg_type {
    SIM_LEASE = 1, SIM_LEASE_END, SIM_RESULTS, SIM_SUBMIT, SIM_CANCEL,
    SIM_DRAIN, /* lo: the server, done: drained or not */
};
struct sim_msg {
    enum sim_msg_type type;
    unsigned from, to;
    uint64_t due, seq;
    uint8_t *data;                       /* LEASE, LEASE_END, RESULTS: the link */
    size_t len;                          /* message as lead.c and work.c encode it */
    uint64_t lease;                      /* LEASE, LEASE_END: its lease (check.c) */
    uint64_t lo;
    bool done;
    size_t client;                       /* SUBMIT, CANCEL: index in sim.batches */
    struct sim_msg *link;
};

/* What a client asked for: sent to a random server, and again to another
 * after a random timeout, until the server it asked last shows the batch
 * applied (the answer a node gives once its replica applied the write).
 * A timeout shorter than the commit makes a second SUBMIT with the same
 * write token: the queue must take it as the same batch. */
struct sim_batch {
    uint64_t token;
    struct batch_spec spec;
    uint64_t id;                /* the id it got when first applied (0: not yet) */
    bool acked;                 /* the client was answered (the SUBMIT, or
                                   once cancel is set the CANCEL) */
    bool cancel;                /* the client cancels it */
    unsigned asked;             /* the server asked last */
    uint64_t next_try_ms;
    uint64_t total;
};

/* The operator's drain or undrain of one server, sent like a client's
 * write until the server asked shows it applied. */
struct sim_drain {
    bool want, acked;
    unsigned asked;
    uint64_t next_try_ms;
};

struct sim_lead;
struct sim_work;
struct lease;

struct sim_node {
    struct sim *sim;            /* the ud of its lead_io and work_io */
    unsigned index;
    bool alive;                 /* false: killed (soft state lost) */
    bool paused;                /* SIGSTOP: raft stopped, soft state kept */
    uint64_t held_until;        /* a slow node (its loop held: a starved CPU,
                                   a long fsync): paused until then, 0: not */
    uint64_t liar_until;        /* sends wrong results until then (a bad
                                   memory, a broken build: the leader must
                                   refuse them) */
    unsigned workers;
    unsigned latency_ms;        /* its messages' base delay */
    unsigned known_leader;      /* server index + 1, 0: none */
    struct sim_work *work;      /* soft state: lost on a kill */
    struct sim_lead *lead;      /* while it leads */
};

struct sim_stats {
    uint64_t numbers, submits, drains, raft_stalls, lies_refused, results_committed, kills, pauses, partitions,
        leader_changes, messages_lost, restores, entries, failovers,
        counts_held, /* answers term_quorum.h held back from a leader's count */
        /* What lead.c and work.c told (their events and log lines): the
         * scenarios of the cluster tests the simulator took over (main.c,
         * --require-scenarios). */
        requeued_dead,    /* leases of a killed node requeued: its link went down */
        expired_paused,   /* a paused node's lease expired and was requeued */
        settled_requeued, /* a range ended but never committed, leased again */
        results_resent,   /* results not committed 3 s after sending, sent again */
        holds,            /* slow-node faults (one or several nodes held) */
        holds_leader,     /* ... holding the leader and another node at once */
        /* Results in committed blocks that were already recorded (counted
         * once per log index), and the longest time after the heal
         * without a newly recorded result while work was left. */
        duplicates, max_stall_ms,
        max_copies;       /* the most committed blocks one result was in */
};

struct sim {
    uint64_t seed;
    unsigned steps;
    bool verbose;
    bool lasting_liars;         /* every liar lies until the faults end */
    bool push_commit;           /* leaders tell commits at once (commit_push.h) */
    bool strict_raft;           /* a follower left behind by libraft fails
                                   the run (run.c, guard) */
    unsigned election_ms;       /* raft's election timeout (0: libraft's) */
    unsigned hold_permille;     /* slow-node faults per 1000 steps */
    unsigned max_copies;        /* committed blocks one result may be in; 0: unchecked */
    struct sim_rng rng;
    struct sim_rng slow_rng;    /* the slow-node fault's own stream: the
                                   other choices of a seed stay as they were */
    uint64_t progress_ms;       /* after the heal: the last newly recorded result */
    struct cluster c;           /* c.f is the fixture: must not move */
    unsigned n;
    struct sim_node nodes[SIM_MAX_SERVERS];
    bool cut[SIM_MAX_SERVERS][SIM_MAX_SERVERS];
    unsigned loss_pct;          /* work-plane messages lost on the way */
    bool faults;                /* the fault window is open */
    uint64_t healed_ms;         /* when the faults ended (0: not yet) */
    uint64_t failover_ms;       /* the leader killed after the heal (0: not) */
    unsigned failover_node;     /* ... which (index + 1; 0 once revived) */
    bool failover_tried;
    uint64_t working_checked_ms;
    uint64_t heal_at;           /* when the current partition heals */
    struct sim_msg *inflight;   /* by (due, seq) */
    uint64_t msg_seq;
    struct sim_batch batches[SIM_MAX_BATCHES];
    struct sim_drain drains[SIM_MAX_SERVERS];
    size_t n_batches;
    struct factor_ctx *fctx;
    const struct factor_verifier *verifier;
    /* Invariants' memory. */
    uint64_t *state_hash;       /* per log index: the first replica's queue */
    size_t cap_hash;
    uint64_t *term_leader;      /* per term: who led it (a raft id) */
    size_t cap_term;
    uint64_t *entry_term;       /* per log index: the term of the entry applied there */
    size_t cap_entry_term;
    uint64_t recorded[SIM_MAX_SERVERS][SIM_MAX_BATCHES];
    bool cancelled[SIM_MAX_SERVERS][SIM_MAX_BATCHES]; /* CANCEL applied there */
    uint16_t *copies[SIM_MAX_BATCHES]; /* per result: committed blocks holding it */
    raft_index max_commit;
    unsigned last_leader;       /* index + 1, for counting changes */
    /* The runtime's guard (run.c, guard; src/consensus/stall_watch.h). */
    struct stall_watch watch[SIM_MAX_SERVERS];
    unsigned watch_leader;      /* index + 1 of the leader watching */
    raft_term watch_term;
    struct raft_transfer transfer;
    bool transferring;
    struct sim_stats stats;
    char failure[512];          /* set once: the run stops */
};

static inline uint64_t sim_now(const struct sim *s)
{
    return s->c.f.time;
}

/* run.c: one whole run. 0 passed, -1 with s->failure set. digest: a hash
 * of the final state, the same for the same seed and steps. */
int sim_run(struct sim *s, uint64_t seed, unsigned steps, struct factor_ctx *fctx,
            const struct factor_verifier *v, uint64_t *digest);
/* Records the first failure (later ones are consequences). */
void sim_fail(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A snapshot replaced replica i's queue: a scheduler reading the old one
 * starts again on the new (node_lead_on_queue_replaced). */
void sim_on_restored(struct sim *s, unsigned i);
/* Can server i reach j (both alive, link not cut)? */
bool sim_reachable(const struct sim *s, unsigned i, unsigned j);

/* links.c: the work plane's network. */
struct sim_msg *sim_msg_new(enum sim_msg_type type, unsigned from, unsigned to);
void sim_msg_free(struct sim_msg *m);
void sim_send(struct sim *s, struct sim_msg *m);
/* The next message due by now whose target can take it, or NULL. */
struct sim_msg *sim_next_delivery(struct sim *s);
void sim_links_close(struct sim *s);
/* A link message of lead.c or work.c (MESH_MSG_*) from one server to
 * another: 0 on its way, -1 refused (the link is down, as node_send). */
int sim_send_bytes(struct sim *s, unsigned from, unsigned to, uint8_t type, const uint8_t *data,
                   size_t len);
/* Is a message of this type and lease on the way from one to another? */
bool sim_in_flight(const struct sim *s, enum sim_msg_type type, unsigned from, unsigned to,
                   uint64_t lease);

/* lead.c: the leader's half (src/node/lead.c, wired to the simulator). */
void sim_lead_start(struct sim *s, unsigned i);
void sim_lead_stop(struct sim *s, unsigned i);
void sim_lead_tick(struct sim *s, unsigned i);
void sim_lead_flush(struct sim *s, unsigned i);
/* A RESULTS or LEASE_END delivered to server i (nothing unless it leads). */
void sim_lead_on_msg(struct sim *s, unsigned i, const struct sim_msg *m);
/* Server i's own results and lease ends, from its work side. */
void sim_lead_on_own_results(struct sim *s, unsigned i, uint64_t batch,
                             const struct msg_result *items, size_t count);
void sim_lead_on_own_lease_end(struct sim *s, unsigned i, const struct msg_lease_end *e);
/* Replica i applied an entry of this type (a submit or drain: leases). */
void sim_lead_on_applied(struct sim *s, unsigned i, enum qcmd_type type);
/* A client's SUBMIT or CANCEL, proposed. */
void sim_lead_on_write(struct sim *s, unsigned i, size_t client, bool cancel);
size_t sim_lead_leases(const struct sim *s, unsigned i);
/* The leases server i counts while it leads (lease_table_first), or NULL. */
const struct lease *sim_lead_first(const struct sim *s, unsigned i);

/* work.c: a node's worker side (src/node/work.c, wired to the simulator,
 * with worker slots in place of the worker pool). */
void sim_work_start(struct sim *s, unsigned i);
void sim_work_stop(struct sim *s, unsigned i);
/* A LEASE delivered to server i, or handed by its own leader. */
void sim_work_on_msg(struct sim *s, unsigned i, const struct sim_msg *m);
void sim_work_on_own_lease(struct sim *s, unsigned i, const struct msg_lease *l);
void sim_work_on_leader_change(struct sim *s, unsigned i);
void sim_work_run(struct sim *s, unsigned i);
/* Does server i hold lease `lease` of `granter` (a raft id): waiting for a
 * worker, or being worked on? */
bool sim_work_holds(const struct sim *s, unsigned i, uint64_t granter, uint64_t lease);
/* Replica i applied an entry (rc 0: taken) of this type: its outbox
 * learns of commits, a cancel stops the batch's workers. */
void sim_work_on_applied(struct sim *s, unsigned i, int rc, enum qcmd_type type,
                         uint64_t batch);

void sim_lead_on_drain(struct sim *s, unsigned i, unsigned node, bool drained);

/* client.c */
void sim_clients_step(struct sim *s, bool faults);
/* The operator undrains every server (the faults healed). */
void sim_clients_undrain(struct sim *s);

/* faults.c */
void sim_faults_step(struct sim *s);
void sim_faults_heal(struct sim *s);
/* Cuts (or joins again) server i from every other. */
void sim_faults_isolate(struct sim *s, unsigned i, bool cut);
/* Kills server i (soft state lost), or starts it again. */
void sim_faults_kill(struct sim *s, unsigned i);
void sim_faults_revive(struct sim *s, unsigned i);

/* check.c: the invariants. */
void sim_check_install(struct sim *s);
void sim_check_step(struct sim *s);
/* After the faults ended: no live node sits idle under a lease its leader
 * counts and it does not hold (issue 18's phantom leases). */
void sim_check_working(struct sim *s);
/* After the faults healed: true when every accepted batch is done and
 * every replica caught up (then the final checks ran). */
bool sim_check_quiet(struct sim *s);
void sim_check_final(struct sim *s);
void sim_check_close(struct sim *s);
uint64_t sim_queue_hash(const struct queue *q);
/* The term of entry x in raft's in-memory log (0: not there). */
raft_term sim_term_of(const struct raft_log *l, raft_index x);

#endif
