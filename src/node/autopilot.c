/* autopilot.c - the leader keeps --voters voters while enough nodes
 * exist. Every tick it notes which members are healthy (linked and heard
 * from lately); then it makes at most ONE configuration change (libraft
 * allows one at a time):
 *   1. a member unhealthy for --remove-after (10 min) leaves the configuration;
 *   2. a voter unhealthy for --voter-grace (10 s), or one voter too many,
 *      becomes a standby when a healthy node can take its place;
 *   3. while voters are short, the most caught-up healthy standby is promoted;
 *   4. else the next node waiting to join is added.
 * Demoting before promoting keeps every intermediate configuration's
 * majority among live voters. The leader never changes its own role: it
 * hands leadership on first (drain and leave do that).
 *
 * Health clocks are the leader's soft state: a new leader starts them at
 * its election, so a member already down then gets the full grace again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "members.h"
#include "net.h"
#include "event_log.h"
#include "merge.h"
#include "peers.h"

/* ---- health (leader) ------------------------------------------------------ */

bool members_healthy(const struct node *n, uint64_t id)
{
    if (id == n->keys.node_id)
        return true;
    const struct peer_cluster *pc = node_peer_cluster(n, id);
    return node_linked(n, id) && pc != NULL &&
           uv_now((uv_loop_t *)&n->loop) - pc->heard_ms < NODE_PEER_FRESH_MS;
}

static struct member_seen *seen_of(struct members *m, uint64_t id, uint64_t now)
{
    for (size_t i = 0; i < m->n_seen; i++)
        if (m->seen[i].id == id)
            return &m->seen[i];
    if (m->n_seen == CONSENSUS_MAX_MEMBERS)
        return NULL;
    m->seen[m->n_seen] = (struct member_seen){id, now};
    return &m->seen[m->n_seen++];
}

/* The leader-change row (routes.c): only a node that became the leader
 * starts its autopilot afresh. */
void node_members_on_leader_change(struct node *n)
{
    if (n->known_leader == n->keys.node_id)
        node_members_on_leadership(n);
}

void node_members_on_leadership(struct node *n)
{
    n->members->n_seen = 0; /* the clocks start again with this leader */
    n->members->n_leaving = 0;
    n->members->n_joins = 0;
}

/* Leader: a node asks to be added (MESH_MSG_JOIN, repeated each second
 * until it is). Joins queue here and go one configuration change after
 * another as each commits, not one per retry: thirty nodes starting
 * together are all members within a second of asking. */
/* A member that lost its raft state asks to join afresh: it is removed
 * first, once per token, and its next JOIN adds it as any joiner, so it
 * votes only after catching up (doc/DESIGN.md, "Damaged or full storage"). */
static void remove_to_add_afresh(struct node *n, uint64_t peer, uint64_t token)
{
    struct members *m = n->members;
    size_t kept = m->n_afresh < 8 ? m->n_afresh : 8;
    for (size_t i = 0; i < kept; i++)
        if (m->afresh[i] == token)
            return;
    if (consensus_changing(n->cons) || consensus_remove(n->cons, peer) != 0)
        return; /* it asks again in a second */
    m->afresh[m->n_afresh++ % 8] = token;
    node_event(n, MESH_EV_MEMBER, "node %016llx lost its raft state: removing it, to add it "
               "afresh", (unsigned long long)peer);
}

/* A JOIN is empty, or carries the 8-byte token of a node that lost its
 * raft state (damaged.c). */
static uint64_t join_token(const uint8_t *data, size_t len)
{
    uint64_t token = 0;
    if (len == sizeof token)
        memcpy(&token, data, sizeof token);
    return token;
}

void node_members_on_join(struct node *n, uint64_t peer, const uint8_t *data, size_t len)
{
    struct members *m = n->members;
    /* A cluster moving into another takes nobody in: the joiner would be
     * left in a cluster about to dissolve. It asks again, and finds the
     * other cluster's leader. */
    if (!node_is_leader(n) || node_merge_active(n))
        return;
    if (consensus_is_member(n->cons, peer)) {
        uint64_t token = join_token(data, len);
        if (token != 0)
            remove_to_add_afresh(n, peer, token);
        return;
    }
    for (size_t i = 0; i < m->n_joins; i++)
        if (m->joins[i] == peer)
            return;
    if (m->n_joins < sizeof m->joins / sizeof m->joins[0])
        m->joins[m->n_joins++] = peer;
    node_members_step(n);
}

static bool add_joiner(struct node *n)
{
    struct members *m = n->members;
    while (m->n_joins > 0) {
        uint64_t id = m->joins[0];
        memmove(m->joins, m->joins + 1, --m->n_joins * sizeof m->joins[0]);
        if (consensus_is_member(n->cons, id) || !members_healthy(n, id))
            continue;
        if (consensus_add_member(n->cons, id) == 0)
            return true;
    }
    return false;
}

static uint64_t down_for(struct node *n, uint64_t id, uint64_t now)
{
    struct member_seen *s = seen_of(n->members, id, now);
    if (s == NULL)
        return 0;
    if (members_healthy(n, id))
        s->ok_ms = now;
    return now - s->ok_ms;
}

bool members_is_leaving(const struct members *m, uint64_t id)
{
    for (size_t i = 0; i < m->n_leaving; i++)
        if (m->leaving[i] == id)
            return true;
    return false;
}

/* A healthy non-voter that may vote: not drained, not on its way out. */
static bool candidate(const struct node *n, const struct consensus_member *mb)
{
    return mb->role != CONSENSUS_VOTER && members_healthy(n, mb->id) &&
           !queue_node_drained(n->queue, mb->id) && !members_is_leaving(n->members, mb->id);
}

const struct consensus_member *members_best_candidate(const struct node *n,
                                                     const struct consensus_status *st)
{
    const struct consensus_member *best = NULL;
    uint64_t best_applied = 0;
    for (size_t i = 0; i < st->n_members; i++) {
        const struct consensus_member *mb = &st->members[i];
        const struct peer_cluster *pc = node_peer_cluster(n, mb->id);
        uint64_t applied = pc != NULL ? pc->applied : 0;
        if (candidate(n, mb) && (best == NULL || applied > best_applied)) {
            best = mb;
            best_applied = applied;
        }
    }
    return best;
}

/* ---- autopilot (leader) ------------------------------------------------------ */

static bool remove_long_gone(struct node *n, const struct consensus_status *st, uint64_t now)
{
    for (size_t i = 0; i < st->n_members; i++) {
        uint64_t id = st->members[i].id;
        if (id == n->keys.node_id || down_for(n, id, now) < n->cfg->remove_after_ms)
            continue;
        node_event(n, MESH_EV_MEMBER, "node %016llx gone for %llu s: removing it from the "
                   "configuration", (unsigned long long)id,
                   (unsigned long long)(down_for(n, id, now) / 1000));
        return consensus_remove(n->cons, id) == 0;
    }
    return false;
}

/* The voter to step down: unhealthy past the grace, else (one too many)
 * the least healthy; never this node, which leads. */
static const struct consensus_member *voter_to_demote(struct node *n,
                                                      const struct consensus_status *st,
                                                      uint64_t now)
{
    const struct consensus_member *worst = NULL;
    uint64_t worst_down = 0;
    for (size_t i = 0; i < st->n_members; i++) {
        const struct consensus_member *mb = &st->members[i];
        if (mb->role != CONSENSUS_VOTER || mb->id == n->keys.node_id)
            continue;
        uint64_t down = down_for(n, mb->id, now);
        if (members_is_leaving(n->members, mb->id))
            down = UINT64_MAX / 2;
        if (worst == NULL || down > worst_down) {
            worst = mb;
            worst_down = down;
        }
    }
    bool past_grace = worst_down >= n->cfg->voter_grace_ms;
    return worst != NULL && (past_grace || st->voters > n->cfg->voters) ? worst : NULL;
}

static bool fix_voters(struct node *n, const struct consensus_status *st, uint64_t now)
{
    const struct consensus_member *cand = members_best_candidate(n, st);
    const struct consensus_member *out = voter_to_demote(n, st, now);
    if (out != NULL && (cand != NULL || st->voters > n->cfg->voters)) {
        node_event(n, MESH_EV_MEMBER, "voter %016llx %s: making it a standby",
                   (unsigned long long)out->id,
                   st->voters > n->cfg->voters ? "is one too many" : "is unreachable");
        return consensus_assign(n->cons, out->id, CONSENSUS_STANDBY) == 0;
    }
    if (st->voters < n->cfg->voters && cand != NULL) {
        node_event(n, MESH_EV_MEMBER, "%u of %u voters: promoting %016llx to voter",
                   st->voters, n->cfg->voters, (unsigned long long)cand->id);
        return consensus_assign(n->cons, cand->id, CONSENSUS_VOTER) == 0;
    }
    /* A node added but never given a role (its assign failed) gets the log. */
    for (size_t i = 0; i < st->n_members; i++)
        if (st->members[i].role == CONSENSUS_SPARE && members_healthy(n, st->members[i].id))
            return consensus_assign(n->cons, st->members[i].id, CONSENSUS_STANDBY) == 0;
    return false;
}

void members_autopilot(struct node *n, const struct consensus_status *st)
{
    if (!st->is_leader || consensus_changing(n->cons) || node_merge_active(n))
        return;
    uint64_t now = uv_now(&n->loop);
    for (size_t i = 0; i < st->n_members; i++)
        down_for(n, st->members[i].id, now); /* every clock ticks */
    if (!remove_long_gone(n, st, now) && !fix_voters(n, st, now))
        add_joiner(n);
}

/* Leader: the next configuration change now (a change just committed, or
 * a node asked to join), not at the next tick. */
void node_members_step(struct node *n)
{
    if (n->cons == NULL || n->members == NULL || !node_is_leader(n) ||
        consensus_changing(n->cons))
        return;
    struct consensus_status *st = malloc(sizeof *st);
    if (st == NULL)
        return;
    consensus_status(n->cons, st);
    members_autopilot(n, st);
    free(st);
}

void members_send_verdict(struct node *n, uint64_t to, uint8_t verdict)
{
    struct msg_membership_note m = {verdict, consensus_cluster_id(n->cons)};
    uint8_t *buf;
    size_t len;
    if (msg_membership_encode(&m, &buf, &len) == 0) {
        node_send(n, to, MESH_MSG_MEMBERSHIP, buf, len);
        free(buf);
    }
}
