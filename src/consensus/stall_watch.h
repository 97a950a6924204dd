/* stall_watch.h - the leader's guard against a follower left behind
 * (doc/DESIGN.md, "A follower's stale entries": the guard).
 *
 * libraft 0.15 has left followers behind the leader's commit index until
 * the next leader change (seeds 115 and 768: a stale match index, a
 * snapshot offered again and again). append_clamp.h removes the cause
 * known; this guard bounds any other: a follower that keeps answering the
 * leader while what it reached stays the same, below the commit index, for
 * STALL_WATCH_BOUND_MS is stuck, and a new leader (whose progress for every
 * follower starts over) is what unsticks it. What it reached is the
 * leader's match index for it, or the index the follower says it applied
 * (the node's gossip) when lower: with a stale match (seed 115) the
 * leader's match index equals its commit while the follower applies
 * nothing more. The
 * decision is pure (the clock passed in): consensus.c and the simulator
 * (tests/sim/run.c) use it alike. */
#ifndef MESH_STALL_WATCH_H
#define MESH_STALL_WATCH_H

#include <stdbool.h>
#include <stdint.h>

enum {
    /* Stuck this long: hand leadership over. Past libraft's own remedy for
     * a lost InstallSnapshot answer: the leader waits install_snapshot_timeout
     * (30 s by default, the node's too) with its match index where it was,
     * then probes again (mesh-sim seed 269: a 20 s bound fired while the
     * follower had installed the snapshot and the leader waited). */
    STALL_WATCH_BOUND_MS = 45000,
    STALL_WATCH_ANSWER_MS = 3000,  /* "answering": heard from within this */
};

/* One follower as its leader sees it; zeroed when the leader starts. */
struct stall_watch {
    bool heard;                 /* answered at least once */
    bool behind;                /* below the commit index at `reached` since since_ms */
    uint64_t heard_ms, since_ms, reached;
};

/* One look at now_ms: match is the leader's match index for the follower,
 * applied the index the follower last said it applied (UINT64_MAX: not
 * known), commit the leader's commit index, answered whether the follower
 * answered since the last look. True when it answered all along and the
 * lower of match and applied stayed the same, below the commit, for
 * bound_ms; the watch then starts again (one verdict per bound while it
 * lasts). A follower that is silent, catches up, or moves at all is not
 * stuck. */
bool stall_watch_look(struct stall_watch *w, uint64_t match, uint64_t applied, uint64_t commit,
                      bool answered, uint64_t now_ms, uint64_t bound_ms);

#endif
