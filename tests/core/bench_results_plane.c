/* bench_results_plane.c - what the replicated queue spends per result:
 * the leader encoding its entries, each replica decoding and applying
 * them, a reader making every line's text, and the bytes of the log and of
 * the retained results. The results of 1..COUNT (trivial numbers, their
 * factors found here by trial division) in entries of PER results, as
 * COMPLETE (texts) and as COMPLETE_BLOCK (compact items).
 *   bench_results_plane [COUNT [PER]]    (default 1000000 4096)
 * Built without COMPLETE_BLOCK (-DNO_BLOCK) it measures COMPLETE alone, so
 * the same source measures an earlier tree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "queue.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* "p1 p2 ..." of v by trial division (v < 2^32 here). */
static void factor_text(uint64_t v, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (uint64_t p = 2; v > 1 && p * p <= v; p += p == 2 ? 1 : 2)
        while (v % p == 0) {
            len += (size_t)snprintf(out + len, cap - len, len ? " %llu" : "%llu",
                                    (unsigned long long)p);
            v /= p;
        }
    if (v > 1)
        snprintf(out + len, cap - len, len ? " %llu" : "%llu", (unsigned long long)v);
}

struct entries {
    uint8_t **buf;
    size_t *len, n, bytes;
};

static void encode_all(int type, uint64_t count, size_t per, char **texts, struct entries *e)
{
    e->n = (size_t)((count + per - 1) / per);
    e->buf = calloc(e->n, sizeof *e->buf);
    e->len = calloc(e->n, sizeof *e->len);
    e->bytes = 0;
    struct qresult *rs = calloc(per, sizeof *rs);
    for (size_t k = 0; k < e->n; k++) {
        struct qcmd c = {.type = (enum qcmd_type)type, .batch_id = 1, .results = rs};
        for (uint64_t i = k * per; i < count && c.n_results < per; i++)
            rs[c.n_results++] = (struct qresult){i, texts[i]};
        if (qcmd_encode(&c, &e->buf[k], &e->len[k]) != 0)
            exit(1);
        e->bytes += e->len[k];
    }
    free(rs);
}

static void run(const char *label, int type, uint64_t count, size_t per, char **texts)
{
    struct entries e;
    double t0 = now_ns();
    encode_all(type, count, per, texts, &e);
    double t1 = now_ns();
    struct queue *q = queue_new();
    char err[256];
    struct qcmd s = {.type = QCMD_SUBMIT};
    if (batch_range_init(&s.spec, "1", 1, count, err, sizeof err) != 0 ||
        queue_apply(q, &s, NULL, err, sizeof err) != 0)
        exit(1);
    qcmd_free(&s);
    double decode = 0, apply = 0;
    for (size_t k = 0; k < e.n; k++) {
        struct qcmd c;
        double a = now_ns();
        if (qcmd_decode(e.buf[k], e.len[k], &c) != 0)
            exit(1);
        double b = now_ns();
        if (queue_apply(q, &c, NULL, err, sizeof err) != 0)
            exit(1);
        apply += now_ns() - b;
        decode += b - a;
        qcmd_free(&c);
        free(e.buf[k]);
    }
    double r0 = now_ns();
    size_t chars = 0;
    for (uint64_t i = 0; i < count; i++) {
        const char *t = queue_result(q, 1, i);
        if (t == NULL || strcmp(t, texts[i]) != 0)
            exit(1);
        chars += strlen(t);
    }
    double r1 = now_ns();
    struct retained_info ri;
    queue_retained(q, &ri);
    printf("%-15s encode %5.1f  decode %5.1f  apply %5.1f  read %5.1f ns/result;"
           "  log %5.2f  retained %5.2f bytes/result\n",
           label, (t1 - t0) / count, decode / count, apply / count, (r1 - r0) / count,
           (double)e.bytes / count, (double)ri.bytes / count);
    (void)chars;
    free(e.buf);
    free(e.len);
    queue_free(q);
}

int main(int argc, char **argv)
{
    uint64_t count = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    size_t per = argc > 2 ? strtoul(argv[2], NULL, 10) : 4096;
    if (count == 0 || per == 0)
        return 2;
    char **texts = malloc(count * sizeof *texts);
    char buf[256];
    for (uint64_t i = 0; i < count; i++) {
        factor_text(i + 1, buf, sizeof buf);
        texts[i] = strdup(buf);
    }
    run("COMPLETE", QCMD_COMPLETE, count, per, texts);
#ifndef NO_BLOCK
    run("COMPLETE_BLOCK", QCMD_COMPLETE_BLOCK, count, per, texts);
#endif
    for (uint64_t i = 0; i < count; i++)
        free(texts[i]);
    free(texts);
    return 0;
}
