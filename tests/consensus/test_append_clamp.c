/* test_append_clamp.c - libraft 0.15's follower, clamped (append_clamp.h):
 * the clamp's two rules on messages, then the scenario of mesh-sim seed
 * 31530735564818 on the fixture: a follower holding an uncommitted entry of
 * an old term must not make the new leader commit its own entry at that
 * index before the follower really holds it. Without the clamp the leader
 * commits it on its single copy, the follower never gets it. */
#include <stdlib.h>
#include <string.h>

#include "append_clamp.h"
#include "check.h"
#include "cluster.h"

/* An answer raft sends once it knows no leader (server 0, no address) has
 * nowhere to go: not handed to the io, whose send would read the address. */
static void test_unaddressed(void)
{
    struct raft_message m = {.type = RAFT_IO_APPEND_ENTRIES_RESULT, .server_id = 2,
                             .server_address = "2"};
    CHECK(append_clamp_addressed(&m));
    m.server_address = NULL;
    CHECK(!append_clamp_addressed(&m));
    m.server_id = 0;
    CHECK(!append_clamp_addressed(&m));
    m.server_address = "2";
    CHECK(!append_clamp_addressed(&m));
}

static void test_rules(void)
{
    struct append_clamp g = {0};
    struct raft_message m = {.type = RAFT_IO_APPEND_ENTRIES};
    m.append_entries = (struct raft_append_entries){
        .term = 5, .prev_log_index = 12, .n_entries = 0, .leader_commit = 26};
    append_clamp_read(&g, &m);
    CHECK_INT_EQ(m.append_entries.leader_commit, 12);
    CHECK_INT_EQ(g.commits_lowered, 1);
    /* The answer sent while reading it: a match of at most 12. */
    struct raft_message r = {.type = RAFT_IO_APPEND_ENTRIES_RESULT};
    r.append_entries_result = (struct raft_append_entries_result){.term = 5, .last_log_index = 13};
    append_clamp_send(&g, &r);
    CHECK_INT_EQ(r.append_entries_result.last_log_index, 12);
    CHECK_INT_EQ(g.matches_lowered, 1);
    /* A rejection's hint is left alone. */
    r.append_entries_result = (struct raft_append_entries_result){
        .term = 5, .rejected = 12, .last_log_index = 15};
    append_clamp_send(&g, &r);
    CHECK_INT_EQ(r.append_entries_result.last_log_index, 15);
    append_clamp_read_done(&g);
    /* An answer after an append (outside the read) is left alone. */
    r.append_entries_result = (struct raft_append_entries_result){.term = 5, .last_log_index = 30};
    append_clamp_send(&g, &r);
    CHECK_INT_EQ(r.append_entries_result.last_log_index, 30);
    /* Entries carried up to 20 (12 + 8): a commit of 18 stays. */
    m.append_entries = (struct raft_append_entries){
        .term = 5, .prev_log_index = 12, .n_entries = 8, .leader_commit = 18};
    append_clamp_read(&g, &m);
    CHECK_INT_EQ(m.append_entries.leader_commit, 18);
    CHECK_INT_EQ(g.commits_lowered, 1);
    append_clamp_read_done(&g);
    /* Other messages pass untouched. */
    struct raft_message v = {.type = RAFT_IO_REQUEST_VOTE};
    append_clamp_read(&g, &v);
    CHECK(!g.reading);
}

static void test_stale_entry_not_counted(void)
{
    struct cluster c;
    cluster_init(&c, 3, false);
    unsigned a = cluster_leader(&c);
    cluster_settle(&c, c.n, cluster_propose_drain(&c, a, 1));
    /* a, cut off, stores an entry k nobody else gets. */
    cluster_cut(&c, a, (a + 1) % 3, true);
    cluster_cut(&c, a, (a + 2) % 3, true);
    raft_index k = cluster_propose_drain(&c, a, 2);
    raft_fixture_step_until_elapsed(&c.f, 200);
    CHECK_INT_EQ(raft_fixture_get(&c.f, a)->last_stored, k);
    /* b leads a new term without k; then the third, o, is cut off and a
     * rejoins b. */
    struct cluster_wait wo = {.i = a};
    CHECK(raft_fixture_step_until(&c.f, cluster_other_leads, &wo, CLUSTER_STEP_MS));
    unsigned b = raft_state(raft_fixture_get(&c.f, (a + 1) % 3)) == RAFT_LEADER ? (a + 1) % 3
                                                                                : (a + 2) % 3;
    unsigned o = 3 - a - b;
    CHECK_INT_EQ(raft_last_index(raft_fixture_get(&c.f, b)), k - 1);
    cluster_cut(&c, b, o, true);
    cluster_cut(&c, a, b, false);
    struct cluster_wait wa = {.i = a};
    CHECK(raft_fixture_step_until(&c.f, cluster_follows, &wa, CLUSTER_STEP_MS));
    raft_fixture_step_until_elapsed(&c.f, 500); /* heartbeats at k - 1 */
    /* b's own entry k, proposed right after a read a heartbeat at k - 1 (a
     * leader's AppendEntries resets its election timer): a's answer, "stored
     * up to k", reaches b after b stored its k. */
    struct raft *ra = raft_fixture_get(&c.f, a);
    raft_time heard = ra->election_timer_start;
    for (unsigned n = 0; ra->election_timer_start == heard; n++) {
        CHECK(n < 10000);
        raft_fixture_step(&c.f);
    }
    raft_index kb = cluster_propose_drain(&c, b, 3);
    CHECK_INT_EQ(kb, k);
    /* Committed only once a holds it too (checked at the event that
     * commits it). */
    struct cluster_wait wk = {.i = b, .index = k};
    CHECK(raft_fixture_step_until(&c.f, cluster_commits, &wk, CLUSTER_STEP_MS));
    raft_term t = cluster_term_at(&c, b, k);
    CHECK(t != 0);
    CHECK_INT_EQ(cluster_term_at(&c, a, k), t);
    CHECK(c.m[a].clamp.matches_lowered > 0);
    cluster_cut(&c, b, o, false);
    cluster_settle(&c, c.n, cluster_propose_drain(&c, b, 4));
    for (unsigned i = 1; i < c.n; i++)
        CHECK(cluster_same_state(&c, 0, i));
    cluster_close(&c);
}

int main(void)
{
    test_rules();
    test_unaddressed();
    test_stale_entry_not_counted();
    return 0;
}
