/* consensus.c - see consensus.h. raft + raft_uv + our transport + the fsm.
 *
 * Facts of libraft 0.15 this file is built around (see doc/DESIGN.md):
 * pre-vote always on; apply must never fail (fsm.c); entry buffers are
 * multiples of 8 bytes (entry.c); no state-change callback, so the node
 * polls consensus_status(); one membership change at a time. */
#include "consensus.h"
#include "wallclock.h"

#include <errno.h>
#include <stddef.h>
#include <raft.h>
#include <raft/uv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "append_clamp.h"
#include "commit_push.h"
#include "term_quorum.h"
#include "stall_watch.h"
#include "entry.h"
#include "errbuf.h"
#include "fsm.h"
#include "storage_guard.h"
#include "transport.h"

enum {
    OUTCOME_RING = 1024,        /* applied outcomes kept for proposal callbacks */
    SNAPSHOT_THRESHOLD = 16384, /* entries between snapshots (each encodes the whole queue) */
    SNAPSHOT_TRAILING = 1024,   /* entries kept after one (cheap catch-up) */
    /* raft keeps every entry since the last snapshot in memory, and result
     * entries are up to 900 KiB: counted in entries alone, the log grew to
     * hundreds of MB between snapshots. So a snapshot is also due after
     * this many bytes, or as many as a snapshot carries inline if that is
     * more (running batches and finished ones not in a file yet: this keeps
     * a snapshot's cost at most twice the log's; finished batches in files
     * are only named, so they do not delay it), and the trailing entries are cut to about
     * TRAILING_BYTES: enough that a follower a few seconds behind is sent
     * entries, not the whole state (whose restore stalls it: libraft 0.15
     * restores from one buffer; 8 MiB of trailing entries made followers
     * fall behind it under load, and the mesh thrashed its leadership,
     * when a snapshot carried a running batch's 40-74 MB of results).
     * Since a running batch's full pages are in segment files a snapshot
     * names (a few MB at most: "Partial spill" in doc/DESIGN.md), both are
     * 16 MiB: raft's log in memory is at most ~32 MiB, not ~112. */
    SNAPSHOT_LOG_BYTES = 16 << 20,
    TRAILING_BYTES = 16 << 20,
    TRAILING_MIN = 16,
    CONNECT_RETRY_MS = 100,
};

static const char member_marker[] = "member";
static const char recovery_request[] = "recover";

struct outcome {
    uint64_t index;
    int rc;
    uint64_t batch_id;
    char err[160];
};

/* Work for the check handle: an applied entry or a finished proposal. */
struct deferred {
    struct consensus_applied applied;  /* when done == NULL */
    consensus_done_cb done;
    void *ud;
    char err[160];
    struct deferred *next;
};

struct proposal {
    struct raft_apply req;
    struct consensus *c;
    consensus_done_cb done;
    void *ud;
};

struct consensus {
    struct consensus_config cfg;
    char dir[4096];
    struct raft raft;
    struct raft_io io;
    struct append_clamp clamp;      /* libraft 0.15's follower fix (append_clamp.h) */
    struct term_quorum quorum;      /* and its leader's (term_quorum.h) */
    /* The leader's guard (stall_watch.h): one watch per configuration slot,
     * for the server id it holds; all cleared while not leading. */
    struct follower_watch {
        uint64_t id;
        struct stall_watch w;
    } watch[CONSENSUS_MAX_MEMBERS];
    bool watching;
    uint64_t watch_looked_ms, stalls;
    struct raft_uv_transport transport;
    struct raft_fsm fsm;
    unsigned snapshot_threshold, snapshot_trailing;  /* as last set (tune_snapshots) */
    unsigned base_threshold, base_trailing;          /* ... and by policy */
    struct storage_guard *guard;    /* damage at start, full disk, the committed mark */
    char refused[256];              /* why the fsm last refused a snapshot */
    char damage[1024];              /* why start refused damaged state; "" */
    struct log_ratelimit refusals;  /* a leader resends a refused snapshot */
    bool started, closing, raft_inited;
    uint64_t cluster_id;
    uv_check_t check;
    struct deferred *head, **tail;
    struct outcome ring[OUTCOME_RING];
    size_t in_flight;
    struct raft_change change;
    bool changing;
    uint64_t change_id;
    int change_role;            /* raft role being assigned; -1: a removal */
    struct raft_transfer transfer;
    bool transferring;
    struct raft_barrier nudge;
    bool nudging, nudge_again;
    struct commit_push push;        /* a commit index told at once (commit_push.h) */
    void (*on_closed)(void *ud);
};

static void defer(struct consensus *c, struct deferred *d)
{
    d->next = NULL;
    *c->tail = d;
    c->tail = &d->next;
}

/* ---- fsm hooks (inside raft's apply: record only) ------------------------- */

static void on_fsm_applied(void *ud, const struct fsm_outcome *o)
{
    struct consensus *c = ud;
    uint64_t index = o->index;
    struct outcome *slot = &c->ring[index % OUTCOME_RING];
    slot->index = index;
    slot->rc = o->rc;
    slot->batch_id = o->batch_id;
    snprintf(slot->err, sizeof slot->err, "%s", o->err ? o->err : "");
    struct deferred *d = calloc(1, sizeof *d);
    if (d == NULL)
        abort(); /* an effect lost would leave a waiter hanging: as apply, abort */
    d->applied = (struct consensus_applied){
        .index = index, .type = o->type, .rc = o->rc, .batch_id = o->batch_id,
        .node_id = o->node_id, .err = d->err};
    snprintf(d->err, sizeof d->err, "%s", slot->err);
    defer(c, d);
}

/* A snapshot that fails its seal or does not decode: at start raft_start
 * then fails (consensus_start says why); from a leader, raft keeps the old
 * state and the leader tries again later. */
static void on_fsm_refused(void *ud, const char *why)
{
    struct consensus *c = ud;
    snprintf(c->refused, sizeof c->refused, "%s", why);
    if (c->started)
        mlog_limited(c->cfg.log, &c->refusals, uv_now(c->cfg.loop), LOG_ERROR,
                     "refused a snapshot sent by the leader: %s", why);
}

static void on_fsm_restored(void *ud)
{
    struct consensus *c = ud;
    if (c->cfg.on_restored != NULL)
        c->cfg.on_restored(c->cfg.ud);
}

/* ---- deferred effects ------------------------------------------------------ */

/* Snapshots by bytes as well as entries (libraft 0.15 counts entries only):
 * past SNAPSHOT_LOG_BYTES (or what the queue retains, if more) the
 * threshold drops to 1, so the next apply takes one; the snapshot resets
 * the count, and the threshold goes back. */
static void tune_snapshots(struct consensus *c)
{
    uint64_t bytes, entries;
    if (!c->started || c->closing)
        return;
    fsm_log_weight(&c->fsm, &bytes, &entries);
    /* What a snapshot writes of the results: the batches still inline
     * (finished ones in files are only named, "Manifest snapshots"). */
    uint64_t kept = queue_inline_bytes(*c->cfg.queue);
    uint64_t due = kept > SNAPSHOT_LOG_BYTES ? kept : SNAPSHOT_LOG_BYTES;
    unsigned threshold = bytes >= due ? 1 : c->base_threshold;
    if (threshold != c->snapshot_threshold) {
        raft_set_snapshot_threshold(&c->raft, threshold);
        c->snapshot_threshold = threshold;
    }
    if (entries < TRAILING_MIN)
        return;
    uint64_t per_entry = bytes / entries + 1;
    unsigned trailing = (unsigned)(TRAILING_BYTES / per_entry);
    trailing = trailing < TRAILING_MIN ? TRAILING_MIN : trailing;
    trailing = trailing > c->base_trailing ? c->base_trailing : trailing;
    if (trailing != c->snapshot_trailing) {
        raft_set_snapshot_trailing(&c->raft, trailing);
        c->snapshot_trailing = trailing;
    }
}

/* ---- the leader's guard against a follower left behind (stall_watch.h) ---- */

enum { WATCH_EVERY_MS = 500 };

/* Who takes over: the voter, other than this one and the stuck one, that
 * reached furthest (the lower of its match index and what its gossip says
 * it applied: a follower stuck on a stale match has a match index as high
 * as any, and ignores the TimeoutNow, its log not the leader's); 0 when
 * there is none. */
static uint64_t successor(struct consensus *c, uint64_t stuck)
{
    const struct raft *r = &c->raft;
    const struct raft_configuration *conf = &r->configuration;
    uint64_t best = 0;
    raft_index best_match = 0;
    for (unsigned i = 0; i < conf->n; i++) {
        const struct raft_server *sv = &conf->servers[i];
        raft_index m = r->leader_state.progress[i].match_index;
        uint64_t applied = c->cfg.applied_of != NULL ? c->cfg.applied_of(c->cfg.ud, sv->id)
                                                     : UINT64_MAX;
        m = applied < m ? applied : m;
        if (sv->role != RAFT_VOTER || sv->id == r->id || sv->id == stuck || m < best_match)
            continue;
        best = sv->id;
        best_match = m;
    }
    return best;
}

static void on_stuck(struct consensus *c, uint64_t id, uint64_t match, uint64_t commit)
{
    c->stalls++;
    uint64_t to = successor(c, id);
    bool handed = to != 0 && consensus_transfer(c, to) == 0;
    if (c->cfg.on_stalled != NULL)
        c->cfg.on_stalled(c->cfg.ud, id, match, commit, handed ? to : 0);
    else
        mlog(c->cfg.log, LOG_WARN, "raft: follower %016llx answers but stays at entry %llu "
             "below commit %llu for %d s; %s %016llx", (unsigned long long)id,
             (unsigned long long)match, (unsigned long long)commit, STALL_WATCH_BOUND_MS / 1000,
             handed ? "leadership handed to" : "leadership not handed over (no other voter, "
             "or a handover running): best",
             (unsigned long long)to);
}

static void watch_followers(struct consensus *c)
{
    struct raft *r = &c->raft;
    if (!c->started || c->closing || raft_state(r) != RAFT_LEADER) {
        if (c->watching)
            memset(c->watch, 0, sizeof c->watch);
        c->watching = false;
        return;
    }
    uint64_t now = uv_now(c->cfg.loop);
    if (c->watching && now - c->watch_looked_ms < WATCH_EVERY_MS)
        return;
    c->watching = true;
    c->watch_looked_ms = now;
    const struct raft_configuration *conf = &r->configuration;
    for (unsigned i = 0; i < conf->n && i < CONSENSUS_MAX_MEMBERS; i++) {
        const struct raft_progress *p = &r->leader_state.progress[i];
        if (c->watch[i].id != conf->servers[i].id)
            c->watch[i] = (struct follower_watch){.id = conf->servers[i].id};
        uint64_t id = conf->servers[i].id;
        if (id == r->id)
            continue;
        uint64_t applied = c->cfg.applied_of != NULL ? c->cfg.applied_of(c->cfg.ud, id)
                                                     : UINT64_MAX;
        if (stall_watch_look(&c->watch[i].w, p->match_index, applied, r->commit_index,
                             p->recent_recv, now, STALL_WATCH_BOUND_MS))
            on_stuck(c, id, c->watch[i].w.reached, r->commit_index);
    }
}

static void on_check(uv_check_t *h)
{
    struct consensus *c = h->data;
    tune_snapshots(c);
    watch_followers(c);
    if (c->started && !c->closing)
        commit_push_run(&c->push, &c->raft, &c->io);
    struct deferred *list = c->head;
    c->head = NULL;
    c->tail = &c->head;
    while (list != NULL) {
        struct deferred *d = list;
        list = d->next;
        if (d->done != NULL)
            d->done(d->ud, d->applied.rc, d->applied.index, d->applied.batch_id, d->err);
        else if (c->cfg.on_applied != NULL)
            c->cfg.on_applied(c->cfg.ud, &d->applied);
        free(d);
    }
}

/* ---- proposals ------------------------------------------------------------- */

static void nudge_followers(struct consensus *c);

/* A failed write of raft's own (not a lost leadership): say why, with
 * raft's message, and let the guard look at the disk at once. */
static void note_write_failure(struct consensus *c, int status, const char *what)
{
    if (status == 0 || status == RAFT_NOTLEADER || status == RAFT_LEADERSHIPLOST ||
        status == RAFT_SHUTDOWN || status == RAFT_CANCELED || c->guard == NULL)
        return;
    storage_guard_on_io_error(c->guard, status == RAFT_NOSPACE, what, raft_errmsg(&c->raft));
}

static void on_nudged(struct raft_barrier *req, int status)
{
    struct consensus *c = req->data;
    note_write_failure(c, status, "write a barrier");
    c->nudging = false;
    if (c->nudge_again && !c->closing) {
        c->nudge_again = false;
        nudge_followers(c);
    }
}

/* A barrier entry of the leader's term (term_quorum.h asks for one). */
static void nudge_followers(struct consensus *c)
{
    if (c->nudging) {
        c->nudge_again = true;
        return;
    }
    if (c->closing || raft_state(&c->raft) != RAFT_LEADER ||
        storage_guard_refuses(c->guard, NULL, 0))
        return;
    c->nudge.data = c;
    if (raft_barrier(&c->raft, &c->nudge, on_nudged) == 0)
        c->nudging = true;
}

/* raft_strerror says "unknown error" for the I/O codes (19-23) and says
 * nothing of the cause: for a failed write, raft's own message does
 * ("io: ... no space left on device"). Other codes keep their text: the
 * message may be older than the failure. */
static const char *failure_text(struct consensus *c, int status)
{
    const char *msg = raft_errmsg(&c->raft);
    bool io = status == RAFT_IOERR || status == RAFT_NOSPACE || status >= RAFT_NOTFOUND;
    return io && msg != NULL && msg[0] != '\0' ? msg : raft_strerror(status);
}

static void on_apply_done(struct raft_apply *req, int status, void *result)
{
    struct proposal *p = req->data;
    struct consensus *c = p->c;
    (void)result;
    c->in_flight--;
    struct deferred *d = calloc(1, sizeof *d);
    if (d == NULL)
        abort();
    d->done = p->done;
    d->ud = p->ud;
    d->applied.index = req->index;
    const struct outcome *o = &c->ring[req->index % OUTCOME_RING];
    if (status != 0) {
        d->applied.rc = -2;
        snprintf(d->err, sizeof d->err, "not committed: %s", failure_text(c, status));
        note_write_failure(c, status, "write an entry");
    } else if (o->index == req->index) {
        d->applied.rc = o->rc;
        d->applied.batch_id = o->batch_id;
        snprintf(d->err, sizeof d->err, "%s", o->err);
    }
    defer(c, d);
    free(p);
    commit_push_done(&c->push, status == 0, c->in_flight);
}

bool consensus_disk_full(struct consensus *c, char *why, size_t len)
{
    return c != NULL && storage_guard_refuses(c->guard, why, len);
}

/* The policy is the queue's (queue_next_batch_id_in); consensus only
 * knows which cluster this node is in. */
uint64_t consensus_next_batch_id(const struct consensus *c, const struct queue *q)
{
    return queue_next_batch_id_in(q, consensus_cluster_id(c));
}

static void ask_for_id_range(const struct consensus *c, struct qcmd *cmd)
{
    const struct queue *q = *c->cfg.queue;
    uint64_t next = consensus_next_batch_id(c, q);
    if (cmd->type == QCMD_SUBMIT && cmd->batch_id == 0 && next != queue_next_batch_id(q))
        cmd->batch_id = next;
}

int consensus_propose(struct consensus *c, const struct qcmd *cmd_in, consensus_done_cb done,
                      void *ud, char *err, size_t errlen)
{
    if (c == NULL || !c->started || c->closing || raft_state(&c->raft) != RAFT_LEADER) {
        set_err(err, errlen, "not the leader");
        return -1;
    }
    /* Refused before raft sees it: raft 0.15's failed-append path can
     * free memory twice (doc/DESIGN.md, "Damaged or full storage"). */
    if (storage_guard_refuses(c->guard, err, errlen))
        return -1;
    struct qcmd copy = *cmd_in; /* shallow: only batch_id and time_ms change */
    const struct qcmd *cmd = &copy;
    ask_for_id_range(c, &copy);
    copy.time_ms = wallclock_ms(); /* the log's time: retention ages by it */
    struct raft_buffer buf;
    int rc = entry_encode(cmd, &buf.base, &buf.len);
    if (rc != 0) {
        set_err(err, errlen, rc == -2 ? "command larger than one log entry"
                                      : "cannot encode command");
        return -1;
    }
    struct proposal *p = calloc(1, sizeof *p);
    if (p == NULL) {
        raft_free(buf.base);
        set_err(err, errlen, "out of memory");
        return -1;
    }
    p->c = c;
    p->done = done;
    p->ud = ud;
    p->req.data = p;
    rc = raft_apply(&c->raft, &p->req, &buf, 1, on_apply_done);
    if (rc != 0) {
        raft_free(buf.base);
        free(p);
        set_err(err, errlen, "%s", raft_errmsg(&c->raft));
        return -1;
    }
    c->in_flight++;
    return 0;
}

size_t consensus_in_flight(const struct consensus *c)
{
    return c != NULL ? c->in_flight : 0;
}

void consensus_log_memory(const struct consensus *c, struct consensus_log_memory *out)
{
    *out = (struct consensus_log_memory){0};
    if (c == NULL || !c->started)
        return;
    const struct raft_log *l = &c->raft.log;
    for (size_t i = l->front; i != l->back; i = (i + 1) % l->size) {
        out->entries++;
        out->bytes += l->entries[i].buf.len;
    }
    uint64_t entries;
    fsm_log_weight(&c->fsm, &out->since_snapshot, &entries);
}

/* ---- membership ------------------------------------------------------------ */

static unsigned count_voters(const struct raft_configuration *conf)
{
    unsigned n = 0;
    for (unsigned i = 0; i < conf->n; i++)
        n += conf->servers[i].role == RAFT_VOTER;
    return n;
}

static const char *role_name(int raft_role)
{
    switch (raft_role) {
    case RAFT_VOTER: return "voter";
    case RAFT_STANDBY: return "standby";
    default: return "spare";
    }
}

/* Every membership change ends here: one at a time (libraft refuses a
 * second with RAFT_CANTCHANGE), so the flag is the whole queue. */
static void on_changed(struct raft_change *req, int status)
{
    struct consensus *c = req->data;
    c->changing = false;
    if (status != 0) {
        mlog(c->cfg.log, LOG_WARN, "membership change of %016llx failed: %s",
             (unsigned long long)c->change_id, raft_strerror(status));
        return;
    }
    if (c->change_role < 0)
        mlog(c->cfg.log, LOG_INFO, "node %016llx removed from the configuration",
             (unsigned long long)c->change_id);
    else
        mlog(c->cfg.log, LOG_INFO, "node %016llx is now a %s",
             (unsigned long long)c->change_id, role_name(c->change_role));
    if (c->cfg.on_changed != NULL)
        c->cfg.on_changed(c->cfg.ud, c->change_id, c->change_role >= 0);
}

static bool can_change(const struct consensus *c)
{
    return c != NULL && c->started && !c->closing && !c->changing &&
           raft_state((struct raft *)&c->raft) == RAFT_LEADER &&
           !storage_guard_refuses(c->guard, NULL, 0);
}

static int assign_role(struct consensus *c, uint64_t id, int role)
{
    c->changing = true;
    c->change_id = id;
    c->change_role = role;
    c->change.data = c;
    int rc = raft_assign(&c->raft, &c->change, id, role, on_changed);
    if (rc != 0) {
        c->changing = false;
        mlog(c->cfg.log, LOG_WARN, "cannot make %016llx a %s: %s", (unsigned long long)id,
             role_name(role), raft_errmsg(&c->raft));
    }
    return rc;
}

static void on_added(struct raft_change *req, int status)
{
    struct consensus *c = req->data;
    if (status != 0 || raft_state(&c->raft) != RAFT_LEADER) {
        c->changing = false;
        if (status != 0)
            mlog(c->cfg.log, LOG_WARN, "cannot add %016llx: %s",
                 (unsigned long long)c->change_id, raft_strerror(status));
        return;
    }
    int role = count_voters(&c->raft.configuration) < c->cfg.max_voters ? RAFT_VOTER
                                                                         : RAFT_STANDBY;
    assign_role(c, c->change_id, role);
}

static const struct raft_server *find_server(const struct consensus *c, uint64_t id)
{
    const struct raft_configuration *conf = &c->raft.configuration;
    for (unsigned i = 0; i < conf->n; i++)
        if (conf->servers[i].id == id)
            return &conf->servers[i];
    return NULL;
}

int consensus_add_member(struct consensus *c, uint64_t id)
{
    if (!can_change(c))
        return -1;
    const struct raft_server *s = find_server(c, id);
    if (s != NULL && s->role != RAFT_SPARE)
        return 0; /* already a member */
    if (s != NULL) /* added earlier, the assign did not happen */
        return assign_role(c, id, count_voters(&c->raft.configuration) < c->cfg.max_voters
                                      ? RAFT_VOTER : RAFT_STANDBY) == 0 ? 0 : -1;
    char address[32];
    snprintf(address, sizeof address, "%016llx", (unsigned long long)id);
    c->changing = true;
    c->change_id = id;
    c->change.data = c;
    if (raft_add(&c->raft, &c->change, id, address, on_added) != 0) {
        c->changing = false;
        return -1;
    }
    return 0;
}

static int raft_role_of(enum consensus_role role)
{
    return role == CONSENSUS_VOTER ? RAFT_VOTER : role == CONSENSUS_STANDBY ? RAFT_STANDBY
                                                                            : RAFT_SPARE;
}

int consensus_assign(struct consensus *c, uint64_t id, enum consensus_role role)
{
    if (!can_change(c))
        return -1;
    const struct raft_server *s = find_server(c, id);
    if (s == NULL || s->role == raft_role_of(role))
        return -1;
    return assign_role(c, id, raft_role_of(role)) == 0 ? 0 : -1;
}

int consensus_remove(struct consensus *c, uint64_t id)
{
    if (!can_change(c) || find_server(c, id) == NULL || id == c->cfg.self_id)
        return -1;
    c->changing = true;
    c->change_id = id;
    c->change_role = -1;
    c->change.data = c;
    if (raft_remove(&c->raft, &c->change, id, on_changed) != 0) {
        c->changing = false;
        mlog(c->cfg.log, LOG_WARN, "cannot remove %016llx: %s", (unsigned long long)id,
             raft_errmsg(&c->raft));
        return -1;
    }
    return 0;
}

bool consensus_changing(const struct consensus *c)
{
    return c != NULL && c->changing;
}

static void on_transferred(struct raft_transfer *req)
{
    struct consensus *c = req->data;
    c->transferring = false;
}

int consensus_transfer(struct consensus *c, uint64_t to)
{
    if (c == NULL || !c->started || c->transferring || raft_state(&c->raft) != RAFT_LEADER)
        return -1;
    c->transfer.data = c;
    if (raft_transfer(&c->raft, &c->transfer, to, on_transferred) != 0)
        return -1;
    c->transferring = true;
    return 0;
}

/* ---- status ---------------------------------------------------------------- */

static enum consensus_role role_of(int raft_role)
{
    switch (raft_role) {
    case RAFT_VOTER: return CONSENSUS_VOTER;
    case RAFT_STANDBY: return CONSENSUS_STANDBY;
    default: return CONSENSUS_SPARE;
    }
}

void consensus_status(const struct consensus *c, struct consensus_status *out)
{
    memset(out, 0, sizeof *out);
    if (c == NULL) /* restarting (node_cluster_restart) */
        return;
    out->started = c->started;
    if (!c->started)
        return;
    struct raft *r = (struct raft *)&c->raft;
    out->is_leader = raft_state(r) == RAFT_LEADER;
    const char *address;
    raft_id leader;
    raft_leader(r, &leader, &address);
    out->leader_id = leader;
    out->term = r->current_term;
    out->commit_index = r->commit_index;
    out->applied_index = raft_last_applied(r);
    out->last_index = raft_last_index(r);
    out->stalls = c->stalls;
    out->clamped = c->clamp.commits_lowered + c->clamp.matches_lowered + c->quorum.held;
    const struct raft_configuration *conf = &r->configuration;
    out->voters = count_voters(conf);
    for (unsigned i = 0; i < conf->n && out->n_members < CONSENSUS_MAX_MEMBERS; i++) {
        out->members[out->n_members++] = (struct consensus_member){
            conf->servers[i].id, role_of(conf->servers[i].role)};
        if (conf->servers[i].id == c->cfg.self_id)
            out->role = role_of(conf->servers[i].role);
    }
}

uint64_t consensus_leader(const struct consensus *c)
{
    if (c == NULL || !c->started)
        return 0;
    raft_id leader;
    const char *address;
    raft_leader((struct raft *)&c->raft, &leader, &address);
    return leader;
}

uint64_t consensus_applied(const struct consensus *c)
{
    return c != NULL && c->started ? raft_last_applied((struct raft *)&c->raft) : 0;
}

bool consensus_is_member(const struct consensus *c, uint64_t id)
{
    return c != NULL && c->started && find_server(c, id) != NULL;
}

/* ---- links ------------------------------------------------------------------ */

void consensus_on_message(struct consensus *c, uint64_t peer, uint8_t type,
                          const uint8_t *data, size_t len)
{
    transport_on_message(&c->transport, peer, type, data, len);
}

void consensus_on_peer_down(struct consensus *c, uint64_t peer)
{
    transport_on_peer_down(&c->transport, peer);
}

/* ---- life cycle ------------------------------------------------------------- */

/* DIR/member: "member SELF cluster ID" (hex). It exists from the moment
 * this node bootstraps or asks to join, so a restart rejoins instead of
 * organising again (and never bootstraps a second cluster). */
static int write_marker(struct consensus *c)
{
    char path[4200], tmp[4210];
    snprintf(path, sizeof path, "%s/%s", c->dir, member_marker);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return -1;
    fprintf(f, "member %016llx cluster %016llx\n", (unsigned long long)c->cfg.self_id,
            (unsigned long long)c->cluster_id);
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}

static void read_marker(struct consensus *c)
{
    char path[4200];
    unsigned long long self, cluster;
    snprintf(path, sizeof path, "%s/%s", c->dir, member_marker);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    if (fscanf(f, "member %llx cluster %llx", &self, &cluster) == 2)
        c->cluster_id = cluster;
    fclose(f);
}

bool consensus_has_state(const struct consensus *c)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", c->dir, member_marker);
    return access(path, F_OK) == 0;
}

bool consensus_started(const struct consensus *c)
{
    return c != NULL && c->started;
}

const char *consensus_damage(const struct consensus *c)
{
    return c != NULL && c->damage[0] != '\0' ? c->damage : NULL;
}

uint64_t consensus_cluster_id(const struct consensus *c)
{
    return c != NULL ? c->cluster_id : 0;
}

void consensus_set_cluster_id(struct consensus *c, uint64_t id)
{
    if (c->cluster_id == id)
        return;
    c->cluster_id = id;
    if (c->started && write_marker(c) != 0)
        mlog(c->cfg.log, LOG_WARN, "cannot record the cluster id in %s", c->dir);
}

int consensus_request_recovery(const char *dir, uint64_t self,
                               const struct consensus_member *members, size_t n)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, recovery_request);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    fprintf(f, "voter %016llx\n", (unsigned long long)self);
    for (size_t i = 0; i < n; i++)
        if (members[i].id != self)
            fprintf(f, "standby %016llx\n", (unsigned long long)members[i].id);
    return fclose(f);
}

static int add_server(struct raft_configuration *conf, uint64_t id, int role)
{
    char address[32];
    snprintf(address, sizeof address, "%016llx", (unsigned long long)id);
    return raft_configuration_add(conf, id, address, role);
}

/* Carries out a recovery request left by consensus_request_recovery: the
 * configuration it names is appended to the log before raft starts. The
 * request is removed either way, so a failure is never retried blindly. */
static int recover_if_requested(struct consensus *c)
{
    char path[4200], word[16];
    unsigned long long id;
    snprintf(path, sizeof path, "%s/%s", c->dir, recovery_request);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    struct raft_configuration conf;
    raft_configuration_init(&conf);
    int rc = add_server(&conf, c->cfg.self_id, RAFT_VOTER);
    while (rc == 0 && fscanf(f, "%15s %llx", word, &id) == 2)
        if (strcmp(word, "standby") == 0 && id != c->cfg.self_id && id != 0)
            rc = add_server(&conf, id, RAFT_STANDBY);
    fclose(f);
    unlink(path);
    if (rc == 0)
        rc = raft_recover(&c->raft, &conf);
    raft_configuration_close(&conf);
    if (rc != 0) {
        mlog(c->cfg.log, LOG_ERROR, "forced recovery failed: %s", raft_strerror(rc));
        return -1;
    }
    mlog(c->cfg.log, LOG_WARN, "FORCED RECOVERY: this node is now the only voter of its "
         "cluster; entries the lost majority committed but this node never saw are gone");
    /* A node that joined a moment before its cluster died may never have
     * heard the cluster's id (gossip from a member tells it), and no member
     * is left to tell it now: the recovered cluster is named after its only
     * voter, as a founder names a new one. */
    if (c->cluster_id == 0) {
        c->cluster_id = c->cfg.self_id;
        if (write_marker(c) != 0)
            mlog(c->cfg.log, LOG_WARN, "cannot record the cluster id in %s", c->dir);
    }
    return 0;
}

/* raft_uv keeps its files flat in dir: removing them is a fresh start. */
int consensus_discard_state(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return errno == ENOENT ? 0 : -1;
    struct dirent *e;
    int rc = 0;
    char path[4400];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) != 0)
            rc = -1;
    }
    closedir(d);
    return rc;
}

/* MESH_SNAPSHOT_EVERY=N (tests only): a snapshot every N entries, so a
 * test reaches one in seconds instead of SNAPSHOT_THRESHOLD entries. */
static void set_snapshot_policy(struct consensus *c)
{
    const char *every = getenv("MESH_SNAPSHOT_EVERY");
    unsigned long n = every != NULL ? strtoul(every, NULL, 10) : 0;
    unsigned threshold = n >= 2 && n < SNAPSHOT_THRESHOLD ? (unsigned)n : SNAPSHOT_THRESHOLD;
    c->base_threshold = c->snapshot_threshold = threshold;
    c->base_trailing = c->snapshot_trailing =
        threshold < SNAPSHOT_TRAILING ? threshold / 2 : SNAPSHOT_TRAILING;
    raft_set_snapshot_threshold(&c->raft, c->snapshot_threshold);
    raft_set_snapshot_trailing(&c->raft, c->snapshot_trailing);
}

static uint64_t committed_index(void *ud)
{
    struct consensus *c = ud;
    return c->started ? c->raft.commit_index : 0;
}

/* A node that cannot store raft's entries takes none (transport.h): a
 * follower lags instead of failing writes, a leader steps down. */
static void on_disk_full(void *ud, bool full)
{
    struct consensus *c = ud;
    transport_set_refusing(&c->transport, full);
}

static int open_guard(struct consensus *c)
{
    struct storage_guard_config gc = {.loop = c->cfg.loop, .log = c->cfg.log, .dir = c->dir,
                                      .ud = c, .committed = committed_index,
                                      .on_full = on_disk_full};
    char err[4400];
    if (storage_guard_open(&c->guard, &gc, err, sizeof err) == 0)
        return 0;
    mlog(c->cfg.log, LOG_ERROR, "cannot open the raft state: %s", err);
    return -1;
}

/* ---- libraft 0.15's follower, clamped at the io (append_clamp.h) ---------- */

static struct consensus *of_io(struct raft_io *io)
{
    return (struct consensus *)((char *)io - offsetof(struct consensus, io));
}

/* The leader's count of an old term's entry is held back the same way
 * (term_quorum.h); the barrier it asks for is proposed once raft read the
 * message. A follower's answer may ask for a commit index told at once
 * (commit_push.h; told from on_check). */
static void clamped_recv(struct raft_io *io, struct raft_message *msg)
{
    struct consensus *c = of_io(io);
    struct append_clamp *g = &c->clamp;
    commit_push_read(&c->push, &c->raft, msg);
    append_clamp_read(g, msg);
    term_quorum_read(&c->quorum, &c->raft, msg);
    g->recv(io, msg);
    append_clamp_read_done(g);
    commit_push_read_done(&c->push, &c->raft, c->in_flight);
    if (term_quorum_wants_barrier(&c->quorum, &c->raft))
        nudge_followers(c);
}

static int clamped_start(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick,
                         raft_io_recv_cb recv)
{
    struct append_clamp *g = &of_io(io)->clamp;
    g->recv = recv;
    commit_push_start(&of_io(io)->push, tick);
    return g->io_start(io, msecs, tick, clamped_recv);
}

static int clamped_send(struct raft_io *io, struct raft_io_send *req,
                        const struct raft_message *msg, raft_io_send_cb cb)
{
    struct raft_message copy = *msg; /* raft_uv encodes it before returning */
    if (!append_clamp_addressed(&copy))
        return RAFT_NOCONNECTION;
    append_clamp_send(&of_io(io)->clamp, &copy);
    return of_io(io)->clamp.io_send(io, req, &copy, cb);
}

static void clamp_io(struct consensus *c)
{
    c->clamp.io_start = c->io.start;
    c->clamp.io_send = c->io.send;
    c->io.start = clamped_start;
    c->io.send = clamped_send;
}

static int ensure_dir(const char *dir)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

int consensus_open(struct consensus **out, const struct consensus_config *cfg)
{
    struct consensus *c = calloc(1, sizeof *c);
    if (c == NULL)
        return -1;
    c->cfg = *cfg;
    c->tail = &c->head;
    snprintf(c->dir, sizeof c->dir, "%s", cfg->dir);
    if (c->cfg.election_ms == 0)
        c->cfg.election_ms = CONSENSUS_DEFAULT_ELECTION_MS;
    if (c->cfg.heartbeat_ms == 0)
        c->cfg.heartbeat_ms = CONSENSUS_DEFAULT_HEARTBEAT_MS;
    if (c->cfg.max_voters == 0)
        c->cfg.max_voters = 3;
    struct transport_config tc = {
        .loop = cfg->loop, .log = cfg->log, .ud = cfg->ud, .send = cfg->send,
        .backlog = cfg->backlog, .linked = cfg->linked};
    struct fsm_config fc = {.queue = cfg->queue, .raft = &c->raft, .ud = c,
                            .on_applied = on_fsm_applied, .on_restored = on_fsm_restored,
                            .on_refused = on_fsm_refused};
    char address[32];
    snprintf(address, sizeof address, "%016llx", (unsigned long long)cfg->self_id);
    if (ensure_dir(c->dir) != 0 || transport_init(&c->transport, &tc) != 0) {
        mlog(cfg->log, LOG_ERROR, "cannot prepare raft in %s", c->dir);
        free(c);
        return -1;
    }
    if (open_guard(c) != 0) {
        transport_abandon(&c->transport);
        free(c);
        return -1;
    }
    bool fsm_ok = fsm_init(&c->fsm, &fc) == 0;
    int rc = fsm_ok ? raft_uv_init(&c->io, cfg->loop, c->dir, &c->transport) : -1;
    bool io_ok = rc == 0;
    /* raft_uv 0.15 implements async_work (snapshots encoded off the loop,
     * fsm.h) but reports version 1; upstream bumped it in 0.17.1. */
    if (rc == 0 && c->io.version < 2)
        c->io.version = 2;
    if (rc == 0)
        clamp_io(c);
    if (rc != 0 || raft_init(&c->raft, &c->io, &c->fsm, cfg->self_id, address) != 0) {
        /* A damaged raft dir (or no memory): say what raft said and stop
         * the node; raft_init undoes its own work when it fails. */
        mlog(cfg->log, LOG_ERROR, "cannot open the raft state in %s: %s (move that "
             "directory away to start this node afresh)", c->dir,
             c->io.errmsg[0] ? c->io.errmsg : "out of memory");
        if (io_ok)
            raft_uv_close(&c->io);
        if (fsm_ok)
            fsm_close(&c->fsm);
        storage_guard_close(c->guard);
        transport_abandon(&c->transport);
        free(c);
        return -1;
    }
    c->raft_inited = true;
    raft_uv_set_connect_retry_delay(&c->io, CONNECT_RETRY_MS);
    /* LZ4 over a snapshot of millions of results cost a busy node more CPU
     * than the disk it saves; results are short digit strings anyway. */
    raft_uv_set_snapshot_compression(&c->io, false);
    raft_set_election_timeout(&c->raft, c->cfg.election_ms);
    raft_set_heartbeat_timeout(&c->raft, c->cfg.heartbeat_ms);
    raft_set_pre_vote(&c->raft, true);
    set_snapshot_policy(c);
    read_marker(c);
    uv_check_init(cfg->loop, &c->check);
    c->check.data = c;
    uv_check_start(&c->check, on_check);
    *out = c;
    return 0;
}

int consensus_bootstrap(struct consensus *c)
{
    struct raft_configuration conf;
    char address[32];
    snprintf(address, sizeof address, "%016llx", (unsigned long long)c->cfg.self_id);
    raft_configuration_init(&conf);
    int rc = raft_configuration_add(&conf, c->cfg.self_id, address, RAFT_VOTER);
    if (rc == 0)
        rc = raft_bootstrap(&c->raft, &conf);
    raft_configuration_close(&conf);
    if (rc != 0 && rc != RAFT_CANTBOOTSTRAP) {
        mlog(c->cfg.log, LOG_ERROR, "cannot bootstrap: %s", raft_errmsg(&c->raft));
        return -1;
    }
    return consensus_start(c);
}

/* The damage a refused start found, kept (cut short) for consensus_damage. */
static void note_damage(struct consensus *c, const char *why)
{
    size_t len = strnlen(why, sizeof c->damage - 1);
    memcpy(c->damage, why, len);
    c->damage[len] = '\0';
}

int consensus_start(struct consensus *c)
{
    if (c->started)
        return 0;
    if (write_marker(c) != 0) {
        mlog(c->cfg.log, LOG_ERROR, "cannot write %s/%s: %s", c->dir, member_marker,
             strerror(errno));
        return -1;
    }
    char why[8192];
    c->damage[0] = '\0';
    if (storage_guard_check_files(c->guard, why, sizeof why) != 0) {
        mlog(c->cfg.log, LOG_ERROR, "cannot start raft: %s", why);
        note_damage(c, why);
        return -1;
    }
    if (recover_if_requested(c) != 0)
        return -1;
    c->refused[0] = '\0';
    int rc = raft_start(&c->raft);
    if (rc != 0) {
        if (c->refused[0] != '\0') {
            storage_guard_describe_snapshot(c->guard, c->refused, why, sizeof why);
            note_damage(c, why);
        } else
            snprintf(why, sizeof why, "%s", raft_errmsg(&c->raft)[0] != '\0'
                                                ? raft_errmsg(&c->raft) : raft_strerror(rc));
        mlog(c->cfg.log, LOG_ERROR, "cannot start raft: %s", why);
        return -1;
    }
    /* raft sets a segment it cannot read aside as corrupt-* while loading,
     * and carries on without it: the check before raft_start cannot see it. */
    if (storage_guard_check_files(c->guard, why, sizeof why) != 0 ||
        storage_guard_check_log(c->guard, raft_last_index(&c->raft), why, sizeof why) != 0) {
        mlog(c->cfg.log, LOG_ERROR, "cannot start raft: %s", why);
        note_damage(c, why);
        return -1;  /* raft runs until consensus_close; no entry was written */
    }
    storage_guard_start(c->guard);
    c->started = true;
    fsm_set_applied_index(&c->fsm, raft_last_applied(&c->raft));
    return 0;
}

static void on_check_closed(uv_handle_t *h)
{
    struct consensus *c = h->data;
    while (c->head != NULL) {
        struct deferred *d = c->head;
        c->head = d->next;
        if (d->done != NULL)
            d->done(d->ud, -2, 0, 0, "shutting down");
        free(d);
    }
    void (*done)(void *) = c->on_closed;
    void *ud = c->cfg.ud;
    transport_free(&c->transport);
    fsm_close(&c->fsm);
    free(c);
    if (done != NULL)
        done(ud);
}

static void on_raft_closed(struct raft *r)
{
    struct consensus *c = (struct consensus *)((char *)r - offsetof(struct consensus, raft));
    raft_uv_close(&c->io);
    uv_close((uv_handle_t *)&c->check, on_check_closed);
}

void consensus_close(struct consensus *c, void (*done)(void *ud))
{
    c->closing = true;
    c->on_closed = done;
    storage_guard_close(c->guard);  /* its last mark, while raft still has its state */
    c->guard = NULL;
    raft_close(&c->raft, on_raft_closed);
}
