/* append_clamp.h - two fixes for libraft 0.15's follower, applied at the
 * raft_io boundary (doc/DESIGN.md, "A follower's stale entries").
 *
 * libraft 0.15 (replication.c, recv_append_entries.c; upstream to its
 * last release) uses the follower's last stored index where Raft says
 * "the index of the last new entry" of the AppendEntries being answered:
 *   - it raises its commit index to min(leader_commit, last stored), and
 *   - it answers an accepted AppendEntries with last_log_index = last
 *     stored, which the leader takes as the follower's match index.
 * A follower holding uncommitted entries of an old term past the point a
 * heartbeat checks (prev_log_index) so commits and applies entries nobody
 * committed, and makes the leader count them as its own: the leader then
 * commits its own entry at that index with too few copies (mesh-sim seed
 * 31530735564818: two different entries committed at index 13, the
 * follower shut down by raft on seeing the conflict) or never sends the
 * follower the right one (seed 115).
 *
 * The clamp lowers both numbers to what the message carried:
 * leader_commit to prev_log_index + n_entries before raft reads an
 * AppendEntries, and last_log_index of the answer raft sends while still
 * reading it (an answer without new entries to store; answers sent after
 * an append are right: the log then ends at that message's last entry).
 * Lowering either is always safe: a commit index and a match index only
 * come from later messages, never go back. */
#ifndef MESH_APPEND_CLAMP_H
#define MESH_APPEND_CLAMP_H

#include <raft.h>
#include <stdbool.h>
#include <stdint.h>

struct append_clamp {
    bool reading;               /* inside raft's recv of an AppendEntries */
    raft_index carried;         /* its prev_log_index + n_entries */
    uint64_t commits_lowered;   /* leader_commit lowered (a heartbeat past stale entries) */
    uint64_t matches_lowered;   /* an answer's last_log_index lowered */
    /* The io's own methods and raft's receive callback (for the callers'
     * wrappers: see consensus.c and tests/consensus/cluster.c). */
    int (*io_start)(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick,
                    raft_io_recv_cb recv);
    int (*io_send)(struct raft_io *io, struct raft_io_send *req,
                   const struct raft_message *message, raft_io_send_cb cb);
    raft_io_recv_cb recv;
};

/* Before raft reads m: an AppendEntries' leader_commit lowered to the last
 * index it carries; the clamp remembers that index until read_done. */
void append_clamp_read(struct append_clamp *g, struct raft_message *m);
void append_clamp_read_done(struct append_clamp *g);
/* Before the io sends m (the caller's copy of raft's message): an accepted
 * AppendEntries answer sent while reading one reports at most what that
 * message carried. */
void append_clamp_send(struct append_clamp *g, struct raft_message *m);
/* Whether m has somewhere to go. libraft 0.15 answers an AppendEntries
 * once its entries are stored (appendFollowerCb), to the leader it knows
 * *then*: a follower that became a candidate, or learned a new term with
 * no leader yet, meanwhile sends to server 0 at a NULL address, and
 * raft_uv's send takes strlen(NULL) (soak.sh under load, a node's SIGSEGV
 * in __strlen_evex from clamped_send, two runs). Such an answer is
 * dropped with RAFT_NOCONNECTION, which raft handles as any failed send
 * (the next leader asks again). */
bool append_clamp_addressed(const struct raft_message *m);

#endif
