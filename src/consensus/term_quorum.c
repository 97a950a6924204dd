/* term_quorum.c - see term_quorum.h. */
#include "term_quorum.h"

static size_t held_entries(const struct raft_log *l)
{
    return l->back >= l->front ? l->back - l->front : l->size - l->front + l->back;
}

raft_term term_quorum_term_of(const struct raft *r, raft_index x)
{
    const struct raft_log *l = &r->log;
    size_t n = held_entries(l);
    if (x > l->offset && x <= l->offset + n)
        return l->entries[(l->front + (x - 1 - l->offset)) % l->size].term;
    if (x != 0 && x == l->snapshot.last_index)
        return l->snapshot.last_term;
    return 0;
}

void term_quorum_read(struct term_quorum *q, const struct raft *r, struct raft_message *m)
{
    if (m->type != RAFT_IO_APPEND_ENTRIES_RESULT || r->state != RAFT_LEADER)
        return;
    struct raft_append_entries_result *a = &m->append_entries_result;
    raft_index stored = r->last_stored;
    /* A rejection's last_log_index is a hint, not a match; raft counts
     * nothing at or below its commit index. */
    if (a->rejected != 0 || a->last_log_index < stored || stored <= r->commit_index)
        return;
    raft_term t = term_quorum_term_of(r, stored);
    if (t == 0 || t >= r->current_term)
        return;
    a->last_log_index = stored - 1;
    q->held++;
    if (q->barrier_term != r->current_term)
        q->want_barrier = true;
}

bool term_quorum_wants_barrier(struct term_quorum *q, const struct raft *r)
{
    if (!q->want_barrier)
        return false;
    q->want_barrier = false;
    /* The last entry in memory, stored or not (raft_last_index's). */
    raft_index last = r->log.offset + held_entries(&r->log);
    if (r->state != RAFT_LEADER || term_quorum_term_of(r, last) >= r->current_term)
        return false;
    q->barrier_term = r->current_term;
    return true;
}
