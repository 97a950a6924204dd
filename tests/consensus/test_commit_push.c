/* test_commit_push.c - a leader tells its followers a commit at once
 * (src/consensus/commit_push.h), on libraft's fixture with the node's
 * wiring (cluster.c): with a 1 s heartbeat, a follower holds an entry
 * uncommitted after the leader applied it until the push, which adds no
 * entry to the log. */
#include <raft.h>
#include <raft/fixture.h>

#include "check.h"
#include "cluster.h"

enum { HEARTBEAT_MS = 1000 };

static raft_index commit_of(struct cluster *c, unsigned i)
{
    return raft_fixture_get(&c->f, i)->commit_index;
}

static void test_followers_told_without_a_heartbeat(void)
{
    struct cluster c;
    cluster_init(&c, 3, false);
    for (unsigned i = 0; i < c.n; i++) {
        raft_set_election_timeout(raft_fixture_get(&c.f, i), 10 * HEARTBEAT_MS);
        raft_set_heartbeat_timeout(raft_fixture_get(&c.f, i), HEARTBEAT_MS);
    }
    /* One heartbeat at the new pace: every follower streamed to. */
    raft_fixture_step_until_elapsed(&c.f, HEARTBEAT_MS + 100);
    unsigned l = cluster_leader(&c);
    raft_index x = cluster_propose_drain(&c, l, 1);
    CHECK(raft_fixture_step_until_applied(&c.f, l, x, 500));
    /* Without the push, nothing tells them before the next heartbeat. */
    raft_fixture_step_until_elapsed(&c.f, 200);
    unsigned behind = 0;
    for (unsigned i = 0; i < c.n; i++)
        behind += i != l && commit_of(&c, i) < x;
    CHECK_INT_EQ(behind, 2);
    cluster_push_commits(&c);
    raft_fixture_step_until_elapsed(&c.f, 100); /* the fixture's network: 15 ms */
    for (unsigned i = 0; i < c.n; i++) {
        CHECK_INT_EQ(commit_of(&c, i), x);
        CHECK_INT_EQ(raft_last_index(raft_fixture_get(&c.f, i)), x); /* no barrier */
    }
    /* Nothing left to tell: another push sends nothing that commits. */
    cluster_push_commits(&c);
    raft_fixture_step_until_elapsed(&c.f, 100);
    CHECK_INT_EQ(raft_last_index(raft_fixture_get(&c.f, l)), x);
    cluster_close(&c);
}

int main(void)
{
    test_followers_told_without_a_heartbeat();
    return 0;
}
