/* queue_helpers.h - small command builders shared by the queue tests. */
#ifndef MESH_TEST_QUEUE_HELPERS_H
#define MESH_TEST_QUEUE_HELPERS_H

#include <stdarg.h>
#include <string.h>

#include "check.h"
#include "queue.h"

/* SUBMIT of a range batch "start, step 1, count". */
static inline struct qcmd make_submit(const char *start, uint64_t count, const char *name)
{
    struct qcmd c;
    memset(&c, 0, sizeof c);
    c.type = QCMD_SUBMIT;
    char err[128];
    CHECK_INT_EQ(batch_range_init(&c.spec, start, 1, count, err, sizeof err), 0);
    snprintf(c.name, sizeof c.name, "%s", name);
    return c;
}

/* Applies a SUBMIT of a range batch 1000.. of `count` numbers in leases of
 * `chunk` (0: adaptive); returns its id. */
static inline uint64_t apply_submit_chunked(struct queue *q, uint64_t count, uint32_t chunk)
{
    struct qcmd c = make_submit("1000", count, "t");
    c.spec.chunk = chunk;
    struct queue_outcome out;
    char err[128];
    CHECK_INT_EQ(queue_apply(q, &c, &out, err, sizeof err), 0);
    qcmd_free(&c);
    return out.batch_id;
}

/* COMPLETE with n (index, text) pairs given as varargs. */
static inline struct qcmd make_complete(uint64_t batch_id, size_t n, ...)
{
    struct qcmd c;
    memset(&c, 0, sizeof c);
    c.type = QCMD_COMPLETE;
    c.batch_id = batch_id;
    c.results = calloc(n ? n : 1, sizeof *c.results);
    CHECK(c.results != NULL);
    c.n_results = n;
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        c.results[i].index = va_arg(ap, uint64_t);
        c.results[i].text = strdup(va_arg(ap, const char *));
    }
    va_end(ap);
    return c;
}

static inline struct qcmd make_cancel(uint64_t batch_id)
{
    struct qcmd c;
    memset(&c, 0, sizeof c);
    c.type = QCMD_CANCEL;
    c.batch_id = batch_id;
    return c;
}

static inline struct qcmd make_drain(uint64_t node_id, bool drained)
{
    struct qcmd c;
    memset(&c, 0, sizeof c);
    c.type = QCMD_DRAIN;
    c.node_id = node_id;
    c.drained = drained;
    return c;
}

/* FORGET of n batch ids given as varargs (uint64_t), ascending. */
static inline struct qcmd make_forget(uint8_t why, uint64_t time_ms, size_t n, ...)
{
    struct qcmd c;
    memset(&c, 0, sizeof c);
    c.type = QCMD_FORGET;
    c.forget_reason = why;
    c.time_ms = time_ms;
    c.forget = calloc(n ? n : 1, sizeof *c.forget);
    CHECK(c.forget != NULL);
    c.n_forget = n;
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        c.forget[i] = va_arg(ap, uint64_t);
    va_end(ap);
    return c;
}

/* Applies and frees c; returns queue_apply's result. */
static inline int apply_free(struct queue *q, struct qcmd c, uint64_t *id, char *err)
{
    struct queue_outcome out;
    int rc = queue_apply(q, &c, &out, err, 128);
    if (id != NULL)
        *id = out.batch_id;
    qcmd_free(&c);
    return rc;
}

/* Only the whole encoding a[0..alen) decodes: no strict prefix does (and a
 * refused decode leaves the command zeroed), nor a byte more. */
static inline void check_only_whole_decodes(const uint8_t *a, size_t alen)
{
    for (size_t cut = 0; cut < alen; cut++) {
        struct qcmd t;
        CHECK_INT_EQ(qcmd_decode(a, cut, &t), -1);
        CHECK(t.results == NULL && t.result_texts == NULL && t.spec.start == NULL);
    }
    uint8_t *longer = malloc(alen + 1);
    CHECK(longer != NULL);
    memcpy(longer, a, alen);
    longer[alen] = 0;
    struct qcmd t;
    CHECK_INT_EQ(qcmd_decode(longer, alen + 1, &t), -1);
    free(longer);
}

#endif
