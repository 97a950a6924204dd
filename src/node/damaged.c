/* damaged.c - a member whose raft state is damaged rejoins by itself.
 *
 * When consensus refuses this node's stored state as damaged (a corrupt-*
 * segment, a log ending below the committed mark, a snapshot failing its
 * seal), reusing it could fork history and discarding it could lose the
 * only copy. So the node sets the raft dir aside (DIR/raft.damaged-TIME,
 * never deleted) and starts with none, and then only joins: a linked
 * leader of the cluster recorded in that state, never any other cluster
 * and never a cluster of its own. The leader sees a JOIN marked "afresh"
 * from a node its configuration still holds and removes it first, then
 * adds it as any joiner (raft_add, catch-up, raft_assign): a voter with an
 * emptied log must not vote before it has caught up (doc/DESIGN.md,
 * "Damaged or full storage").
 *
 * When no member of that cluster comes in sight (DAMAGED_WAIT_MS, or at
 * once when the node has no way to find a peer), this node may hold the
 * only copy: the set-aside dir is put back as it was and the node exits 1
 * with the damage and the ways out, as before this module. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "damaged.h"
#include "node.h"
#include "consensus.h"
#include "datadir.h"
#include "dispatch.h"
#include "event_log.h"

enum {
    DAMAGED_WAIT_MS = 8000,     /* links, discovery and gossip, several times over */
};

struct damaged {
    uint64_t cluster;           /* the cluster whose log to fetch again */
    uint64_t token;             /* marks this node's JOINs "afresh" (never 0) */
    bool rejoined;
    uint64_t since_ms;          /* looking for its members since */
    char raft_dir[DATADIR_PATH_MAX];
    char aside[4300];           /* where the damaged state went ("" not yet) */
    bool give_back;             /* gave up: put the damaged state back at exit */
};

static void raft_dir_of(const struct node *n, char *out, size_t len)
{
    datadir_raft_path(n->cfg->data_dir, out, len);
}

/* A node told of no peer and not discovering any cannot find its cluster. */
static bool can_find_peers(const struct node *n)
{
    return !n->cfg->no_mdns || n->cfg->n_peers > 0 || n->n_peer_info > 0;
}

int node_damaged_begin(struct node *n)
{
    uint64_t cluster = consensus_cluster_id(n->cons);
    if (n->damaged != NULL || cluster == 0 || !can_find_peers(n))
        return -1;
    struct damaged *d = calloc(1, sizeof *d);
    if (d == NULL)
        return -1;
    d->cluster = cluster;
    do
        randombytes_buf(&d->token, sizeof d->token);
    while (d->token == 0);
    raft_dir_of(n, d->raft_dir, sizeof d->raft_dir);
    n->damaged = d;
    node_event(n, MESH_EV_ERROR, "raft state damaged: setting it aside to re-replicate "
               "from cluster %016llx", (unsigned long long)cluster);
    dispatch_restart(n, false);
    return 0;
}

/* Consensus is closed: the damaged state moves aside, whole. */
int node_damaged_set_aside(struct node *n)
{
    struct damaged *d = n->damaged;
    if (d == NULL || d->aside[0] != '\0')
        return 0;
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(d->aside, sizeof d->aside, "%s.damaged-%s", d->raft_dir, stamp);
    if (rename(d->raft_dir, d->aside) != 0) {
        mlog(&n->log, LOG_ERROR, "cannot move %s to %s: %s", d->raft_dir, d->aside,
             strerror(errno));
        d->aside[0] = '\0';
        return -1;
    }
    mlog(&n->log, LOG_WARN, "the damaged raft state is kept in %s; joining cluster %016llx "
         "afresh", d->aside, (unsigned long long)d->cluster);
    d->since_ms = uv_now(&n->loop);
    return 0;
}

uint64_t node_damaged_cluster(const struct node *n)
{
    return n->damaged != NULL ? n->damaged->cluster : 0;
}

/* The leader removes a member once per token: a JOIN repeated while the
 * removal and the new add travel must not remove it again. */
uint64_t node_damaged_token(const struct node *n)
{
    return n->damaged != NULL ? n->damaged->token : 0;
}

/* Once a tick while rejoining: told once a member again (the mode stays
 * for this process: a removal verdict may still come for the configuration
 * it held before the leader removed it); gives up when the cluster stays
 * out of sight. */
void node_damaged_tick(struct node *n)
{
    struct damaged *d = n->damaged;
    if (d == NULL || d->aside[0] == '\0' || d->give_back || d->rejoined || n->stopping)
        return;
    bool member = consensus_is_member(n->cons, n->keys.node_id);
    if (member && consensus_leader(n->cons) != 0 && consensus_applied(n->cons) > 0) {
        node_event(n, MESH_EV_MEMBER, "rejoined cluster %016llx afresh after damaged raft "
                   "state (kept in %s)", (unsigned long long)d->cluster, d->aside);
        d->rejoined = true;
        return;
    }
    if (member || consensus_started(n->cons) ||
        uv_now(&n->loop) - d->since_ms < DAMAGED_WAIT_MS)
        return;
    mlog(&n->log, LOG_ERROR, "cannot start raft: no member of cluster %016llx came in sight "
         "in %d s, so this node may hold the only copy of its log: its damaged raft state "
         "is put back in %s. Ways out: start it where its cluster's members are linked, or "
         "move any corrupt-* file out of that directory and delete its committed file to "
         "start from what is left, losing the damaged entries (then `mesh recover --force`)",
         (unsigned long long)d->cluster, DAMAGED_WAIT_MS / 1000, d->raft_dir);
    d->give_back = true;
    n->exit_code = 1;
    dispatch_stop(n);
}

/* A removal verdict while rejoining names the configuration the node held
 * a moment ago, not a removal while away: it starts again with no state. */
bool node_damaged_on_removed(struct node *n)
{
    if (n->damaged == NULL)
        return false;
    mlog(&n->log, LOG_INFO, "removed by the leader before being added afresh");
    dispatch_restart(n, true);
    return true;
}

/* After the loop ended: a node that gave up puts the damaged state back
 * where it was (the fresh dir holds nothing: raft never started there). */
void node_damaged_finish(struct node *n)
{
    struct damaged *d = n->damaged;
    if (d != NULL && d->give_back && d->aside[0] != '\0') {
        if (consensus_discard_state(d->raft_dir) != 0 || rmdir(d->raft_dir) != 0 ||
            rename(d->aside, d->raft_dir) != 0)
            mlog(&n->log, LOG_ERROR, "cannot move %s back to %s: %s", d->aside, d->raft_dir,
                 strerror(errno));
    }
    free(d);
    n->damaged = NULL;
}
