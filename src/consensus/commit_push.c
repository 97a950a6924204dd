/* commit_push.c - see commit_push.h. */
#include "commit_push.h"

/* libraft 0.15's PROGRESS__PIPELINE (src/progress.h, not exported): a
 * follower that took the last AppendEntries and is streamed to. */
enum { RAFT_PROGRESS_PIPELINE = 1 };

void commit_push_start(struct commit_push *p, raft_io_tick_cb tick)
{
    *p = (struct commit_push){.tick = tick};
}

void commit_push_done(struct commit_push *p, bool ok, size_t in_flight)
{
    if (ok && in_flight == 0)
        p->wanted = true;
}

/* A follower's match index, or 0 (not the leader, not in the configuration). */
static raft_index match_of(const struct raft *r, raft_id id)
{
    if (r->state != RAFT_LEADER || r->leader_state.progress == NULL)
        return 0;
    for (unsigned i = 0; i < r->configuration.n; i++)
        if (r->configuration.servers[i].id == id)
            return r->leader_state.progress[i].match_index;
    return 0;
}

void commit_push_read(struct commit_push *p, const struct raft *r, const struct raft_message *m)
{
    p->reading_result = m->type == RAFT_IO_APPEND_ENTRIES_RESULT &&
                        m->append_entries_result.rejected == 0;
    p->from = m->server_id;
    p->before = p->reading_result ? match_of(r, m->server_id) : 0;
}

void commit_push_read_done(struct commit_push *p, const struct raft *r, size_t in_flight)
{
    if (!p->reading_result)
        return;
    p->reading_result = false;
    raft_index after = match_of(r, p->from);
    /* With entries of ours in flight, their AppendEntries tell it. */
    if (in_flight == 0 && after > p->before && after <= r->commit_index)
        p->wanted = true;
}

void commit_push_run(struct commit_push *p, struct raft *r, struct raft_io *io)
{
    if (!p->wanted)
        return;
    p->wanted = false;
    if (p->tick == NULL || r->state != RAFT_LEADER || r->leader_state.progress == NULL)
        return;
    raft_time now = io->time(io);
    if (now < r->heartbeat_timeout)
        return;
    bool due = false;
    for (unsigned i = 0; i < r->configuration.n; i++) {
        struct raft_progress *f = &r->leader_state.progress[i];
        if (r->configuration.servers[i].id != r->id && f->state == RAFT_PROGRESS_PIPELINE) {
            f->last_send = now - r->heartbeat_timeout;
            due = true;
        }
    }
    if (due)
        p->tick(io);
}
