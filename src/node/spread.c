/* spread.c - the leader's coordinator of spread batches (spread.h).
 *
 * The combine (matrix and square root) runs on libuv's thread pool: it
 * took 86..601 ms at 196 bits on the loaded test host, long enough to
 * delay the leader's heartbeats if it ran on the loop. While it runs the
 * tick leaves that batch alone (the coordinator is the thread's), and a
 * coordinator whose batch or leadership went meanwhile is freed when the
 * thread is done with it. */
#include <gmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "node.h" /* first: declares struct net for net.h */
#include "spread.h"
#include "batch.h"
#include "consensus.h"
#include "lead_node.h"
#include "peers.h"
#include "queue.h"
#include "siqs_coord.h"
#include "siqs_range.h"
#include "cofactor_rule.h"
#include "spread_cofactor_hold.h"
#include "spread_ecm.h"

/* The loop's time a step may spend merging ranges. One range is ~1 ms of
 * checks (a relation's product and compare, 1-3 us; ~350 relations an A at
 * 330 bits); a new leader of a 100-digit number finds thousands committed,
 * seconds of work that would hold its heartbeats. In slices, it catches up
 * over ticks and commits instead (2,500 ranges: ~30 s). */
#define SPREAD_MERGE_SLICE_NS (20 * 1000 * 1000ULL)

/* One spread batch being coordinated. */
struct spread_one {
    struct node *node;
    uint64_t batch;
    struct siqs_coord *coord;   /* NULL once finished or given up, or no ranges */
    struct spread_ecm ecm;      /* its curve jobs, first (spread_ecm.h) */
    uint64_t first;             /* the first SIQS range's index (after the curves) */
    uint64_t ranges;            /* SIQS ranges */
    uint8_t *taken;             /* per range: its result merged */
    uint64_t merged;
    bool handed;                /* the factors are on their way */
    bool seen;                  /* still running this tick */
    bool combining;             /* the thread pool has the coordinator */
    bool orphaned;              /* ... and nobody wants it back: free it then */
    uv_work_t work;
    mpz_t n, factor;
    int combined;               /* siqs_coord_combine's answer */
    uint64_t combine_ms;
    uint64_t budget_ms;         /* the batch's per-number budget (its cofactor's) */
    struct spread_count count;  /* read on the loop, never while combining */
    bool counted;
};

struct node_spread {
    struct spread_one **b;
    size_t n, cap;
};

static void free_one(struct spread_one *s)
{
    siqs_coord_free(s->coord);
    spread_ecm_close(&s->ecm);
    free(s->taken);
    mpz_clears(s->n, s->factor, NULL);
    free(s);
}

/* Frees s now, or when its combine is done. */
static void drop_one(struct spread_one *s)
{
    if (s->combining)
        s->orphaned = true;
    else
        free_one(s);
}

void node_spread_stop(struct node *n)
{
    struct node_spread *sp = n->spread;
    if (sp == NULL)
        return;
    for (size_t i = 0; i < sp->n; i++)
        drop_one(sp->b[i]);
    free(sp->b);
    free(sp);
    n->spread = NULL;
}

static struct spread_one *find(struct node_spread *sp, uint64_t batch)
{
    for (size_t i = 0; i < sp->n; i++)
        if (sp->b[i]->batch == batch)
            return sp->b[i];
    return NULL;
}

/* Every range not yet committed gets the empty result (after `first`, N's
 * factors, when given), so the ranges end: with the factors the batch is
 * DONE; without them N, the last index, is leased next like any number
 * and one worker factors it. All of it goes through the leader's own
 * result path (lead.c checks them as any node's: the factors by
 * factor_verify, the empty ranges by form). */
static void hand_rest(struct node *n, struct spread_one *s, const struct msg_result *first)
{
    uint64_t jobs = s->first + s->ranges;
    struct msg_result *items = malloc((jobs + 1) * sizeof *items);
    if (items == NULL)
        return; /* the ranges go on; the next split or the plain path ends them */
    size_t k = 0;
    if (first != NULL)
        items[k++] = *first;
    static const char empty[] = SIQS_RANGE_RESULT_PREFIX "a80g0"; /* no relations */
    static const char no_curves[] = "ecm:0"; /* no curve run (ecm_range.h) */
    for (uint64_t i = 0; i < jobs; i++)
        if (!queue_is_done(n->queue, s->batch, i))
            items[k++] = i < s->first ? (struct msg_result){i, no_curves, sizeof no_curves - 1}
                                      : (struct msg_result){i, empty, sizeof empty - 1};
    node_lead_on_results(n, n->keys.node_id, s->batch, items, k);
    s->handed = true;
    free(items);
}

/* The combine gave up, or n cannot be sieved: N to one worker. */
static void give_up(struct node *n, struct spread_one *s, const char *why)
{
    mlog(&n->log, LOG_WARN, "spread batch %llu: %s; N goes to one worker",
         (unsigned long long)s->batch, why);
    hand_rest(n, s, NULL);
}

/* A split into a prime and a composite cofactor: the cofactor goes to the
 * whole mesh when cofactor_rule.h says so (every job but N ends and N is
 * held until the cofactor's factors come: spread_cofactor.h); otherwise,
 * or with no prime part, N goes to one worker (its ladder recurses). */
static void split_composite(struct node *n, struct spread_one *s, mpz_srcptr prime)
{
    if (prime != NULL && cofactor_spread_wanted(s->n, prime) &&
        spread_cofactor_propose(n, s->batch, s->n, prime, s->budget_ms))
        hand_rest(n, s, NULL);
    else
        give_up(n, s, "a split into composites");
}

/* N's factors, ascending, as the last index's result, and the ranges end.
 * Only two probable primes are committed here (a balanced semiprime, the
 * case this is for); a split into composites goes to split_composite. */
static void finish(struct node *n, struct spread_one *s)
{
    mpz_t g, lo, hi;
    mpz_inits(g, lo, hi, NULL);
    mpz_divexact(g, s->n, s->factor);
    bool f_first = mpz_cmp(s->factor, g) < 0;
    mpz_set(lo, f_first ? s->factor : g);
    mpz_set(hi, f_first ? g : s->factor);
    char *text = malloc(mpz_sizeinbase(s->n, 10) + 4);
    bool lo_prime = mpz_probab_prime_p(lo, 30), hi_prime = mpz_probab_prime_p(hi, 30);
    if (!lo_prime || !hi_prime) {
        split_composite(n, s, lo_prime ? lo : hi_prime ? hi : NULL);
    } else if (text != NULL) {
        gmp_sprintf(text, "%Zd %Zd", lo, hi);
        struct msg_result factors = {s->first + s->ranges, text, strlen(text)};
        hand_rest(n, s, &factors);
        mlog(&n->log, LOG_INFO, "spread batch %llu: split after %llu range results",
             (unsigned long long)s->batch, (unsigned long long)s->merged);
    }
    free(text);
    mpz_clears(g, lo, hi, NULL);
}

/* The counts shown (node_spread_counts), taken on the loop; caught_up:
 * every range committed so far is merged (where the rate starts). */
static void note_counts(struct spread_one *s, bool caught_up)
{
    struct siqs_coord_stats st;
    siqs_coord_stats(s->coord, &st);
    s->count.batch = s->batch;
    s->count.sets = st.sets;
    s->count.want_sets = st.want_sets;
    s->counted = true;
    if (caught_up && !s->count.rate_known) {
        s->count.since_ms = uv_now(&s->node->loop);
        s->count.since_sets = st.sets;
        s->count.rate_known = true;
    }
}

size_t node_spread_counts(const struct node *n, struct spread_count *out, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; n->spread != NULL && i < n->spread->n && k < max; i++) {
        const struct spread_one *s = n->spread->b[i];
        if (s->counted && s->coord != NULL && !s->handed) {
            out[k] = s->count;
            out[k++].combining = s->combining;
        }
    }
    return k;
}

static void step(struct node *n, struct spread_one *s);

static void combine_work(uv_work_t *w)
{
    struct spread_one *s = w->data;
    uint64_t t0 = uv_hrtime();
    s->combined = siqs_coord_combine(s->coord, s->factor);
    s->combine_ms = (uv_hrtime() - t0) / 1000000;
}

static void combine_done(uv_work_t *w, int status)
{
    struct spread_one *s = w->data;
    s->combining = false;
    if (s->orphaned || status != 0) {
        free_one(s); /* status != 0: cancelled, the loop is closing */
        return;
    }
    struct node *n = s->node;
    struct siqs_coord_stats st;
    siqs_coord_stats(s->coord, &st);
    note_counts(s, false);
    mlog(&n->log, LOG_INFO, "spread batch %llu: combine %d (%llu ms, off the loop): %zu sets, "
         "%zu relations, %zu repeats, %zu dropped, %zu malformed", (unsigned long long)s->batch,
         st.combines, (unsigned long long)s->combine_ms, st.sets, st.wire.added,
         st.wire.repeats, st.wire.dropped, st.wire.malformed);
    if (s->combined == 1)
        finish(n, s);
    else if (s->combined < 0)
        give_up(n, s, "no split after the combines the engine allows");
    if (s->combined != 0) { /* split or gave up: nothing more to merge */
        siqs_coord_free(s->coord);
        s->coord = NULL;
    } else if (n->lead != NULL && node_is_leader(n)) {
        step(n, s); /* what was committed meanwhile may be enough now */
    }
}

/* Has a curve job's committed result split N? Then N's factors (finish)
 * end every job, SIQS's ranges too, and the sieving stops. A split into a
 * prime and a composite cofactor gives N to one worker (finish's rule). */
static bool spread_ecm_found(struct node *n, struct spread_one *s)
{
    if (!spread_ecm_scan(&s->ecm, n->queue, s->batch, s->n, s->factor))
        return false;
    mlog(&n->log, LOG_INFO, "spread batch %llu: ECM found a factor after %llu of %llu curve "
         "jobs (%llu curves, %llu cut short by the deadline)", (unsigned long long)s->batch,
         (unsigned long long)s->ecm.done, (unsigned long long)s->ecm.jobs,
         (unsigned long long)s->ecm.curves, (unsigned long long)s->ecm.cut);
    finish(n, s);
    siqs_coord_free(s->coord);
    s->coord = NULL;
    return true;
}

/* Merges the ranges committed since the last look; combines when ready.
 * A factor from the curve jobs ends it all first (spread_ecm_found). */
static void step(struct node *n, struct spread_one *s)
{
    if (s->orphaned)
        return;
    if (s->handed || s->combining || spread_ecm_found(n, s))
        return;
    if (s->ecm.jobs > 0 && !s->ecm.told && spread_ecm_spent(&s->ecm)) {
        s->ecm.told = true; /* what the curves did, honestly: none rerun */
        mlog(&n->log, LOG_INFO, "spread batch %llu: ECM found no factor in %llu curve jobs "
             "(%llu curves, %llu cut short by the deadline)", (unsigned long long)s->batch,
             (unsigned long long)s->ecm.jobs, (unsigned long long)s->ecm.curves,
             (unsigned long long)s->ecm.cut);
    }
    if (s->coord == NULL)
        return;
    uint64_t t0 = uv_hrtime();
    bool all_merged = true;
    for (uint64_t i = s->first; i < s->first + s->ranges; i++) {
        if (s->taken[i] || !queue_is_done(n->queue, s->batch, i))
            continue;
        if (uv_hrtime() - t0 > SPREAD_MERGE_SLICE_NS) {
            all_merged = false; /* the next tick or commit goes on */
            break;
        }
        const char *text = queue_result(n->queue, s->batch, i);
        if (text == NULL) {
            /* Done, but in a segment file this replica has not loaded yet
             * (a restart, or a new leader sent a snapshot naming it): the
             * relations come once result_fetch loads it; never skipped. */
            all_merged = false;
            continue;
        }
        s->taken[i] = 1;
        s->merged++;
        siqs_coord_take(s->coord, text, strlen(text));
    }
    note_counts(s, all_merged);
    if (!all_merged || !siqs_coord_ready(s->coord))
        return;
    s->work.data = s;
    if (uv_queue_work(&n->loop, &s->work, combine_work, combine_done) == 0)
        s->combining = true;
}

static struct spread_one *open_one(struct node *n, struct node_spread *sp,
                                   const struct batch_info *info)
{
    if (sp->n == sp->cap) {
        size_t cap = sp->cap ? 2 * sp->cap : 4;
        struct spread_one **b = realloc(sp->b, cap * sizeof *b);
        if (b == NULL)
            return NULL;
        sp->b = b, sp->cap = cap;
    }
    struct spread_one *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    *s = (struct spread_one){.node = n, .batch = info->id};
    batch_spread_layout(info->spec, &s->first, &s->ranges);
    s->budget_ms = info->spec->budget_ms;
    mpz_inits(s->n, s->factor, NULL);
    s->taken = calloc(s->first + s->ranges + 1, 1);
    if (s->taken == NULL || !spread_ecm_open(&s->ecm, info->spec)) {
        free_one(s);
        return NULL;
    }
    sp->b[sp->n++] = s;
    mpz_set_str(s->n, info->spec->start, 10);
    if (s->ranges == 0)
        return s; /* ECM only: N is leased after the curves, if none splits it */
    enum siqs_coord_open rc = siqs_coord_open(&s->coord, s->n, s->factor);
    if (rc == SIQS_COORD_SPLIT)
        finish(n, s);
    else if (rc != SIQS_COORD_OPENED) /* a power, or the set-up failed */
        give_up(n, s, "its number cannot be sieved here");
    return s;
}

/* The applied row (routes.c). The tick alone looked every 250 ms: at 200
 * bits, where the whole number takes ~2 s on one core, the wait for the
 * tick before the combine and again after a short one was a tenth of a
 * 2-node spread's time. Now a committed range is merged at once, and a
 * new spread batch is opened (its factor base set up) at its commit. */
void node_spread_on_applied(struct node *n, const struct consensus_applied *a)
{
    if (a->rc != 0 || n->lead == NULL || !node_is_leader(n))
        return;
    if (a->type == QCMD_SUBMIT) {
        node_spread_tick(n);
        return;
    }
    bool results = a->type == QCMD_COMPLETE || a->type == QCMD_COMPLETE_BLOCK;
    struct spread_one *s = results && n->spread != NULL ? find(n->spread, a->batch_id) : NULL;
    if (s != NULL)
        step(n, s);
}

void node_spread_tick(struct node *n)
{
    if (n->lead == NULL || !node_is_leader(n)) {
        node_spread_stop(n);
        return;
    }
    if (n->spread == NULL && (n->spread = calloc(1, sizeof *n->spread)) == NULL)
        return;
    struct node_spread *sp = n->spread;
    for (size_t i = 0; i < sp->n; i++)
        sp->b[i]->seen = false;
    size_t batches = queue_batch_count(n->queue);
    for (size_t i = 0; i < batches; i++) {
        struct batch_info info;
        if (queue_batch_at(n->queue, i, &info) != 0 || info.state != BATCH_RUNNING ||
            info.spec->kind != BATCH_SPREAD)
            continue;
        struct spread_one *s = find(sp, info.id);
        if (s == NULL && (s = open_one(n, sp, &info)) == NULL)
            return; /* out of memory: the next tick tries again */
        s->seen = true;
        step(n, s);
    }
    for (size_t i = sp->n; i-- > 0;) /* finished, cancelled or forgotten */
        if (!sp->b[i]->seen) {
            drop_one(sp->b[i]);
            sp->b[i] = sp->b[--sp->n];
        }
}
