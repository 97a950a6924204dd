/* append_clamp.c - see append_clamp.h. */
#include "append_clamp.h"

void append_clamp_read(struct append_clamp *g, struct raft_message *m)
{
    if (m->type != RAFT_IO_APPEND_ENTRIES)
        return;
    struct raft_append_entries *a = &m->append_entries;
    g->reading = true;
    g->carried = a->prev_log_index + a->n_entries;
    if (a->leader_commit > g->carried) {
        a->leader_commit = g->carried;
        g->commits_lowered++;
    }
}

void append_clamp_read_done(struct append_clamp *g)
{
    g->reading = false;
}

void append_clamp_send(struct append_clamp *g, struct raft_message *m)
{
    if (!g->reading || m->type != RAFT_IO_APPEND_ENTRIES_RESULT)
        return;
    struct raft_append_entries_result *r = &m->append_entries_result;
    /* A rejection's last_log_index is a hint for where to probe next, not a
     * match: left as raft says. */
    if (r->rejected == 0 && r->last_log_index > g->carried) {
        r->last_log_index = g->carried;
        g->matches_lowered++;
    }
}

bool append_clamp_addressed(const struct raft_message *m)
{
    return m->server_id != 0 && m->server_address != NULL;
}
