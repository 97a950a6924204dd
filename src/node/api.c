/* api.c - the control-socket requests a node answers, one handler each.
 *
 * Requests are JSON objects with a "cmd" member; every answer has "ok".
 * The CLI (src/cmd/) and the dashboard use exactly these. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gmp.h>
#include <sodium.h>

#include "node.h"
#include "api.h"
#include "api_events.h"
#include "links.h"
#include "members.h"
#include "result_fetch.h"
#include "snapshot.h"
#include "work_node.h"
#include "write.h"
#include "consensus.h"
#include "net.h"
#include "numtext.h"
#include "factor.h"
#include "siqs_coord.h"
#include "protocol/submit_rules.h"
#include "view_json.h"

enum {
    RESULTS_PAGE = 4096,      /* numbers per results answer */
    RESULTS_PAGE_BIG = 64,    /* ... when regenerating each number is costly */
    UNKNOWN_BATCH_WAIT_MS = 2000, /* replication lag a reader waits out */
    /* ... with --wait: a reader who asked to wait is better served by a
     * longer one than by "no batch" from a follower whose loop a busy disk
     * held for a few seconds (seen under CI's load) */
    UNKNOWN_BATCH_WAIT_LONG_MS = 10000,
    CATCH_UP_WAIT_MS = 60000,     /* ... longer while this replica is still
                                     applying what is committed (a restart,
                                     a snapshot being installed) */
    UNKNOWN_BATCH_AHEAD = 64,     /* ... for ids this close to the next one */
    BIG_SEMIPRIME_BITS = 200,
};

struct results_waiter {
    struct control_conn *conn;
    uint64_t batch_id, from, max;
    uint64_t unknown_until_ms;  /* a batch not (yet) here: wait for it until then */
    bool wait;                  /* --wait: answer when there is progress to show */
    bool lines;                 /* the page as one string of lines */
    struct results_waiter *next;
};

static const char *state_name(enum batch_state s)
{
    switch (s) {
    case BATCH_RUNNING: return "running";
    case BATCH_DONE: return "done";
    case BATCH_CANCELLED: return "cancelled";
    }
    return "unknown";
}

/* Accepts a JSON integer or a decimal string (u64 seeds do not fit a
 * JSON double losslessly, so clients may send strings). */
static int get_u64(json_t *req, const char *key, uint64_t dflt, uint64_t *out)
{
    json_t *v = json_object_get(req, key);
    if (v == NULL || json_is_null(v)) {
        *out = dflt;
        return 0;
    }
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (uint64_t)json_integer_value(v);
        return 0;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        if (s[0] >= '0' && s[0] <= '9') {
            errno = 0;
            unsigned long long x = strtoull(s, &end, 10);
            /* Values travel back as JSON integers (signed 64-bit). */
            if (*end == '\0' && errno == 0 && x <= INT64_MAX) {
                *out = x;
                return 0;
            }
        }
    }
    return -1;
}

/* ---- submit ----------------------------------------------------------- */

static int list_spec_from_json(struct batch_spec *spec, json_t *numbers, char *err,
                               size_t errlen)
{
    if (!json_is_array(numbers) || json_array_size(numbers) == 0) {
        snprintf(err, errlen, "\"numbers\" must be a non-empty array of strings");
        return -1;
    }
    size_t n = json_array_size(numbers), len = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(numbers, i);
        if (!json_is_string(v)) {
            snprintf(err, errlen, "number %zu is not a string", i + 1);
            return -1;
        }
        len += json_string_length(v) + 1;
    }
    char *text = malloc(len + 1);
    if (text == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(numbers, i);
        const char *s = json_string_value(v);
        /* A newline inside one string would split it into two numbers. */
        if (memchr(s, '\n', json_string_length(v)) != NULL || json_string_length(v) == 0) {
            snprintf(err, errlen, "number %zu: '%.40s' is not a valid non-negative integer",
                     i + 1, s);
            free(text);
            return -1;
        }
        memcpy(text + off, s, json_string_length(v));
        off += json_string_length(v);
        text[off++] = '\n';
    }
    int rc = batch_list_parse(spec, text, off, err, errlen);
    free(text);
    return rc;
}

/* A member that is present must have the right type: silently running
 * the default workload instead of the one asked for would be worse. */
static bool present_but_not(json_t *req, const char *key, int (*is_type)(const json_t *))
{
    json_t *v = json_object_get(req, key);
    return v != NULL && !json_is_null(v) && !is_type(v);
}

static int is_string(const json_t *v) { return json_is_string(v); }
static int is_string_or_integer(const json_t *v)
{
    return json_is_string(v) || json_is_integer(v);
}

/* No shape given: the classic batch (batch.h), step and chunk included. */
static bool is_classic(json_t *req)
{
    const char *kind = json_string_value(json_object_get(req, "kind"));
    return (kind == NULL || strcmp(kind, "range") == 0) && !json_object_get(req, "start") &&
           !json_object_get(req, "count") && !json_object_get(req, "step");
}

/* A fresh seed for semiprimes asked without one: repeated submits give
 * new numbers (the seed travels in the SUBMIT, so every replica draws the
 * same ones). */
static uint64_t fresh_seed(void)
{
    uint64_t seed;
    randombytes_buf(&seed, sizeof seed);
    return seed & SUBMIT_MAX_SEED;
}

/* One hard number for the whole mesh (batch.h, BATCH_SPREAD): ECM curves
 * first, as the ladder would run them (factor_spread_ecm_plan; past
 * SIQS's range ECM only, sized by the batch's budget), then SIQS ranges
 * of the engine's shape for its size (siqs_coord_plan). */
static int spread_spec_from_json(struct batch_spec *spec, json_t *number, uint64_t budget,
                                 char *err, size_t errlen)
{
    const char *text = json_string_value(number);
    char num[MESH_MAX_DIGITS + 2], why[64];
    if (text == NULL || numtext_normalize(text, strlen(text), num, sizeof num, why,
                                          sizeof why) != 0) {
        snprintf(err, errlen, "number must be a string of a non-negative integer");
        return -1;
    }
    mpz_t n;
    mpz_init_set_str(n, num, 10);
    uint32_t width = 1;
    uint64_t ranges = 0;
    struct ecm_plan ecm = {0, 0};
    bool sievable = mpz_sizeinbase(n, 2) <= BATCH_SPREAD_MAX_BITS;
    if (sievable)
        siqs_coord_plan(n, &width, &ranges);
    if (mpz_odd_p(n) && mpz_sizeinbase(n, 2) >= BATCH_SPREAD_MIN_BITS &&
        mpz_sizeinbase(n, 2) <= BATCH_SPREAD_ECM_MAX_BITS)
        factor_spread_ecm_plan(n, budget == BATCH_BUDGET_DEFAULT || budget == BATCH_BUDGET_NONE
                                      ? 0 : budget, &ecm);
    bool odd = mpz_odd_p(n);
    size_t bits = mpz_sizeinbase(n, 2);
    mpz_clear(n);
    if (!sievable && bits > BATCH_SPREAD_ECM_MAX_BITS) {
        snprintf(err, errlen, "a spread number has at most %d bits (ECM only past %d)",
                 BATCH_SPREAD_ECM_MAX_BITS, BATCH_SPREAD_MAX_BITS);
        return -1;
    }
    if (!sievable && odd && ecm.levels == 0) {
        snprintf(err, errlen, "past %d bits a spread is ECM only, and its --number-timeout "
                 "buys not one curve", BATCH_SPREAD_MAX_BITS);
        return -1;
    }
    return batch_spread_ecm_init(spec, num, &ecm, width, ranges, err, errlen);
}

/* Every default and limit comes from submit_rules.h, as for the CLI and
 * the dashboard's form. */
static int spec_from_json(struct batch_spec *spec, json_t *req, uint64_t budget, char *err,
                          size_t errlen)
{
    if (present_but_not(req, "kind", is_string) ||
        present_but_not(req, "start", is_string_or_integer) ||
        present_but_not(req, "name", is_string)) {
        snprintf(err, errlen, "kind and name must be strings, start a string or integer");
        return -1;
    }
    const char *kind = json_string_value(json_object_get(req, "kind"));
    if (kind == NULL)
        kind = "range";
    bool semiprimes = strcmp(kind, "semiprimes") == 0, classic = is_classic(req);
    uint64_t count, step, bits, seed;
    if (get_u64(req, "count", classic ? SUBMIT_CLASSIC_COUNT : semiprimes
                ? SUBMIT_SEMIPRIME_COUNT : SUBMIT_RANGE_COUNT, &count) != 0 ||
        get_u64(req, "step", classic ? SUBMIT_CLASSIC_STEP : SUBMIT_RANGE_STEP, &step) != 0 ||
        get_u64(req, "bits", SUBMIT_SEMIPRIME_BITS, &bits) != 0 ||
        get_u64(req, "seed", UINT64_MAX, &seed) != 0) {
        snprintf(err, errlen, "count, step, bits and seed must be non-negative integers");
        return -1;
    }
    if (strcmp(kind, "range") == 0) {
        json_t *start = json_object_get(req, "start");
        char digits[32];
        const char *s = json_is_string(start) ? json_string_value(start) : SUBMIT_RANGE_START;
        if (json_is_integer(start)) {
            snprintf(digits, sizeof digits, "%" JSON_INTEGER_FORMAT, json_integer_value(start));
            s = digits;
        }
        if (submit_check_count(count, err, errlen) != 0 ||
            submit_check_step(step, err, errlen) != 0)
            return -1;
        return batch_range_init(spec, s, step, count, err, errlen);
    }
    if (semiprimes) {
        if (submit_check_bits(bits, err, errlen) != 0 ||
            submit_check_count(count, err, errlen) != 0)
            return -1;
        return batch_semiprimes_init(spec, (uint32_t)bits, count,
                                     seed == UINT64_MAX ? fresh_seed() : seed, err, errlen);
    }
    if (strcmp(kind, "list") == 0)
        return list_spec_from_json(spec, json_object_get(req, "numbers"), err, errlen);
    if (strcmp(kind, "spread") == 0)
        return spread_spec_from_json(spec, json_object_get(req, "number"), budget, err, errlen);
    snprintf(err, errlen, "unknown batch kind '%s'", kind);
    return -1;
}

/* Writes answer when this node's replica has applied them (write.c). */
static void on_submitted(void *ud, int rc, uint64_t batch_id, const char *err)
{
    struct control_conn *c = ud;
    if (rc == NODE_WRITE_GONE)
        return; /* the client left: c is gone too */
    struct node *n = control_conn_ud(c);
    struct batch_info info;
    if (rc != 0)
        control_reply_error(c, "%s", err);
    else if (queue_batch_get(n->queue, batch_id, &info) != 0)
        control_reply_error(c, "batch %" PRIu64 " was committed but is not here", batch_id);
    else
        control_reply(c, json_pack("{s:b, s:I, s:I}", "ok", 1, "batch", (json_int_t)batch_id,
                                   "total", (json_int_t)info.total));
}

int api_submit_command(struct qcmd *cmd, json_t *req, char *err, size_t errlen)
{
    *cmd = (struct qcmd){.type = QCMD_SUBMIT};
    uint64_t chunk;
    const char *name = json_string_value(json_object_get(req, "name"));
    if (get_u64(req, "chunk", is_classic(req) ? SUBMIT_CLASSIC_CHUNK : 0, &chunk) != 0) {
        snprintf(err, errlen, "chunk must be a non-negative integer");
        return -1;
    }
    if (submit_check_chunk(chunk, err, errlen) != 0)
        return -1;
    if (name != NULL && strlen(name) >= sizeof cmd->name) {
        snprintf(err, errlen, "name longer than %zu bytes", sizeof cmd->name - 1);
        return -1;
    }
    uint64_t timeout;
    if (get_u64(req, "number_timeout_ms", UINT64_MAX, &timeout) != 0) {
        snprintf(err, errlen, "number_timeout_ms must be a non-negative integer (0: none)");
        return -1;
    }
    uint64_t budget = BATCH_BUDGET_DEFAULT;
    if (timeout != UINT64_MAX &&
        submit_number_timeout_budget(timeout, &budget, err, errlen) != 0)
        return -1;
    if (spec_from_json(&cmd->spec, req, budget, err, errlen) != 0)
        return -1;
    cmd->spec.chunk = (uint32_t)chunk;
    if (cmd->spec.kind == BATCH_SPREAD && chunk == 0)
        cmd->spec.chunk = 1; /* a range job is a lease of its own */
    cmd->spec.budget_ms = budget;
    if (name != NULL)
        snprintf(cmd->name, sizeof cmd->name, "%s", name);
    return 0;
}

static void api_submit(struct node *n, struct control_conn *c, json_t *req)
{
    struct qcmd cmd;
    char err[512];
    if (api_submit_command(&cmd, req, err, sizeof err) != 0) {
        control_reply_error(c, "%s", err);
        return;
    }
    node_write(n, &cmd, on_submitted, c, c);
    qcmd_free(&cmd);
}

/* ---- results ---------------------------------------------------------- */

/* "no batch N", or, while its tombstone is kept, when and why it went. */
static void reply_no_batch(struct node *n, struct control_conn *c, uint64_t id)
{
    struct forgotten_info f;
    if (queue_forgotten(n->queue, id, &f) != 0) {
        control_reply_error(c, "no batch %" PRIu64, id);
        return;
    }
    char when[64] = "at an unknown time";
    time_t t = (time_t)(f.time_ms / 1000);
    struct tm tm;
    if (f.time_ms != 0 && gmtime_r(&t, &tm) != NULL)
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    control_reply_error(c, "batch %" PRIu64 " was forgotten (%s, %s)", id, when,
                        forget_reason_text(f.why));
}

/* A spread batch's first numbers are its SIQS range jobs, whose results
 * are relations for the coordinator (tens of KiB of base 32 a line): a
 * reader is shown the hard number itself only, the last index. */
static uint64_t first_shown(const struct batch_info *info, uint64_t from)
{
    if (info->spec->kind == BATCH_SPREAD && info->total > 0 && from < info->total - 1)
        return info->total - 1;
    return from;
}

/* Up to max results from index `from`, in input order. A running batch
 * stops at its first pending number (results stream in order as they
 * come); a cancelled one skips the numbers it will never have. *next is
 * where the following page starts. */
/* The results answer is written as text, not built from jansson objects:
 * it is the one answer that carries millions of items, and every string in
 * it is digits, lowercase letters, spaces and colons (qresult_text_valid,
 * batch_number), which JSON needs no escaping for. */
struct textbuf {
    char *p;
    size_t len, cap;
    bool failed;
};

static void tb_put(struct textbuf *t, const char *s, size_t n)
{
    if (t->failed)
        return;
    if (t->cap - t->len < n + 2) { /* + the line end control_reply_text adds */
        size_t cap = t->cap ? t->cap * 2 : 65536;
        while (cap - t->len < n + 2)
            cap *= 2;
        char *np = realloc(t->p, cap);
        if (np == NULL) {
            t->failed = true;
            return;
        }
        t->p = np;
        t->cap = cap;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
}

static void tb_str(struct textbuf *t, const char *s)
{
    tb_put(t, s, strlen(s));
}

static void tb_u64(struct textbuf *t, const char *key, uint64_t v)
{
    char b[64];
    int n = snprintf(b, sizeof b, ",\"%s\":%" PRIu64, key, v);
    tb_put(t, b, (size_t)n);
}

/* Up to max results from index `from`, in input order. A running batch
 * stops at its first pending number (results stream in order as they
 * come); a cancelled one skips the numbers it will never have. Returns
 * where the following page starts. */
static uint64_t results_items(struct node *n, const struct batch_info *info, uint64_t from,
                              uint64_t max, bool lines, struct textbuf *t)
{
    if (info->spec->kind == BATCH_SEMIPRIMES && info->spec->bits > BIG_SEMIPRIME_BITS &&
        max > RESULTS_PAGE_BIG)
        max = RESULTS_PAGE_BIG;
    bool skip_gaps = info->state != BATCH_RUNNING;
    char num[MESH_MAX_DIGITS + 2];
    uint64_t i = first_shown(info, from), got = 0;
    for (; i < info->total && got < max; i++) {
        const char *r = queue_result(n->queue, info->id, i);
        if (r == NULL && skip_gaps)
            continue;
        if (r == NULL || batch_number(info->spec, i, num, sizeof num) != 0)
            break;
        if (lines) { /* coreutils factor's line, in one JSON string */
            tb_str(t, num);
            tb_str(t, r[0] ? ": " : ":");
            tb_str(t, r);
            tb_str(t, "\\n");
        } else {
            tb_str(t, got ? ",{\"n\":\"" : "{\"n\":\"");
            tb_str(t, num);
            tb_str(t, "\",\"r\":\"");
            tb_str(t, r);
            tb_str(t, "\"}");
        }
        got++;
    }
    return i;
}

/* lines: the items as one string of "N: factors" lines (what the CLI
 * prints; an array of objects costs the client a parse per number). */
static void reply_results(struct node *n, struct control_conn *c,
                          const struct batch_info *info, uint64_t from, uint64_t max,
                          bool lines)
{
    struct textbuf t = {0};
    tb_str(&t, "{\"ok\":true,\"state\":\"");
    tb_str(&t, state_name(info->state));
    tb_str(&t, "\"");
    tb_u64(&t, "batch", info->id);
    tb_u64(&t, "total", info->total);
    tb_u64(&t, "done", info->done);
    tb_u64(&t, "unfactored", info->unfactored);
    tb_u64(&t, "from", from);
    tb_str(&t, lines ? ",\"lines\":\"" : ",\"results\":[");
    uint64_t next = results_items(n, info, from, max, lines, &t);
    tb_str(&t, lines ? "\"" : "]");
    tb_u64(&t, "next", next);
    tb_str(&t, "}");
    if (t.failed) {
        free(t.p);
        control_reply_error(c, "out of memory");
        return;
    }
    control_reply_text(c, t.p, t.len);
}

/* Committed entries this replica has not applied yet: a batch submitted
 * elsewhere may be among them. */
static bool replica_catching_up(const struct node *n)
{
    struct consensus_status st;
    consensus_status(n->cons, &st);
    return st.applied_index < st.commit_index;
}

/* A waiter can be answered when a result is ready at its position, or when
 * none will ever come (the batch finished or was cancelled). */
static bool waiter_ready(struct node *n, const struct results_waiter *w,
                         struct batch_info *info)
{
    if (queue_batch_get(n->queue, w->batch_id, info) != 0)
        return uv_now(&n->loop) >= w->unknown_until_ms &&
               (!replica_catching_up(n) ||
                uv_now(&n->loop) >= w->unknown_until_ms + CATCH_UP_WAIT_MS);
    /* restored from a manifest, its file not loaded or fetched yet
     * (result_fetch.c): answering now would serve gaps. Without --wait, once
     * no linked peer has the file, the answer says so (reply_elsewhere). */
    if (info->results_elsewhere) {
        struct results_wait rw;
        return !w->wait && node_results_waiting(n, w->batch_id, &rw) && rw.missing;
    }
    if (!w->wait)
        return true;
    uint64_t from = first_shown(info, w->from);
    return info->state != BATCH_RUNNING || from >= info->total ||
           queue_done_prefix(n->queue, w->batch_id, from) > 0;
}

/* A batch whose results file no linked peer has (waiter_ready): an error,
 * not gaps; with --wait the reader keeps waiting for it instead. */
static void reply_results_or_missing(struct node *n, struct control_conn *c,
                                     const struct batch_info *info, uint64_t from,
                                     uint64_t max, bool lines)
{
    struct results_wait rw;
    if (!info->results_elsewhere) {
        reply_results(n, c, info, from, max, lines);
        return;
    }
    unsigned asked = node_results_waiting(n, info->id, &rw) ? rw.asked : 0;
    control_reply_error(c, "results of batch %llu are not on any reachable node (asked %u "
                        "peer%s); `mesh results %llu --wait` waits for them",
                        (unsigned long long)info->id, asked, asked == 1 ? "" : "s",
                        (unsigned long long)info->id);
}

static void api_results(struct node *n, struct control_conn *c, json_t *req)
{
    uint64_t id, from, max;
    struct batch_info info;
    if (get_u64(req, "batch", 0, &id) != 0 || get_u64(req, "from", 0, &from) != 0 ||
        get_u64(req, "max", RESULTS_PAGE, &max) != 0) {
        control_reply_error(c, "batch, from and max must be non-negative integers");
        return;
    }
    if (max == 0 || max > RESULTS_PAGE)
        max = RESULTS_PAGE;
    bool wait = json_is_true(json_object_get(req, "wait"));
    bool lines = json_is_true(json_object_get(req, "lines"));
    struct results_waiter probe = {c, id, from, max, 0, wait, lines, NULL};
    bool here = queue_batch_get(n->queue, id, &info) == 0;
    /* A batch id this replica has not reached yet may have just been
     * submitted on another node: give replication a moment before "no".
     * The next id is the cluster's base until its first batch, so the
     * window starts there, not at the empty queue's 1. */
    uint64_t next = consensus_next_batch_id(n->cons, n->queue);
    if (!here && id >= next && (id - next < UNKNOWN_BATCH_AHEAD || replica_catching_up(n)))
        probe.unknown_until_ms =
            uv_now(&n->loop) + (wait ? UNKNOWN_BATCH_WAIT_LONG_MS : UNKNOWN_BATCH_WAIT_MS);
    else if (!here) {
        reply_no_batch(n, c, id);
        return;
    }
    if (here && waiter_ready(n, &probe, &info)) {
        reply_results_or_missing(n, c, &info, from, max, lines);
        return;
    }
    struct results_waiter *w = malloc(sizeof *w);
    if (w == NULL) {
        control_reply_error(c, "out of memory");
        return;
    }
    *w = probe;
    w->next = n->waiters;
    n->waiters = w;
}

/* Takes the ready waiters off the list before answering any: an answer
 * lets that connection's next request run at once, and that request may
 * commit and wake waiters again, changing the list under us. */
void api_wake_waiters(struct node *n)
{
    struct results_waiter *ready = NULL, **tail = &ready;
    for (struct results_waiter **pp = &n->waiters; *pp != NULL;) {
        struct results_waiter *w = *pp;
        struct batch_info info;
        if (!waiter_ready(n, w, &info)) {
            pp = &w->next;
            continue;
        }
        *pp = w->next;
        w->next = NULL;
        *tail = w;
        tail = &w->next;
    }
    while (ready != NULL) {
        struct results_waiter *w = ready;
        struct batch_info info;
        ready = w->next;
        if (queue_batch_get(n->queue, w->batch_id, &info) == 0)
            reply_results_or_missing(n, w->conn, &info, w->from, w->max, w->lines);
        else
            reply_no_batch(n, w->conn, w->batch_id);
        free(w);
    }
}

void api_on_conn_closed(void *ud, struct control_conn *c)
{
    struct node *n = ud;
    node_write_forget(n, c);
    node_members_forget(n, c);
    api_events_forget(n, c);
    for (struct results_waiter **pp = &n->waiters; *pp != NULL;) {
        struct results_waiter *w = *pp;
        if (w->conn == c) {
            *pp = w->next;
            free(w);
        } else {
            pp = &w->next;
        }
    }
}

void api_drop_waiters(struct node *n)
{
    while (n->waiters != NULL) {
        struct results_waiter *w = n->waiters;
        n->waiters = w->next;
        control_reply_error(w->conn, "node shutting down");
        free(w);
    }
}

/* ---- status ----------------------------------------------------------- */

/* The mesh view (snapshot.c) as JSON, plus what only the CLI shows. */
static void api_status(struct node *n, struct control_conn *c, json_t *req)
{
    (void)req;
    node_snapshot(n, &n->snapshot);
    uint64_t uptime = (uv_now(&n->loop) - n->started_ms) / 1000;
    json_t *top = json_pack("{s:b, s:s, s:s, s:b, s:I, s:s, s:I}",
        "ok", 1, "id", n->keys.id_hex, "name", n->cfg->name, "draining", n->draining,
        "uptime_s", (json_int_t)uptime, "version", MESH_VERSION,
        "outbox", (json_int_t)node_work_outbox(n));
    view_to_json(&n->snapshot, top);
    node_links_status(n, top);
    control_reply(c, top);
}

/* ---- cancel, drain ---------------------------------------------------- */

static void on_cancelled(void *ud, int rc, uint64_t batch_id, const char *err)
{
    struct control_conn *c = ud;
    uint64_t unknown;
    if (rc == NODE_WRITE_GONE)
        return;
    /* The queue's refusal "no batch N" as `mesh results N` gives it: with
     * when and why, if the batch was forgotten. */
    if (rc != 0 && sscanf(err, "no batch %" SCNu64, &unknown) == 1)
        reply_no_batch(control_conn_ud(c), c, unknown);
    else if (rc != 0)
        control_reply_error(c, "%s", err);
    else
        control_reply(c, json_pack("{s:b, s:I}", "ok", 1, "batch", (json_int_t)batch_id));
}

static void api_cancel(struct node *n, struct control_conn *c, json_t *req)
{
    uint64_t id;
    if (get_u64(req, "batch", 0, &id) != 0) {
        control_reply_error(c, "batch must be a non-negative integer");
        return;
    }
    struct qcmd cmd = {.type = QCMD_CANCEL, .batch_id = id};
    node_write(n, &cmd, on_cancelled, c, c);
}

/* ---- forget ------------------------------------------------------------- */

static void on_forget_done(void *ud, int rc, uint64_t batch_id, const char *err)
{
    struct control_conn *c = ud;
    (void)batch_id;
    if (rc == NODE_WRITE_GONE)
        return;
    if (rc != 0)
        control_reply_error(c, "%s", err);
    else
        control_reply(c, json_pack("{s:b}", "ok", 1));
}

/* {"batches": [ids], "reason": "user"|"reader"}: one FORGET, ids sorted and
 * without repeats (qcmd_forget_normalize: the command's form). */
static void api_forget(struct node *n, struct control_conn *c, json_t *req)
{
    json_t *ids = json_object_get(req, "batches");
    const char *reason = json_string_value(json_object_get(req, "reason"));
    size_t count = json_array_size(ids);
    if (!json_is_array(ids) || count == 0 || count > QCMD_FORGET_MAX) {
        control_reply_error(c, "batches must be a list of 1 to %d batch ids", QCMD_FORGET_MAX);
        return;
    }
    struct qcmd cmd = {.type = QCMD_FORGET, .forget_reason = FORGET_BY_USER};
    if (reason != NULL && strcmp(reason, "reader") == 0)
        cmd.forget_reason = FORGET_BY_READER;
    cmd.forget = malloc(count * sizeof *cmd.forget);
    if (cmd.forget == NULL) {
        control_reply_error(c, "out of memory");
        return;
    }
    for (size_t i = 0; i < count; i++) {
        json_t *v = json_array_get(ids, i);
        if (!json_is_integer(v) || json_integer_value(v) <= 0) {
            control_reply_error(c, "batch ids must be positive integers");
            qcmd_free(&cmd);
            return;
        }
        cmd.forget[i] = (uint64_t)json_integer_value(v);
    }
    cmd.n_forget = qcmd_forget_normalize(cmd.forget, count);
    node_write(n, &cmd, on_forget_done, c, c);
    qcmd_free(&cmd);
}

/* NODE by id (hex, or a unique prefix of it) or by name; NULL: this node. */
int api_resolve_node(struct node *n, const char *which, uint64_t *id)
{
    if (which == NULL || which[0] == '\0' || strcmp(which, n->cfg->name) == 0 ||
        strncmp(n->keys.id_hex, which, strlen(which)) == 0) {
        *id = n->keys.node_id;
        return 0;
    }
    int found = 0;
    for (size_t i = 0; n->net != NULL && i < net_peer_count(n->net); i++) {
        const struct net_peer *p = net_peer_at(n->net, i);
        if (strcmp(p->name, which) == 0 || strncmp(p->id_hex, which, strlen(which)) == 0) {
            *id = p->id;
            found++;
        }
    }
    return found == 1 ? 0 : found == 0 ? -1 : -2;
}

struct drain_call {
    struct control_conn *c;
    uint64_t node;
    bool drained;
};

/* "draining"/"drained" for this node (its workers are known here); for
 * another node "draining" until its own status says more. */
static void on_drain_done(void *ud, int rc, uint64_t batch_id, const char *err)
{
    struct drain_call *d = ud;
    (void)batch_id;
    if (rc == NODE_WRITE_GONE)
        ;
    else if (rc != 0)
        control_reply_error(d->c, "%s", err);
    else if (d->c != NULL) {
        struct node *n = control_conn_ud(d->c);
        control_reply(d->c, json_pack("{s:b, s:s}", "ok", 1, "state",
            d->node == n->keys.node_id ? node_state_name(n)
                                       : d->drained ? "draining" : "active"));
    }
    free(d);
}

static void set_drain(struct node *n, struct control_conn *c, json_t *req, bool drained)
{
    const char *which = json_string_value(json_object_get(req, "node"));
    struct qcmd cmd = {.type = QCMD_DRAIN, .drained = drained};
    int rc = api_resolve_node(n, which, &cmd.node_id);
    if (rc != 0) {
        control_reply_error(c, rc == -1 ? "no node named '%s' in the mesh"
                                        : "'%s' names more than one node: give more of its id",
                            which);
        return;
    }
    struct drain_call *d = malloc(sizeof *d);
    if (d == NULL) {
        control_reply_error(c, "out of memory");
        return;
    }
    *d = (struct drain_call){c, cmd.node_id, drained};
    node_write(n, &cmd, on_drain_done, d, c);
}

static void api_drain(struct node *n, struct control_conn *c, json_t *req)
{
    set_drain(n, c, req, true);
}

static void api_undrain(struct node *n, struct control_conn *c, json_t *req)
{
    set_drain(n, c, req, false);
}

/* ---- leave, recover ------------------------------------------------------ */

static void api_leave(struct node *n, struct control_conn *c, json_t *req)
{
    (void)req;
    node_members_leave(n, c);
}

static void api_recover(struct node *n, struct control_conn *c, json_t *req)
{
    if (!json_is_true(json_object_get(req, "force"))) {
        control_reply_error(c, "recover needs --force: it can lose committed entries");
        return;
    }
    node_members_recover(n, c);
}

static const struct {
    const char *name;
    void (*handle)(struct node *n, struct control_conn *c, json_t *req);
} api_table[] = {
    {"submit", api_submit},   {"results", api_results}, {"status", api_status},
    {"cancel", api_cancel},   {"drain", api_drain},     {"undrain", api_undrain},
    {"leave", api_leave},     {"recover", api_recover},
    {"events", api_events},   {"forget", api_forget},
};

void api_on_request(void *ud, struct control_conn *c, json_t *req)
{
    struct node *n = ud;
    const char *cmd = json_string_value(json_object_get(req, "cmd"));
    for (size_t i = 0; cmd != NULL && i < sizeof api_table / sizeof api_table[0]; i++)
        if (strcmp(cmd, api_table[i].name) == 0) {
            api_table[i].handle(n, c, req);
            return;
        }
    control_reply_error(c, "unknown command '%s'", cmd ? cmd : "(none)");
}
