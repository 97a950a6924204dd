/* check.c - the invariants, checked as the run goes (after every fixture
 * event, every applied entry, every step) and once the faults healed:
 *  - at most one leader per term;
 *  - replicas agree: the queue after index k is the same on every replica
 *    that applied k (prefix consistency: a fingerprint after each entry,
 *    the snapshot's bytes every FULL_HASH_EVERY), and at the end all are
 *    byte-identical;
 *  - a write token is one batch: a resent SUBMIT never makes a second;
 *  - each number is recorded once: the results an entry newly records
 *    never add up past the batch's count;
 *  - a cancelled batch records nothing after its CANCEL;
 *  - once the faults stop, no live node sits idle for more than WORKING_MS
 *    under a lease its leader granted and counts and it does not hold
 *    (issue 18's failover bug: a follower dropped a new leader's first
 *    leases, and that leader gave it no other work until their deadline);
 *  - once the faults stop, every accepted batch completes (or was
 *    cancelled by its client), every replica
 *    catches up past the highest commit index ever seen (no committed
 *    write lost across kills) and every result verifies on every replica. */
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "node/lease_table.h"
#include "qcmd_block.h"
#include "sim.h"

void sim_fail(struct sim *s, const char *fmt, ...)
{
    if (s->failure[0] != '\0')
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->failure, sizeof s->failure, fmt, ap);
    va_end(ap);
}

uint64_t sim_queue_hash(const struct queue *q)
{
    uint8_t *buf;
    size_t len;
    CHECK(queue_snapshot(q, &buf, &len) == 0);
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t k = 0; k < len; k++)
        h = (h ^ buf[k]) * 0x100000001b3ull;
    free(buf);
    return h | 1; /* 0 means "not seen" */
}

/* A cheap fingerprint of a queue: each batch's id, state and counts, and
 * the drained set. Taken after every applied entry; the whole snapshot's
 * bytes are hashed every FULL_HASH_EVERY indexes and at the end (encoding
 * the whole queue after each entry was most of a run's time). */
enum { FULL_HASH_EVERY = 16 };
static uint64_t mix(uint64_t h, uint64_t v)
{
    return sim_splitmix(&h) ^ v;
}

static uint64_t queue_fingerprint(const struct queue *q)
{
    uint64_t h = queue_batch_count(q);
    for (size_t k = 0; k < queue_batch_count(q); k++) {
        struct batch_info info;
        CHECK(queue_batch_at(q, k, &info) == 0);
        h = mix(mix(mix(mix(mix(h, info.id), info.state), info.done), info.unfactored),
                info.bytes);
    }
    for (size_t k = 0; k < queue_drained_count(q); k++)
        h = mix(h, queue_drained_at(q, k));
    return mix(h, queue_next_batch_id(q)) | 1;
}

static bool grow_u64(uint64_t **a, size_t *cap, size_t need)
{
    if (need < *cap)
        return true;
    size_t cap2 = *cap ? *cap : 256;
    while (cap2 <= need)
        cap2 *= 2;
    uint64_t *b = realloc(*a, cap2 * sizeof *b);
    CHECK(b != NULL);
    memset(b + *cap, 0, (cap2 - *cap) * sizeof *b);
    *a = b;
    *cap = cap2;
    return true;
}

static struct sim_batch *client_of(struct sim *s, uint64_t batch_id)
{
    for (size_t k = 0; k < s->n_batches; k++)
        if (s->batches[k].id == batch_id)
            return &s->batches[k];
    return NULL;
}

static void on_submit(struct sim *s, unsigned i, const struct fsm_outcome *o)
{
    for (size_t k = 0; k < s->n_batches; k++) {
        struct sim_batch *b = &s->batches[k];
        if (b->token != o->cmd->token)
            continue;
        if (b->id == 0)
            b->id = o->batch_id;
        else if (b->id != o->batch_id)
            sim_fail(s, "replica %u: write token %016llx became batch %llu, already batch %llu",
                     i, (unsigned long long)b->token, (unsigned long long)o->batch_id,
                     (unsigned long long)b->id);
        return;
    }
    sim_fail(s, "replica %u applied a SUBMIT no client sent", i);
}

raft_term sim_term_of(const struct raft_log *l, raft_index x)
{
    size_t n = l->back >= l->front ? l->back - l->front : l->size - l->front + l->back;
    if (x <= l->offset || x > l->offset + n)
        return 0;
    return l->entries[(l->front + (x - 1 - l->offset)) % l->size].term;
}

/* Raft's safety: one entry per index, whoever applies it. Two replicas
 * applying equal changes from different entries leave equal queues (a
 * resent SUBMIT), so the queue's fingerprint alone misses it (seed
 * 31530735564818 before append_clamp.h). */
static void check_entry_term(struct sim *s, unsigned i, raft_index index)
{
    raft_term t = sim_term_of(&raft_fixture_get(&s->c.f, i)->log, index);
    grow_u64(&s->entry_term, &s->cap_entry_term, index);
    if (t == 0 || s->entry_term[index] == t)
        return;
    if (s->entry_term[index] == 0)
        s->entry_term[index] = t;
    else
        sim_fail(s, "replica %u applied entry %llu of term %llu, another replica the one of "
                 "term %llu: two entries committed at one index", i,
                 (unsigned long long)index, (unsigned long long)t,
                 (unsigned long long)s->entry_term[index]);
}

static void count_copy(struct sim *s, uint16_t *copies, uint64_t total, uint64_t index)
{
    if (index >= total || copies[index] == UINT16_MAX)
        return;
    if (++copies[index] > s->stats.max_copies)
        s->stats.max_copies = copies[index];
}

/* Results a committed block carries that were recorded already: proposed
 * again (an outbox resending to a new leader, a leader re-proposing).
 * Counted once per log index, by its first replica to apply it. A loaded
 * mesh grew a 671 MiB log of such re-proposals (doc/DESIGN.md, "Links
 * under a starved CPU"); sim_check_final bounds them. */
static void count_duplicates(struct sim *s, const struct fsm_outcome *o)
{
    if (o->cmd == NULL || o->rc != 0 ||
        (o->type != QCMD_COMPLETE_BLOCK && o->type != QCMD_COMPLETE))
        return;
    s->stats.duplicates += o->cmd->n_results - o->recorded;
    struct sim_batch *b = client_of(s, o->batch_id);
    if (b == NULL)
        return;
    uint16_t **c = &s->copies[b - s->batches];
    if (*c == NULL) {
        *c = calloc(b->total ? b->total : 1, sizeof **c);
        CHECK(*c != NULL);
    }
    for (size_t k = 0; o->type == QCMD_COMPLETE && k < o->cmd->n_results; k++)
        count_copy(s, *c, b->total, o->cmd->results[k].index);
    size_t pos = 0;
    uint64_t index = 0;
    const uint8_t *item;
    size_t len;
    for (size_t k = 0; o->type == QCMD_COMPLETE_BLOCK && o->cmd->block != NULL &&
                       k < o->cmd->n_results &&
                       qcmd_block_next(o->cmd, &pos, &index, k == 0, &item, &len) == 0;
         k++)
        count_copy(s, *c, b->total, index);
}

/* After the heal, while a batch is left: a newly recorded result, or the
 * time since the last one (the mesh makes progress within PROGRESS_MS). */
static void note_progress(struct sim *s, uint64_t recorded)
{
    if (s->healed_ms == 0 || recorded == 0)
        return;
    uint64_t gap = sim_now(s) - (s->progress_ms ? s->progress_ms : s->healed_ms);
    if (gap > s->stats.max_stall_ms)
        s->stats.max_stall_ms = gap;
    s->progress_ms = sim_now(s);
}

static void on_applied(void *ud, unsigned i, const struct fsm_outcome *o)
{
    struct sim *s = ud;
    const struct queue *q = s->c.m[i].q;
    check_entry_term(s, i, o->index);
    uint64_t h = o->index % FULL_HASH_EVERY == 0 ? sim_queue_hash(q) : queue_fingerprint(q);
    grow_u64(&s->state_hash, &s->cap_hash, o->index);
    if (s->state_hash[o->index] == 0) {
        s->state_hash[o->index] = h;
        count_duplicates(s, o);
    }
    else if (s->state_hash[o->index] != h)
        sim_fail(s, "replica %u: queue after index %llu differs from another replica's", i,
                 (unsigned long long)o->index);
    sim_work_on_applied(s, i, o->rc, o->type, o->batch_id);
    sim_lead_on_applied(s, i, o->type);
    if (o->cmd != NULL && o->type == QCMD_SUBMIT && o->rc == 0)
        on_submit(s, i, o);
    if (o->type == QCMD_CANCEL && o->rc == 0) {
        struct sim_batch *b = client_of(s, o->batch_id);
        if (b != NULL)
            s->cancelled[i][b - s->batches] = true;
    }
    if (o->type == QCMD_COMPLETE_BLOCK || o->type == QCMD_COMPLETE) {
        struct sim_batch *b = client_of(s, o->batch_id);
        if (b == NULL)
            return;
        if (s->cancelled[i][b - s->batches] && o->recorded > 0)
            sim_fail(s, "replica %u: batch %llu recorded results after its CANCEL", i,
                     (unsigned long long)o->batch_id);
        uint64_t *rec = &s->recorded[i][b - s->batches];
        *rec += o->recorded;
        if (*rec > b->total)
            sim_fail(s, "replica %u: batch %llu recorded %llu results for %llu numbers", i,
                     (unsigned long long)o->batch_id, (unsigned long long)*rec,
                     (unsigned long long)b->total);
        s->stats.results_committed += i == 0 ? o->recorded : 0;
        note_progress(s, o->recorded);
    }
}

/* A snapshot replaced the replica: its counts restart from what it holds. */
static void on_restored(void *ud, unsigned i)
{
    struct sim *s = ud;
    s->stats.restores++;
    sim_on_restored(s, i);
    for (size_t k = 0; k < s->n_batches; k++) {
        struct batch_info info;
        bool here = s->batches[k].id != 0 &&
                    queue_batch_get(s->c.m[i].q, s->batches[k].id, &info) == 0;
        s->recorded[i][k] = here ? info.done : 0;
        s->cancelled[i][k] = here && info.state == BATCH_CANCELLED;
    }
}

/* Every fixture event: no two servers lead in one term; the highest commit
 * index any leader reached. */
static void on_event(struct raft_fixture *f, struct raft_fixture_event *e)
{
    (void)e;
    struct sim *s = (struct sim *)((char *)f - offsetof(struct sim, c.f));
    for (unsigned i = 0; i < s->n; i++) {
        struct raft *r = raft_fixture_get(f, i);
        if (raft_state(r) != RAFT_LEADER)
            continue;
        grow_u64(&s->term_leader, &s->cap_term, r->current_term);
        uint64_t *who = &s->term_leader[r->current_term];
        if (*who == 0)
            *who = r->id;
        else if (*who != r->id)
            sim_fail(s, "two leaders in term %llu: servers %llu and %llu",
                     (unsigned long long)r->current_term, (unsigned long long)*who,
                     (unsigned long long)r->id);
        if (r->commit_index > s->max_commit)
            s->max_commit = r->commit_index;
    }
}

void sim_check_install(struct sim *s)
{
    s->c.on_applied = on_applied;
    s->c.on_restored = on_restored;
    s->c.observer_ud = s;
    raft_fixture_hook(&s->c.f, on_event);
}

void sim_check_step(struct sim *s)
{
    for (unsigned i = 0; i < s->n; i++) {
        /* raft gives up on an error it cannot undo (a committed entry that
         * conflicts with the leader's: seed 31530735564818 before
         * append_clamp.h) and ignores every message from then on. */
        if (raft_state(raft_fixture_get(&s->c.f, i)) == RAFT_UNAVAILABLE)
            sim_fail(s, "raft shut server %u down (state unavailable)", i);
        raft_index applied = raft_last_applied(raft_fixture_get(&s->c.f, i));
        if (applied > s->max_commit)
            sim_fail(s, "replica %u applied %llu, past every commit index seen (%llu)", i,
                     (unsigned long long)applied, (unsigned long long)s->max_commit);
    }
}

/* Server j holds x (granted by server i), or a message about it is on
 * the way between them: the LEASE there, or its LEASE_END back. */
static bool held(const struct sim *s, unsigned i, unsigned j, const struct lease *x)
{
    return sim_work_holds(s, j, i + 1, x->id) || sim_in_flight(s, SIM_LEASE, i, j, x->id) ||
           sim_in_flight(s, SIM_LEASE_END, j, i, x->id);
}

/* After the faults ended (nothing lost, no link cut, nobody paused): a
 * lease a leader granted since, WORKING_MS old, is held by its live node.
 * One that is not is a phantom: the leader counts its node busy (and
 * leases it nothing more until the deadline, budget + 10 s) while the
 * node's worker idles. With leases handed out every 250 ms, this is
 * "every live node works within WORKING_MS of a new leader, when there is
 * work". Looked at every CHECK_WORKING_MS. */
enum { WORKING_MS = 2000, CHECK_WORKING_MS = 250 };
void sim_check_working(struct sim *s)
{
    uint64_t now = sim_now(s);
    if (s->healed_ms == 0 || now - s->working_checked_ms < CHECK_WORKING_MS)
        return;
    s->working_checked_ms = now;
    for (unsigned i = 0; i < s->n; i++)
        for (unsigned j = 0; j < s->n; j++)
            if (s->cut[i][j])
                return; /* the operator's step-down (run.c, unstick) */
    for (unsigned i = 0; i < s->n; i++) {
        for (const struct lease *x = sim_lead_first(s, i); x != NULL; x = x->next) {
            unsigned j = (unsigned)x->node - 1;
            if (x->issued_ms < s->healed_ms || now - x->issued_ms < WORKING_MS ||
                !s->nodes[j].alive || held(s, i, j, x))
                continue;
            sim_fail(s, "server %u counts lease %llx of batch %llu [%llu,%llu) on server %u, "
                     "granted %llu ms ago, which server %u does not hold: a phantom lease, "
                     "its worker idle", i, (unsigned long long)x->id,
                     (unsigned long long)x->job.batch_id, (unsigned long long)x->job.lo,
                     (unsigned long long)x->job.hi, j,
                     (unsigned long long)(now - x->issued_ms), j);
            return;
        }
    }
}

bool sim_check_quiet(struct sim *s)
{
    unsigned leader = raft_fixture_leader_index(&s->c.f);
    if (leader >= s->n)
        return false;
    raft_index last = raft_last_index(raft_fixture_get(&s->c.f, leader));
    for (size_t k = 0; k < s->n_batches; k++)
        if (!s->batches[k].acked)
            return false;
    for (unsigned j = 0; j < s->n; j++)
        if (s->drains[j].next_try_ms != 0 && !s->drains[j].acked)
            return false;
    for (unsigned i = 0; i < s->n; i++) {
        if (raft_last_applied(raft_fixture_get(&s->c.f, i)) < last)
            return false;
        for (size_t k = 0; k < s->n_batches; k++) {
            struct batch_info info;
            if (queue_batch_get(s->c.m[i].q, s->batches[k].id, &info) != 0 ||
                info.state == BATCH_RUNNING)
                return false;
        }
    }
    return true;
}

/* Every result of replica i verifies against its number (a cancelled
 * batch holds those done before the CANCEL). */
static void check_results(struct sim *s, unsigned i, const struct sim_batch *b)
{
    struct batch_info info;
    CHECK(queue_batch_get(s->c.m[i].q, b->id, &info) == 0);
    for (uint64_t x = 0; x < b->total && s->failure[0] == '\0'; x++) {
        char num[MESH_MAX_DIGITS + 2];
        const char *text = queue_result(s->c.m[i].q, b->id, x);
        bool unfactored;
        if (text == NULL && info.state == BATCH_CANCELLED)
            continue;
        if (text == NULL || batch_number(info.spec, x, num, sizeof num) != 0 ||
            factor_verify(s->verifier, num, text, strlen(text), &unfactored) !=
                FACTOR_VERDICT_OK ||
            unfactored)
            sim_fail(s, "replica %u: batch %llu index %llu: result \"%s\" does not verify", i,
                     (unsigned long long)b->id, (unsigned long long)x, text ? text : "(none)");
    }
}

void sim_check_final(struct sim *s)
{
    for (unsigned i = 0; i < s->n && s->failure[0] == '\0'; i++) {
        if (!cluster_same_state(&s->c, 0, i))
            sim_fail(s, "replicas 0 and %u differ after the run", i);
        if (raft_last_applied(raft_fixture_get(&s->c.f, i)) < s->max_commit)
            sim_fail(s, "replica %u applied %llu, below the commit index %llu: a committed "
                     "write was lost", i,
                     (unsigned long long)raft_last_applied(raft_fixture_get(&s->c.f, i)),
                     (unsigned long long)s->max_commit);
        if (queue_batch_count(s->c.m[i].q) != s->n_batches)
            sim_fail(s, "replica %u holds %zu batches, clients had %zu accepted", i,
                     queue_batch_count(s->c.m[i].q), s->n_batches);
        for (size_t k = 0; k < s->n_batches && s->failure[0] == '\0'; k++) {
            const struct sim_batch *b = &s->batches[k];
            struct batch_info info;
            CHECK(queue_batch_get(s->c.m[i].q, b->id, &info) == 0);
            if (info.state == BATCH_CANCELLED && !b->cancel)
                sim_fail(s, "replica %u: batch %llu cancelled, no client cancelled it", i,
                         (unsigned long long)b->id);
            if (s->recorded[i][k] != (info.state == BATCH_DONE ? b->total : info.done))
                sim_fail(s, "replica %u: batch %llu: %llu results recorded for %llu numbers", i,
                         (unsigned long long)b->id, (unsigned long long)s->recorded[i][k],
                         (unsigned long long)b->total);
            check_results(s, i, b);
        }
    }
}

void sim_check_close(struct sim *s)
{
    free(s->state_hash);
    free(s->term_leader);
    free(s->entry_term);
    for (size_t k = 0; k < SIM_MAX_BATCHES; k++) {
        free(s->copies[k]);
        s->copies[k] = NULL;
    }
    s->entry_term = NULL;
    s->state_hash = NULL;
    s->term_leader = NULL;
}
