/* child.c - the worker child process (protocol in child.h). */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "progress.h"
#include "ecm_range.h"
#include "siqs_range.h"

enum {
    MAX_REQUEST_LINE = 4096,    /* id + space + 309 digits, with room */
    IN_CAP = 64 * 1024,         /* requests read at once: a node writes up to
                                   a thousand trivial numbers in one go, and
                                   their answers leave in one write */
};

/* Digits only (factor_parse_u64 would also take a sign). */
static int parse_u64(const char *s, size_t len, uint64_t *out)
{
    if (len == 0 || s[0] == '+')
        return -1;
    return factor_parse_u64(s, len, out) ? 0 : -1;
}

int factor_child_parse_request(const char *line, size_t len, uint64_t *id,
                               const char **number, size_t *number_len, uint64_t *budget_ms)
{
    const char *space = memchr(line, ' ', len);
    if (space == NULL || parse_u64(line, (size_t)(space - line), id) != 0)
        return -1;
    const char *tok = space + 1;
    size_t tok_len = len - (size_t)(tok - line);
    const char *budget = memchr(tok, ' ', tok_len);
    if (budget != NULL) { /* "<id> <N> <budget_ms>": this number's own budget */
        size_t budget_len = tok_len - (size_t)(budget + 1 - tok);
        tok_len = (size_t)(budget - tok);
        if (parse_u64(budget + 1, budget_len, budget_ms) != 0)
            return -1;
    }
    if (tok_len == 0 || memchr(tok, '\t', tok_len) != NULL || memchr(tok, '\0', tok_len) != NULL)
        return -1;
    *number = tok;
    *number_len = tok_len;
    return 0;
}

static size_t answer_length(const struct factor_result *res)
{
    size_t len = 20 + 1 + 8 + sizeof res->error + 2; /* id, kind, error, \n */
    for (size_t i = 0; i < res->count; i++)
        len += 1 + strlen(res->factors[i]);
    if (res->unfactored != NULL)
        len += 1 + strlen(res->unfactored);
    return len;
}

char *factor_child_format_answer(uint64_t id, enum factor_status status,
                                 const struct factor_result *res)
{
    size_t cap = answer_length(res);
    char *line = malloc(cap);
    if (line == NULL)
        return NULL;
    if (status == FACTOR_ERROR) {
        snprintf(line, cap, "%" PRIu64 " error %s\n", id, res->error);
        return line;
    }
    size_t at = (size_t)snprintf(line, cap, "%" PRIu64 " %s", id,
                                 status == FACTOR_DONE ? "done" : "partial");
    if (status == FACTOR_PARTIAL && res->unfactored != NULL)
        at += (size_t)snprintf(line + at, cap - at, " %s", res->unfactored);
    for (size_t i = 0; i < res->count; i++)
        at += (size_t)snprintf(line + at, cap - at, " %s", res->factors[i]);
    snprintf(line + at, cap - at, "\n");
    return line;
}

/* Answers are buffered and written when the child is about to wait for
 * more requests, or FLUSH_MS after the oldest unwritten one: the node sees
 * a slow number's answer at once, while trivial numbers (microseconds
 * each) go out a window at a time instead of a write(2) per number. */
enum { OUT_CAP = 64 * 1024, FLUSH_MS = 5 };

struct outbuf {
    char data[OUT_CAP];
    size_t len;
    uint64_t oldest_ms;
};

static struct outbuf out; /* one per process: the child is its own program */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void flush_out(void)
{
    size_t at = 0;
    while (at < out.len) {
        ssize_t n = write(STDOUT_FILENO, out.data + at, out.len - at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            exit(1); /* the node is gone */
        at += (size_t)n;
    }
    out.len = 0;
}

static void emit(const char *line)
{
    size_t len = strlen(line);
    if (out.len + len > OUT_CAP)
        flush_out();
    if (len > OUT_CAP) { /* a huge answer (1024-bit numbers): as it is */
        fputs(line, stdout);
        fflush(stdout);
        return;
    }
    if (out.len == 0)
        out.oldest_ms = now_ms();
    memcpy(out.data + out.len, line, len);
    out.len += len;
    if (now_ms() - out.oldest_ms >= FLUSH_MS)
        flush_out();
}

/* ---- progress of the number being factored ---------------------------------
 * The kernel tells the sink after every curve or A; a record goes out when
 * the number has run PROGRESS_QUIET_MS, and then PROGRESS_EVERY_MS after
 * the last, or PROGRESS_GAP_MS after it when a phase (or ECM bound) began,
 * so that a long matrix is seen: a few a second at most, none for the
 * quick numbers that are nearly all of them. Rate and ETA are measured
 * here, from the counts since the phase (or ECM bound) began. */
enum { PROGRESS_QUIET_MS = 250, PROGRESS_EVERY_MS = 250, PROGRESS_GAP_MS = 100 };

struct progress_watch {
    uint64_t id;
    uint64_t start_ms;          /* of the number */
    uint64_t sent_ms;           /* of the last record; 0: none yet */
    struct factor_progress last;  /* the phase and bound of the last report */
    uint64_t phase_ms, phase_found; /* when and at what count it began */
    bool sent_phase;            /* the current phase has had a record */
};

static void progress_begin(struct progress_watch *w, uint64_t id)
{
    *w = (struct progress_watch){.id = id, .start_ms = now_ms(),
                                 .last = {.phase = FACTOR_PHASE_COUNT}};
}

static void on_progress(void *ud, const struct factor_progress *p)
{
    struct progress_watch *w = ud;
    uint64_t now = now_ms();
    if (p->phase != w->last.phase || p->b1 != w->last.b1 || p->bits != w->last.bits ||
        p->found < w->phase_found) {
        w->phase_ms = now;
        w->phase_found = p->found;
        w->sent_phase = false;
    }
    w->last = *p;
    if (now - w->start_ms < PROGRESS_QUIET_MS ||
        now - w->sent_ms < (w->sent_phase ? PROGRESS_EVERY_MS : PROGRESS_GAP_MS))
        return;
    struct factor_progress_record r = {.id = w->id, .p = *p};
    uint64_t ms = now - w->phase_ms, gained = p->found - w->phase_found;
    if (ms > 0 && gained > 0) {
        r.rate_milli = gained * 1000000 / ms;
        r.eta_known = p->needed > 0;
        if (r.eta_known && p->found < p->needed)
            r.eta_s = (p->needed - p->found) * ms / gained / 1000;
    }
    char line[FACTOR_PROGRESS_LINE_MAX];
    if (factor_progress_format(line, &r) == 0)
        return;
    emit(line);
    flush_out(); /* now, not with the answer */
    w->sent_ms = now;
    w->sent_phase = true;
}

/* A range job of a hard number spread over the mesh (siqs_range.h): its
 * answer is "done rels:..." (the relations found), which the node carries
 * as the job's result text like any factor list. */
static void answer_range(struct siqs_range_worker *ranges, uint64_t id, const char *job,
                         size_t len, uint64_t budget_ms)
{
    char err[64], *text = NULL;
    uint64_t deadline = budget_ms ? now_ms() + budget_ms : 0;
    if (!siqs_range_run(ranges, job, len, deadline, &text, err, sizeof err)) {
        char line[128];
        snprintf(line, sizeof line, "%" PRIu64 " error %s\n", id, err);
        emit(line);
        return;
    }
    size_t cap = strlen(text) + 32;
    char *answer = malloc(cap), line[64];
    if (answer != NULL)
        snprintf(answer, cap, "%" PRIu64 " done %s\n", id, text);
    else
        snprintf(line, sizeof line, "%" PRIu64 " error out of memory\n", id);
    free(text);
    emit(answer != NULL ? answer : line);
    free(answer);
}

/* A curve job of a hard number's ECM spread over the mesh (ecm_range.h):
 * its answer is "done ecm:K[:P]", carried like any result text. Watched
 * like a number's ECM: phase ecm, B1, curve of the level's. */
static void answer_curves(struct factor_ctx *ctx, uint64_t id, const char *job, size_t len,
                          uint64_t budget_ms)
{
    char err[64], line[128], *text = NULL;
    uint64_t deadline = budget_ms ? now_ms() + budget_ms : 0;
    if (ctx->progress != NULL)
        progress_begin(ctx->progress->ud, id);
    if (!ecm_range_run(job, len, deadline, ctx->progress, &text, err, sizeof err)) {
        snprintf(line, sizeof line, "%" PRIu64 " error %s\n", id, err);
        emit(line);
        return;
    }
    size_t cap = strlen(text) + 32;
    char *answer = malloc(cap);
    if (answer != NULL)
        snprintf(answer, cap, "%" PRIu64 " done %s\n", id, text);
    else
        snprintf(line, sizeof line, "%" PRIu64 " error out of memory\n", id);
    free(text);
    emit(answer != NULL ? answer : line);
    free(answer);
}

static void answer_request(struct factor_ctx *ctx, struct siqs_range_worker *ranges, char *line,
                           size_t len, uint64_t budget_ms)
{
    uint64_t id = 0;
    const char *number;
    size_t number_len;
    char error_line[64];
    if (len > MAX_REQUEST_LINE ||
        factor_child_parse_request(line, len, &id, &number, &number_len, &budget_ms) != 0) {
        snprintf(error_line, sizeof error_line, "%" PRIu64 " error malformed request\n", id);
        emit(error_line);
        return;
    }
    line[(size_t)(number - line) + number_len] = '\0'; /* ends the token (a budget may follow) */
    if (siqs_range_job_is(number, number_len)) {
        answer_range(ranges, id, number, number_len, budget_ms);
        return;
    }
    if (ecm_range_job_is(number, number_len)) {
        answer_curves(ctx, id, number, number_len, budget_ms);
        return;
    }
    /* Below 2^64 (the common case): no GMP, no malloc, no printf. A number
     * whose check fails takes the general path, which reports it. */
    uint64_t n, f[FACTOR_U64_FACTORS_MAX];
    int count;
    if (number[0] != '+' && factor_parse_u64(number, number_len, &n) &&
        (count = factor_u64_checked(n, f)) >= 0) {
        char answer_line[FACTOR_U64_LINE_MAX];
        factor_format_u64_answer(answer_line, id, f, count);
        emit(answer_line);
        return;
    }
    struct factor_result res;
    if (ctx->progress != NULL)
        progress_begin(ctx->progress->ud, id);
    enum factor_status status = factor_decimal(ctx, number, budget_ms, &res);
    char *answer = factor_child_format_answer(id, status, &res);
    factor_result_free(&res);
    if (answer == NULL) {
        snprintf(error_line, sizeof error_line, "%" PRIu64 " error out of memory\n", id);
        emit(error_line);
        return;
    }
    emit(answer);
    free(answer);
}

static int parse_options(int argc, char **argv, uint64_t *budget_ms)
{
    *budget_ms = 0;
    for (int i = 1; i < argc; i++) {
        const char *value = NULL;
        if (strcmp(argv[i], "--number-timeout") == 0 && i + 1 < argc)
            value = argv[++i];
        else if (strncmp(argv[i], "--number-timeout=", 17) == 0)
            value = argv[i] + 17;
        if (value == NULL || parse_u64(value, strlen(value), budget_ms) != 0) {
            fprintf(stderr, "mesh __worker: bad argument '%s'\n", argv[i]);
            return -1;
        }
    }
    return 0;
}

/* Reads requests with read(2) into its own buffer (not stdio: it must know
 * when no request is waiting, to write the answers before blocking). */
static void serve(struct factor_ctx *ctx, struct siqs_range_worker *ranges, uint64_t budget_ms)
{
    static char in[IN_CAP];
    size_t len = 0;
    for (;;) {
        char *nl;
        size_t start = 0;
        while ((nl = memchr(in + start, '\n', len - start)) != NULL) {
            size_t n = (size_t)(nl - (in + start));
            if (n > 0)
                answer_request(ctx, ranges, in + start, n, budget_ms);
            start += n + 1;
        }
        memmove(in, in + start, len - start);
        len -= start;
        if (len == sizeof in) { /* no line end in sight: refuse the line */
            answer_request(ctx, ranges, in, sizeof in - 1 + MAX_REQUEST_LINE, budget_ms);
            len = 0;
        }
        flush_out(); /* about to wait for requests: the node gets every answer */
        ssize_t got = read(STDIN_FILENO, in + len, sizeof in - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            if (len > 0) /* a last line without its line end */
                answer_request(ctx, ranges, in, len, budget_ms);
            return;
        }
        len += (size_t)got;
    }
}

/* How much nicer than its node a worker runs. The workers keep every core
 * busy; their node's loop (raft's heartbeats, leases, the leader checking
 * and committing results) and a spread batch's combine on its thread pool
 * must not wait behind them for a time slice: on 2 cores a 2-node spread's
 * combine took 94-559 ms beside two workers against ~35 ms alone. At 10 a
 * waiting node thread gets about nine tenths of a core its worker holds;
 * a worker still gets every cycle nothing else wants (and, as with any
 * background job, gives way to the machine's own users). */
enum { WORKER_NICE = 10 };

int factor_child_main(int argc, char **argv)
{
    /* Die with the node: an orphaned worker would factor for nobody. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    errno = 0;
    if (nice(WORKER_NICE) == -1 && errno != 0)
        fprintf(stderr, "mesh __worker: nice: %s (running at the node's priority)\n",
                strerror(errno));
    uint64_t budget_ms;
    if (parse_options(argc, argv, &budget_ms) != 0)
        return 2;
    struct factor_ctx ctx;
    if (factor_ctx_init(&ctx) != 0) {
        fprintf(stderr, "mesh __worker: cannot initialise the kernel\n");
        return 1;
    }
    struct progress_watch watch;
    progress_begin(&watch, 0);
    struct factor_progress_sink sink = {on_progress, &watch};
    ctx.progress = &sink;
    struct siqs_range_worker ranges = {0};
    serve(&ctx, &ranges, budget_ms);
    flush_out();
    siqs_range_worker_free(&ranges);
    factor_ctx_free(&ctx);
    return 0;
}
