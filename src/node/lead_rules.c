/* lead_rules.c - the leader's decisions on the work plane (lead_rules.h
 * says what and why). Every result is checked before it is proposed
 * (doc/DESIGN.md, "Results are checked"): anyone holding the key can send
 * RESULTS, and replicas check only the form of what they apply. */
#include "lead_rules.h"

#include <string.h>

#include "batch.h"
#include "verify.h"

/* NULL when the result is right, else why it is refused. *wrong: it is a
 * lie (or a broken node), not merely one the sender may not send now. The
 * cheap refusals come before the arithmetic: a sender must not make the
 * leader test big numbers for results it would refuse anyway. */
static const char *check_result(const struct lead_results *ctx, const struct batch_spec *spec,
                                struct lease *x, const struct msg_result *r, bool *wrong,
                                struct factor_words *words)
{
    static const char tag[] = "unfactored:";
    char num[MESH_MAX_DIGITS + 2];
    bool unfactored;
    *wrong = x != NULL;
    /* Most texts have no 'u' at all: memchr rules the tag out cheaper. */
    if (memchr(r->text, 'u', r->len) != NULL &&
        memmem(r->text, r->len, tag, sizeof tag - 1) != NULL) {
        if (x == NULL)
            return "unfactored, outside a lease"; /* e.g. resent to a new leader */
        if (!lease_table_unfactored_due(x, r->index, ctx->now_ms))
            return "unfactored before the number's budget ran out";
    }
    *wrong = true;
    uint64_t n64;
    enum factor_verdict v;
    if (batch_number_u64(spec, r->index, &n64))
        v = factor_verify_u64(ctx->verifier, n64, r->text, r->len, &unfactored, words);
    else if (batch_number(spec, r->index, num, sizeof num) != 0)
        return "no such index in the batch";
    else
        v = factor_verify(ctx->verifier, num, r->text, r->len, &unfactored);
    if (v != FACTOR_VERDICT_OK)
        return factor_verdict_message(v);
    if (unfactored) {
        x->unfactored++; /* x is set: checked above */
        words->read = false; /* a rest: the item is the text */
    }
    return NULL;
}

/* Why a sender's results are not read at all, or NULL. A node that is not
 * a member holds no lease; a drained one is given none (it may finish
 * those it holds). */
static const char *unread_because(bool member, bool drained, const struct lease *x)
{
    if (!member)
        return "no lease: not a member";
    if (drained && x == NULL)
        return "no lease: drained";
    return NULL;
}

void lead_rules_on_results(const struct lead_results *ctx, uint64_t from, bool member,
                           uint64_t batch, const struct msg_result *items, size_t count)
{
    struct batch_info info;
    if (queue_batch_get(ctx->queue, batch, &info) != 0 || info.state != BATCH_RUNNING)
        return; /* unknown here, or nothing more to commit */
    bool drained = queue_node_drained(ctx->queue, from);
    struct lease *x = NULL;
    for (size_t i = 0; i < count; i++) {
        const struct msg_result *r = &items[i];
        if (queue_is_done(ctx->queue, batch, r->index) ||
            taken_has(ctx->taken, batch, r->index))
            continue;
        x = lease_table_covering(ctx->leases, x, from, batch, r->index);
        bool wrong = false;
        struct factor_words words; /* not zeroed: 520 bytes a result */
        words.read = false;
        const char *why = unread_because(member, drained, x);
        if (why == NULL)
            why = check_result(ctx, info.spec, x, r, &wrong, &words);
        if (why != NULL) {
            ctx->refuse(ctx->ud, batch, r->index, why, wrong, wrong ? count - i - 1 : 0);
            if (x != NULL)
                lease_table_requeue(ctx->leases, x, x->job.lo, x->job.crashes);
            x = NULL;
            if (wrong) {
                lease_table_drop_node_batch(ctx->leases, from, batch);
                return;
            }
            continue;
        }
        if (!ctx->accept(ctx->ud, batch, r, words.read ? words.v : NULL,
                         words.read ? words.count : 0))
            return;
        (void)taken_add(ctx->taken, batch, r->index, ctx->now_ms); /* false: a copy may go */
    }
    lease_table_heard_from(ctx->leases, from, batch, ctx->now_ms);
}

bool lead_rules_on_lease_end(struct lease_table *t, uint64_t from, uint64_t lease, bool done,
                             uint64_t next, uint32_t crashes, uint64_t now_ms)
{
    struct lease *x = lease_table_find(t, lease, from);
    if (x == NULL)
        return false;
    if (done)
        lease_table_done(t, x, now_ms);
    else
        lease_table_requeue(t, x, next, crashes);
    return true;
}

bool lead_rules_takes_work(bool draining, bool drained, bool member)
{
    return !draining && !drained && member;
}

void lead_rules_fill(struct lease_table *t, uint64_t node, unsigned workers,
                     uint64_t default_budget_ms, uint64_t now_ms, lead_send_fn *send, void *ud)
{
    while (lease_table_wants_more(t, node, workers)) {
        struct lease *x = lease_table_grant(t, node, default_budget_ms, now_ms);
        if (x == NULL)
            return;
        if (!send(ud, x)) {
            lease_table_revoke(t, x);
            return;
        }
    }
}

void lead_rules_tick(struct lease_table *t, uint64_t now_ms, bool idle,
                     lease_tell_fn *expired, lease_tell_fn *requeued, void *ud)
{
    lease_table_expire(t, now_ms, expired, ud);
    lease_table_settle(t, now_ms, idle, requeued, ud);
    lease_table_prune(t);
}

uint64_t lead_rules_lease_needs(struct lease_needs *n, uint64_t batch, uint64_t applied)
{
    for (size_t i = 0; i < LEASE_NEEDS_KEPT; i++)
        if (n->kept[i].index != 0 && n->kept[i].batch == batch)
            return n->kept[i].index;
    n->kept[n->next].batch = batch;
    n->kept[n->next].index = applied;
    n->next = (n->next + 1) % LEASE_NEEDS_KEPT;
    return applied;
}
