/* upload.c - see upload.h. A handful of uploads at most, so every lookup is
 * a linear scan and the set keeps creation order, which is what makes its
 * snapshot bytes the same on every replica. */
#include "upload.h"

#include "errbuf.h"
#include "batch.h"
#include "queue_codec.h"
#include "retire.h"

#include <stdlib.h>
#include <string.h>

/* An uploaded list is a normalised list: it obeys the same size limit. */
#define UPLOAD_MAX_LEN (BATCH_MAX_LIST_INPUT + 1)

/* Part bytes may still be read by a frozen snapshot: retire them. */
static void upload_clear(struct upload_set *s, struct upload *u)
{
    for (size_t i = 0; i < u->n_parts; i++)
        retire_free(s->retire, u->parts[i].bytes);
    free(u->parts);
}

void upload_set_free(struct upload_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        upload_clear(s, &s->items[i]);
    free(s->items);
    struct retire *retire = s->retire;
    memset(s, 0, sizeof *s);
    s->retire = retire;
}

struct upload *upload_find(const struct upload_set *s, uint64_t id)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->items[i].id == id)
            return &s->items[i];
    return NULL;
}

static void remove_at(struct upload_set *s, size_t i)
{
    s->staged -= s->items[i].len;
    upload_clear(s, &s->items[i]);
    memmove(s->items + i, s->items + i + 1, (s->n - i - 1) * sizeof *s->items);
    s->n--;
}

void upload_drop(struct upload_set *s, uint64_t id)
{
    struct upload *u = upload_find(s, id);
    if (u != NULL)
        remove_at(s, (size_t)(u - s->items));
}

void upload_expire(struct upload_set *s, uint64_t now)
{
    for (size_t i = s->n; i-- > 0;)
        if (now - s->items[i].touched > UPLOAD_IDLE_LIMIT)
            remove_at(s, i);
}

/* Least recently touched upload other than keep; ties go to the older. */
static size_t lru_victim(const struct upload_set *s, uint64_t keep)
{
    size_t victim = s->n;
    for (size_t i = 0; i < s->n; i++) {
        if (s->items[i].id == keep)
            continue;
        if (victim == s->n || s->items[i].touched < s->items[victim].touched)
            victim = i;
    }
    return victim;
}

/* Evicts others until an upload `id` can take `more` bytes (and exist). */
static void make_room(struct upload_set *s, uint64_t id, size_t more)
{
    bool exists = upload_find(s, id) != NULL;
    while (s->n > 0 && (s->staged + more > UPLOAD_MAX_STAGED ||
                        (!exists && s->n >= UPLOAD_MAX_ACTIVE))) {
        size_t v = lru_victim(s, id);
        if (v == s->n)
            return;
        remove_at(s, v);
    }
}

static struct upload *create(struct upload_set *s, uint64_t id)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4;
        struct upload *p = realloc(s->items, cap * sizeof *p);
        if (p == NULL)
            return NULL;
        s->items = p;
        s->cap = cap;
    }
    struct upload *u = &s->items[s->n++];
    memset(u, 0, sizeof *u);
    u->id = id;
    return u;
}

static int append_part(struct upload *u, const char *bytes, size_t len)
{
    if (u->n_parts == u->cap) {
        size_t cap = u->cap ? u->cap * 2 : 8;
        struct upload_part *p = realloc(u->parts, cap * sizeof *p);
        if (p == NULL)
            return -1;
        u->parts = p;
        u->cap = cap;
    }
    char *copy = malloc(len);
    if (copy == NULL)
        return -1;
    memcpy(copy, bytes, len);
    u->parts[u->n_parts++] = (struct upload_part){copy, len};
    u->len += len;
    return 0;
}

int upload_add_part(struct upload_set *s, uint64_t id, const char *bytes, size_t len,
                    uint64_t now, char *err, size_t errlen)
{
    struct upload *u = upload_find(s, id);
    size_t have = u ? u->len : 0;
    if (id == 0 || len == 0 || batch_list_count(bytes, len) == 0) {
        set_err(err, errlen, "upload %llu: malformed list part", (unsigned long long)id);
        return -1;
    }
    if (len > UPLOAD_MAX_LEN - have) {
        upload_drop(s, id);
        set_err(err, errlen, "upload %llu exceeds %zu MiB: dropped", (unsigned long long)id,
                (size_t)BATCH_MAX_LIST_INPUT >> 20);
        return -1;
    }
    make_room(s, id, len);
    u = upload_find(s, id);
    if (u == NULL && (u = create(s, id)) == NULL)
        return -2;
    if (append_part(u, bytes, len) != 0)
        return -2;
    u->touched = now;
    s->staged += len;
    return 0;
}

char *upload_concat(const struct upload *u)
{
    char *list = malloc(u->len ? u->len : 1);
    if (list == NULL)
        return NULL;
    size_t pos = 0;
    for (size_t i = 0; i < u->n_parts; i++) {
        memcpy(list + pos, u->parts[i].bytes, u->parts[i].len);
        pos += u->parts[i].len;
    }
    return list;
}

void upload_set_unshare(struct upload_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->items[i].parts);
    free(s->items);
    memset(s, 0, sizeof *s);
}

int upload_set_share(struct upload_set *dst, const struct upload_set *src)
{
    memset(dst, 0, sizeof *dst);
    if (src->n == 0)
        return 0;
    dst->items = calloc(src->n, sizeof *dst->items);
    if (dst->items == NULL)
        return -1;
    for (size_t i = 0; i < src->n; i++, dst->n++) {
        const struct upload *u = &src->items[i];
        struct upload *c = &dst->items[i];
        *c = *u;
        c->cap = u->n_parts;
        c->parts = malloc(u->n_parts * sizeof *c->parts);
        if (c->parts == NULL) {
            upload_set_unshare(dst);
            return -1;
        }
        memcpy(c->parts, u->parts, u->n_parts * sizeof *c->parts);
    }
    dst->staged = src->staged;
    return 0;
}

/* ---- snapshot section ---------------------------------------------------- */

void upload_set_encode(const struct upload_set *s, struct qbuf *out)
{
    qbuf_put_varint(out, s->n);
    for (size_t i = 0; i < s->n; i++) {
        const struct upload *u = &s->items[i];
        qbuf_put_varint(out, u->id);
        qbuf_put_varint(out, u->touched);
        qbuf_put_varint(out, u->n_parts);
        for (size_t k = 0; k < u->n_parts; k++)
            qbuf_put_str(out, u->parts[k].bytes, u->parts[k].len);
    }
}

static int decode_upload(struct upload_set *s, struct qreader *in, uint64_t now)
{
    uint64_t id = qreader_varint(in);
    uint64_t touched = qreader_varint(in);
    uint64_t n_parts = qreader_varint(in);
    if (in->failed || id == 0 || upload_find(s, id) != NULL || touched > now ||
        now - touched > UPLOAD_IDLE_LIMIT || n_parts == 0 || n_parts > qreader_remaining(in))
        return -1;
    for (uint64_t k = 0; k < n_parts; k++) {
        size_t len;
        const char *p = (const char *)qreader_str(in, UPLOAD_MAX_LEN, &len);
        if (p == NULL)
            return -1;
        /* Eviction and the length cap would have kept apply from getting
         * here: a snapshot that needs either is one apply never wrote. */
        struct upload *u = upload_find(s, id);
        if (len > UPLOAD_MAX_LEN - (u ? u->len : 0) || s->staged + len > UPLOAD_MAX_STAGED ||
            upload_add_part(s, id, p, len, touched, NULL, 0) != 0)
            return -1;
    }
    return 0;
}

int upload_set_decode(struct upload_set *s, struct qreader *in, uint64_t now)
{
    uint64_t n = qreader_varint(in);
    if (in->failed || n > UPLOAD_MAX_ACTIVE)
        return -1;
    for (uint64_t i = 0; i < n; i++)
        if (decode_upload(s, in, now) != 0)
            return -1;
    return 0;
}
