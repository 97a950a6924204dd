/* outbox.c - a node's results not yet seen committed (outbox.h says why).
 *
 * Results in production order, their texts packed in one arena: a malloc
 * per number was a tenth of a busy node's time. Pruning slides the kept
 * texts down in order, so the arena never fragments. Settled results
 * leave the front by moving `head` on; the dead front is given back when
 * it is as big as the rest (each result moved once on average). */
#include "outbox.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"

/* What the box keeps allocated however empty: results a busy node gives
 * in a fraction of a second. A burst (results waiting seconds for their
 * commit: ~1.4M of them, 67 MiB of boxes, on a soak.sh leader) is given
 * back once it has left. */
enum { KEEP_BOXES = 4096, KEEP_TEXT = 64 << 10 };

struct boxed {
    uint64_t batch, index;
    size_t off, len;            /* its text in the arena */
    uint64_t sent_ms;
    bool sent;
};

struct outbox {
    struct boxed *box;          /* box[head..n_box) are kept */
    size_t head, n_box, cap_box;
    size_t unsent, first_unsent;
    char *text;
    size_t text_len, text_cap;
    uint64_t checked_ms;        /* last look for lost results */
    uint64_t commit_ms;         /* last commit this replica applied */
};

struct outbox *outbox_new(void)
{
    return calloc(1, sizeof(struct outbox));
}

void outbox_free(struct outbox *o)
{
    if (o == NULL)
        return;
    free(o->box);
    free(o->text);
    free(o);
}

size_t outbox_count(const struct outbox *o)
{
    return o->n_box - o->head;
}

size_t outbox_held_bytes(const struct outbox *o)
{
    return o->cap_box * sizeof *o->box + o->text_cap;
}

size_t outbox_unsent(const struct outbox *o)
{
    return o->unsent;
}

bool outbox_add(struct outbox *o, uint64_t batch, uint64_t index, const char *text,
                size_t len)
{
    /* One byte more than the texts need: an empty result (a spread range
     * given up) on a new or emptied box still finds the text buffer
     * allocated, so neither this copy nor a reader's pointer into it is
     * made from NULL (UBSan: mesh-sim seeds 300-499). */
    if (!grow_array((void **)&o->box, &o->cap_box, o->n_box + 1, sizeof *o->box) ||
        !grow_array((void **)&o->text, &o->text_cap, o->text_len + len + 1, 1))
        return false;
    memcpy(o->text + o->text_len, text, len);
    o->box[o->n_box++] = (struct boxed){batch, index, o->text_len, len, 0, false};
    o->text_len += len;
    o->unsent++;
    return true;
}

static void advance_first_unsent(struct outbox *o)
{
    while (o->first_unsent < o->n_box && o->box[o->first_unsent].sent)
        o->first_unsent++;
}

size_t outbox_next(const struct outbox *o, uint64_t *batch, struct msg_result *items,
                   size_t *which, size_t max)
{
    if (o->unsent == 0 || o->first_unsent >= o->n_box)
        return 0;
    *batch = o->box[o->first_unsent].batch;
    size_t count = 0, bytes = 0;
    for (size_t i = o->first_unsent; i < o->n_box && count < max; i++) {
        const struct boxed *b = &o->box[i];
        if (b->sent || b->batch != *batch)
            continue;
        if (count > 0 && bytes + b->len > OUTBOX_SEND_BYTES)
            break; /* the rest goes in the next message */
        bytes += b->len;
        items[count] = (struct msg_result){b->index, o->text + b->off, b->len};
        which[count++] = i;
    }
    return count;
}

void outbox_sent(struct outbox *o, const size_t *which, size_t count, uint64_t now_ms)
{
    for (size_t k = 0; k < count; k++) {
        struct boxed *b = &o->box[which[k]];
        if (b->sent)
            continue;
        b->sent = true;
        b->sent_ms = now_ms;
        o->unsent--;
    }
    advance_first_unsent(o);
}

void outbox_unsend_all(struct outbox *o)
{
    for (size_t i = o->head; i < o->n_box; i++)
        if (o->box[i].sent) {
            o->box[i].sent = false;
            o->unsent++;
        }
    o->first_unsent = o->head;
}

/* Texts lie in the arena in box order, back to back: the kept ones move
 * down a run of neighbours at a time (a move per text was most of a
 * follower's pruning). */
struct text_run {
    size_t src, dst, bytes;
};

static void move_run(struct outbox *o, struct text_run *r)
{
    if (r->bytes > 0 && r->src != r->dst)
        memmove(o->text + r->dst, o->text + r->src, r->bytes);
    r->bytes = 0;
}

/* Whether box result b may leave: committed, or its batch no longer
 * running. *known and *running cache the last batch looked up. */
static bool settled(const struct queue *q, const struct boxed *b, uint64_t *known,
                    bool *running)
{
    if (*known != b->batch) {
        struct batch_info info;
        *known = b->batch;
        *running = queue_batch_get(q, b->batch, &info) == 0 && info.state == BATCH_RUNNING;
    }
    return !*running || queue_is_done(q, b->batch, b->index);
}

void outbox_prune(struct outbox *o, const struct queue *q, uint64_t batch, bool all)
{
    size_t kept = 0, text_len = 0;
    uint64_t known = 0;
    bool running = false;
    struct text_run run = {0, 0, 0};
    for (size_t i = o->head; i < o->n_box; i++) {
        struct boxed b = o->box[i];
        if ((all || b.batch == batch) && settled(q, &b, &known, &running)) {
            if (!b.sent)
                o->unsent--;
            move_run(o, &run);
            continue;
        }
        if (run.bytes == 0)
            run = (struct text_run){b.off, text_len, 0};
        run.bytes += b.len;
        b.off = text_len;
        text_len += b.len;
        o->box[kept++] = b;
    }
    move_run(o, &run);
    o->head = 0;
    o->n_box = kept;
    o->text_len = text_len;
    o->first_unsent = 0;
    advance_first_unsent(o);
    shrink_array((void **)&o->box, &o->cap_box, o->n_box, sizeof *o->box, KEEP_BOXES);
    shrink_array((void **)&o->text, &o->text_cap, o->text_len, 1, KEEP_TEXT);
}

/* The dead front goes once it is as big as what is kept: the kept boxes
 * and texts move down in one move each. */
static void drop_dead_front(struct outbox *o)
{
    if (o->head == 0)
        return;
    if (o->head == o->n_box) {
        o->head = o->n_box = o->first_unsent = o->text_len = 0;
    } else if (o->head >= o->n_box - o->head) {
        size_t shift = o->box[o->head].off, kept = o->n_box - o->head;
        memmove(o->box, o->box + o->head, kept * sizeof *o->box);
        memmove(o->text, o->text + shift, o->text_len - shift);
        for (size_t i = 0; i < kept; i++)
            o->box[i].off -= shift;
        o->first_unsent -= o->head;
        o->n_box = kept;
        o->text_len -= shift;
        o->head = 0;
    } else {
        return;
    }
    shrink_array((void **)&o->box, &o->cap_box, o->n_box, sizeof *o->box, KEEP_BOXES);
    shrink_array((void **)&o->text, &o->text_cap, o->text_len, 1, KEEP_TEXT);
}

void outbox_prune_front(struct outbox *o, const struct queue *q)
{
    uint64_t known = 0;
    bool running = false;
    while (o->head < o->n_box && settled(q, &o->box[o->head], &known, &running)) {
        if (!o->box[o->head].sent)
            o->unsent--;
        o->head++;
    }
    if (o->first_unsent < o->head)
        o->first_unsent = o->head;
    drop_dead_front(o);
}

void outbox_commit_seen(struct outbox *o, uint64_t now_ms)
{
    o->commit_ms = now_ms;
}

bool outbox_check(struct outbox *o, const struct queue *q, uint64_t now_ms, size_t *again)
{
    *again = 0;
    if (outbox_count(o) == 0 || now_ms - o->checked_ms < OUTBOX_CHECK_MS)
        return false;
    o->checked_ms = now_ms;
    outbox_prune(o, q, 0, true);
    if (now_ms - o->commit_ms < OUTBOX_RESEND_MS)
        return true;
    for (size_t i = o->head; i < o->n_box; i++)
        if (o->box[i].sent && now_ms - o->box[i].sent_ms >= OUTBOX_RESEND_MS) {
            o->box[i].sent = false;
            o->unsent++;
            (*again)++;
        }
    o->first_unsent = o->head;
    advance_first_unsent(o);
    return true;
}
