/* commit_push.h - a leader tells its followers a new commit index at once
 * (libraft 0.15), applied at the raft_io boundary like append_clamp.h.
 *
 * Followers learn the commit index from the leader's next AppendEntries,
 * which libraft 0.15 sends an up-to-date follower only once a heartbeat
 * (30 ms on a node) has passed: a write then waited up to a heartbeat
 * before its submitter's replica, or a reader elsewhere, saw it. A
 * barrier entry carried it sooner (the node's fix until this module), but
 * a follower raises its commit index on an entry only once it has written
 * that entry (replication.c, appendFollowerCb): a disk write on every
 * follower, on the path of every answer, and an entry a write. An empty
 * AppendEntries is applied on receipt.
 *
 * So when the leader's pipeline runs dry (its last proposal committed, no
 * later entry will carry the index), or while dry a follower stored
 * entries already committed (the slower copy: the message it stored them
 * from carried an older index), the leader heartbeats now the followers
 * it streams to: their last send is set a heartbeat back and raft's own
 * tick runs (progressShouldReplicate finds them due; the tick's other
 * checks go by the clock and are not hastened). A follower being probed
 * or sent a snapshot keeps its one message a heartbeat: a probe resends
 * entries. The tick runs outside raft's callbacks (commit_push_run, from
 * the loop's check phase on a node, after a step in the simulator). */
#ifndef MESH_COMMIT_PUSH_H
#define MESH_COMMIT_PUSH_H

#include <raft.h>
#include <stdbool.h>
#include <stddef.h>

struct commit_push {
    raft_io_tick_cb tick;       /* raft's own, kept at io->start */
    bool wanted;                /* a commit index to tell (commit_push_run) */
    /* The AppendEntries result being read: its sender and match before. */
    bool reading_result;
    raft_id from;
    raft_index before;
};

/* raft started its io with `tick`. */
void commit_push_start(struct commit_push *p, raft_io_tick_cb tick);
/* A proposal of ours ended (ok: committed), `in_flight` of ours left. */
void commit_push_done(struct commit_push *p, bool ok, size_t in_flight);
/* Around raft's recv of `m`: before raft reads it, and once it has. */
void commit_push_read(struct commit_push *p, const struct raft *r, const struct raft_message *m);
void commit_push_read_done(struct commit_push *p, const struct raft *r, size_t in_flight);
/* Outside raft's callbacks: heartbeat the streamed-to followers now if a
 * commit index is to be told (and r still leads). */
void commit_push_run(struct commit_push *p, struct raft *r, struct raft_io *io);

#endif
