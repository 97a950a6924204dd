/* test_term_quorum.c - libraft 0.15's leader commits an old term's entry
 * by counting its copies (term_quorum.h): the hold's rules on messages,
 * then Raft's Figure 8 on the fixture (mesh-sim seed 302 --lasting-liars
 * met it after a leader kill). Without the hold, a new leader commits the
 * old entry k the moment one other server holds it; cut off then, the
 * leader of a later term that wrote another k is elected by that server
 * and overwrites it: two entries committed at index k. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cluster.h"
#include "term_quorum.h"

static void test_rules(void)
{
    struct raft_entry entries[4] = {{.term = 3}, {.term = 3}, {.term = 3}};
    struct raft r;
    memset(&r, 0, sizeof r);
    r.state = RAFT_LEADER;
    r.current_term = 5;
    r.last_stored = 10;
    r.commit_index = 8;
    r.log.entries = entries;
    r.log.size = 4;
    r.log.front = 0;
    r.log.back = 3;
    r.log.offset = 7; /* entries 8, 9, 10 */
    CHECK_INT_EQ(term_quorum_term_of(&r, 10), 3);
    CHECK_INT_EQ(term_quorum_term_of(&r, 11), 0);
    struct term_quorum q = {0};
    struct raft_message m = {.type = RAFT_IO_APPEND_ENTRIES_RESULT};
    m.append_entries_result = (struct raft_append_entries_result){.term = 5, .last_log_index = 12};
    term_quorum_read(&q, &r, &m);
    CHECK_INT_EQ(m.append_entries_result.last_log_index, 9);
    CHECK_INT_EQ(q.held, 1);
    /* Nothing of term 5 in the log yet: a barrier, once a term. */
    CHECK(term_quorum_wants_barrier(&q, &r));
    CHECK(!term_quorum_wants_barrier(&q, &r));
    m.append_entries_result.last_log_index = 10;
    term_quorum_read(&q, &r, &m);
    CHECK_INT_EQ(m.append_entries_result.last_log_index, 9);
    CHECK(!term_quorum_wants_barrier(&q, &r));
    /* Below the last stored entry, a rejection's hint: left alone. */
    m.append_entries_result.last_log_index = 9;
    term_quorum_read(&q, &r, &m);
    CHECK_INT_EQ(m.append_entries_result.last_log_index, 9);
    m.append_entries_result = (struct raft_append_entries_result){
        .term = 5, .rejected = 11, .last_log_index = 10};
    term_quorum_read(&q, &r, &m);
    CHECK_INT_EQ(m.append_entries_result.last_log_index, 10);
    CHECK_INT_EQ(q.held, 2);
    /* The last stored entry committed, or of the leader's term, or raft
     * not leading: left alone. */
    m.append_entries_result = (struct raft_append_entries_result){.term = 5, .last_log_index = 10};
    r.commit_index = 10;
    term_quorum_read(&q, &r, &m);
    r.commit_index = 8;
    entries[2].term = 5;
    term_quorum_read(&q, &r, &m);
    entries[2].term = 3;
    r.state = RAFT_FOLLOWER;
    term_quorum_read(&q, &r, &m);
    CHECK_INT_EQ(m.append_entries_result.last_log_index, 10);
    CHECK_INT_EQ(q.held, 2);
    /* A new term: a barrier again, unless the log has an entry of it. */
    r.state = RAFT_LEADER;
    r.current_term = 6;
    term_quorum_read(&q, &r, &m);
    CHECK_INT_EQ(m.append_entries_result.last_log_index, 9);
    entries[3].term = 6;
    r.log.back = 4; /* entry 11, of term 6, not stored yet */
    CHECK(!term_quorum_wants_barrier(&q, &r));
}

static unsigned leader_but(struct cluster *c, unsigned not)
{
    for (unsigned j = 0; j < c->n; j++)
        if (j != not && raft_state(raft_fixture_get(&c->f, j)) == RAFT_LEADER)
            return j;
    CHECK(false);
    return c->n;
}

static void test_figure_8(void)
{
    struct cluster c;
    cluster_init(&c, 3, false);
    unsigned a = cluster_leader(&c);
    cluster_settle(&c, c.n, cluster_propose_drain(&c, a, 1));
    /* a, cut off, stores an entry k of its term nobody else gets. */
    cluster_cut(&c, a, (a + 1) % 3, true);
    cluster_cut(&c, a, (a + 2) % 3, true);
    raft_index k = cluster_propose_drain(&c, a, 2);
    raft_fixture_step_until_elapsed(&c.f, 200);
    CHECK_INT_EQ(raft_fixture_get(&c.f, a)->last_stored, k);
    /* b leads a later term without k, is cut off too, and stores its own
     * k (a leader killed before it replicated its last entry). */
    struct cluster_wait not_a = {.i = a};
    CHECK(raft_fixture_step_until(&c.f, cluster_other_leads, &not_a, CLUSTER_STEP_MS));
    unsigned b = leader_but(&c, a);
    unsigned o = 3 - a - b;
    CHECK_INT_EQ(raft_last_index(raft_fixture_get(&c.f, b)), k - 1);
    cluster_cut(&c, b, o, true);
    CHECK_INT_EQ(cluster_propose_drain(&c, b, 3), k);
    raft_fixture_step_until_elapsed(&c.f, 200);
    raft_term tb = cluster_term_at(&c, b, k);
    CHECK(tb > cluster_term_at(&c, a, k));
    /* a and o meet again: only a can win (its log ends at k, o's at k -
     * 1), then it copies its old k to o. */
    cluster_cut(&c, a, o, false);
    struct cluster_wait wa = {.i = a};
    CHECK(raft_fixture_step_until(&c.f, cluster_leads, &wa, CLUSTER_STEP_MS));
    struct raft *ra = raft_fixture_get(&c.f, a);
    for (unsigned n = 0; ra->commit_index < k; n++) {
        CHECK(n < 100000);
        raft_fixture_step(&c.f);
    }
    /* At the event a commits k: o holds an entry of a's term after it
     * (Raft's rule), which b's log cannot beat at the next election. */
    raft_term ta = cluster_term_at(&c, a, k);
    CHECK(ta < ra->current_term);
    CHECK_INT_EQ(cluster_term_at(&c, o, k + 1), ra->current_term);
    CHECK(c.m[a].quorum.held > 0);
    /* a is cut off then, b meets o: whoever leads holds a's k. */
    cluster_cut(&c, a, o, true);
    cluster_cut(&c, b, o, false);
    CHECK(raft_fixture_step_until(&c.f, cluster_other_leads, &not_a, CLUSTER_STEP_MS));
    unsigned l = leader_but(&c, a);
    CHECK_INT_EQ(l, o);
    CHECK_INT_EQ(cluster_term_at(&c, l, k), ta);
    cluster_cut(&c, a, b, false);
    cluster_cut(&c, a, o, false);
    cluster_settle(&c, c.n, cluster_propose_drain(&c, l, 4));
    for (unsigned i = 0; i < c.n; i++)
        CHECK_INT_EQ(cluster_term_at(&c, i, k), ta);
    for (unsigned i = 1; i < c.n; i++)
        CHECK(cluster_same_state(&c, 0, i));
    cluster_close(&c);
}

int main(void)
{
    test_rules();
    test_figure_8();
    return 0;
}
