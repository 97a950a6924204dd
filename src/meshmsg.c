/* meshmsg.c - see meshmsg.h. Built on the queue's varint codec so that
 * every byte format of the node shares one reader with one set of checks. */
#include "meshmsg.h"

#include <stdlib.h>
#include <string.h>

#include "queue_codec.h"

int msg_cluster_encode(const struct msg_cluster *m, uint8_t **buf, size_t *len)
{
    struct qbuf b;
    qbuf_init(&b);
    qbuf_put_varint(&b, m->cluster_id);
    qbuf_put_varint(&b, m->leader);
    qbuf_put_varint(&b, m->term);
    qbuf_put_u8(&b, m->member ? 1 : 0);
    qbuf_put_varint(&b, m->applied);
    qbuf_put_varint(&b, m->members);
    qbuf_put_varint(&b, m->merging_into);
    return qbuf_take(&b, buf, len);
}

int msg_cluster_decode(struct msg_cluster *m, const uint8_t *p, size_t len)
{
    struct qreader r;
    qreader_init(&r, p, len);
    m->cluster_id = qreader_varint(&r);
    m->leader = qreader_varint(&r);
    m->term = qreader_varint(&r);
    uint8_t member = qreader_u8(&r);
    m->applied = qreader_varint(&r);
    m->members = qreader_varint(&r);
    m->merging_into = qreader_varint(&r);
    m->member = member == 1;
    return qreader_done(&r) && member <= 1 ? 0 : -1;
}

int msg_forward_encode(uint64_t req, const struct qcmd *c, uint8_t **buf, size_t *len)
{
    uint8_t *cmd;
    size_t cmd_len;
    if (qcmd_encode(c, &cmd, &cmd_len) != 0)
        return -1;
    struct qbuf b;
    qbuf_init(&b);
    qbuf_put_varint(&b, req);
    qbuf_put_bytes(&b, cmd, cmd_len);
    free(cmd);
    return qbuf_take(&b, buf, len);
}

int msg_forward_decode(uint64_t *req, struct qcmd *c, const uint8_t *p, size_t len)
{
    struct qreader r;
    qreader_init(&r, p, len);
    *req = qreader_varint(&r);
    if (r.failed)
        return -1;
    return qcmd_decode(p + r.pos, len - r.pos, c);
}

int msg_reply_encode(const struct msg_reply *m, uint8_t **buf, size_t *len)
{
    struct qbuf b;
    qbuf_init(&b);
    qbuf_put_varint(&b, m->req);
    qbuf_put_u8(&b, m->rc);
    qbuf_put_varint(&b, m->index);
    qbuf_put_varint(&b, m->batch);
    size_t n = strnlen(m->err, MESH_MSG_ERR_MAX);
    qbuf_put_str(&b, m->err, n);
    return qbuf_take(&b, buf, len);
}

/* Error texts end up on a user's terminal: printable ASCII only. */
static bool printable(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return false;
    return true;
}

int msg_reply_decode(struct msg_reply *m, const uint8_t *p, size_t len)
{
    struct qreader r;
    qreader_init(&r, p, len);
    m->req = qreader_varint(&r);
    m->rc = qreader_u8(&r);
    m->index = qreader_varint(&r);
    m->batch = qreader_varint(&r);
    size_t n;
    const uint8_t *err = qreader_str(&r, MESH_MSG_ERR_MAX, &n);
    if (err == NULL || !qreader_done(&r) || m->rc > MSG_REPLY_NOT_LEADER || !printable(err, n))
        return -1;
    memcpy(m->err, err, n);
    m->err[n] = '\0';
    return 0;
}

int msg_lease_encode(const struct msg_lease *m, uint8_t **buf, size_t *len)
{
    struct qbuf b;
    qbuf_init(&b);
    qbuf_put_varint(&b, m->lease);
    qbuf_put_varint(&b, m->batch);
    qbuf_put_varint(&b, m->lo);
    qbuf_put_varint(&b, m->hi);
    qbuf_put_varint(&b, m->needs);
    qbuf_put_varint(&b, m->crashes);
    return qbuf_take(&b, buf, len);
}

int msg_lease_decode(struct msg_lease *m, const uint8_t *p, size_t len)
{
    struct qreader r;
    qreader_init(&r, p, len);
    m->lease = qreader_varint(&r);
    m->batch = qreader_varint(&r);
    m->lo = qreader_varint(&r);
    m->hi = qreader_varint(&r);
    m->needs = qreader_varint(&r);
    uint64_t crashes = qreader_varint(&r);
    m->crashes = (uint32_t)crashes;
    return qreader_done(&r) && m->lo < m->hi && crashes <= UINT32_MAX ? 0 : -1;
}

int msg_results_encode(const struct msg_results *m, uint8_t **buf, size_t *len)
{
    struct qbuf b;
    qbuf_init(&b);
    qbuf_put_varint(&b, m->lease);
    qbuf_put_varint(&b, m->batch);
    qbuf_put_varint(&b, m->n);
    for (size_t i = 0; i < m->n; i++) {
        qbuf_put_varint(&b, m->items[i].index);
        qbuf_put_str(&b, m->items[i].text, m->items[i].len);
    }
    return qbuf_take(&b, buf, len);
}

int msg_results_decode(struct msg_results *m, const uint8_t *p, size_t len)
{
    struct qreader r;
    qreader_init(&r, p, len);
    m->lease = qreader_varint(&r);
    m->batch = qreader_varint(&r);
    uint64_t n = qreader_varint(&r);
    m->items = NULL;
    m->n = 0;
    /* Each result takes at least 2 bytes: a count past that is a lie. */
    if (r.failed || n > MESH_MSG_MAX_RESULTS || n > qreader_remaining(&r) / 2)
        return -1;
    m->items = malloc((size_t)(n ? n : 1) * sizeof *m->items);
    if (m->items == NULL)
        return -1;
    for (uint64_t i = 0; i < n; i++) {
        struct msg_result *it = &m->items[i];
        it->index = qreader_varint(&r);
        it->text = (const char *)qreader_str(&r, QRESULT_MAX_TEXT, &it->len);
        if (it->text == NULL || !qresult_text_valid(it->text, it->len))
            break;
        m->n++;
    }
    if (m->n != n || !qreader_done(&r)) {
        free(m->items);
        m->items = NULL;
        m->n = 0;
        return -1;
    }
    return 0;
}

int msg_lease_end_encode(const struct msg_lease_end *m, uint8_t **buf, size_t *len)
{
    struct qbuf b;
    qbuf_init(&b);
    qbuf_put_varint(&b, m->lease);
    qbuf_put_varint(&b, m->next);
    qbuf_put_u8(&b, m->why);
    qbuf_put_varint(&b, m->crashes);
    qbuf_put_varint(&b, m->ms);
    return qbuf_take(&b, buf, len);
}

int msg_lease_end_decode(struct msg_lease_end *m, const uint8_t *p, size_t len)
{
    struct qreader r;
    qreader_init(&r, p, len);
    m->lease = qreader_varint(&r);
    m->next = qreader_varint(&r);
    m->why = qreader_u8(&r);
    uint64_t crashes = qreader_varint(&r);
    m->ms = qreader_varint(&r);
    m->crashes = (uint32_t)crashes;
    return qreader_done(&r) && crashes <= UINT32_MAX ? 0 : -1;
}

int msg_event_encode(const struct msg_event *m, uint8_t **buf, size_t *len)
{
    struct qbuf b;
    qbuf_init(&b);
    qbuf_put_u8(&b, m->kind);
    qbuf_put_varint(&b, m->origin_seq);
    qbuf_put_varint(&b, m->time_ms);
    qbuf_put_str(&b, m->name, strnlen(m->name, MESH_MSG_EVENT_NAME_MAX));
    qbuf_put_str(&b, m->text, strnlen(m->text, MESH_MSG_EVENT_TEXT_MAX));
    return qbuf_take(&b, buf, len);
}

/* Copies a printable string field into out (max + 1 bytes); -1 otherwise. */
static int take_text(struct qreader *r, size_t max, char *out)
{
    size_t n;
    const uint8_t *s = qreader_str(r, max, &n);
    if (s == NULL || !printable(s, n))
        return -1;
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

int msg_event_decode(struct msg_event *m, const uint8_t *p, size_t len)
{
    struct qreader r;
    qreader_init(&r, p, len);
    m->kind = qreader_u8(&r);
    m->origin_seq = qreader_varint(&r);
    m->time_ms = qreader_varint(&r);
    if (take_text(&r, MESH_MSG_EVENT_NAME_MAX, m->name) != 0 ||
        take_text(&r, MESH_MSG_EVENT_TEXT_MAX, m->text) != 0 || !qreader_done(&r) ||
        m->origin_seq == 0)
        return -1;
    return 0;
}

/* ---- peer exchange and membership ------------------------------------------ */

int msg_peers_encode(const struct msg_peers *m, uint8_t **buf, size_t *len)
{
    struct qbuf b;
    qbuf_init(&b);
    qbuf_put_varint(&b, m->n);
    for (size_t i = 0; i < m->n; i++) {
        qbuf_put_bytes(&b, m->peers[i].key, sizeof m->peers[i].key);
        qbuf_put_str(&b, m->peers[i].addr, strnlen(m->peers[i].addr, MESH_MSG_ADDR_MAX));
    }
    return qbuf_take(&b, buf, len);
}

static int read_peer(struct qreader *r, struct msg_peer *p)
{
    for (size_t k = 0; k < sizeof p->key; k++)
        p->key[k] = qreader_u8(r);
    size_t n;
    const uint8_t *addr = qreader_str(r, MESH_MSG_ADDR_MAX, &n);
    if (addr == NULL || n == 0 || !printable(addr, n))
        return -1;
    memcpy(p->addr, addr, n);
    p->addr[n] = '\0';
    return 0;
}

int msg_peers_decode(struct msg_peers *m, const uint8_t *p, size_t len)
{
    struct qreader r;
    qreader_init(&r, p, len);
    uint64_t n = qreader_varint(&r);
    if (r.failed || n > MESH_MSG_MAX_PEERS)
        return -1;
    m->n = (size_t)n;
    for (size_t i = 0; i < m->n; i++)
        if (read_peer(&r, &m->peers[i]) != 0)
            return -1;
    return qreader_done(&r) ? 0 : -1;
}

int msg_membership_encode(const struct msg_membership_note *m, uint8_t **buf, size_t *len)
{
    struct qbuf b;
    qbuf_init(&b);
    qbuf_put_u8(&b, m->verdict);
    qbuf_put_varint(&b, m->cluster_id);
    return qbuf_take(&b, buf, len);
}

int msg_membership_decode(struct msg_membership_note *m, const uint8_t *p, size_t len)
{
    struct qreader r;
    qreader_init(&r, p, len);
    m->verdict = qreader_u8(&r);
    m->cluster_id = qreader_varint(&r);
    return qreader_done(&r) && m->verdict >= MSG_MEMBERSHIP_LEFT &&
           m->verdict <= MSG_MEMBERSHIP_MERGED ? 0 : -1;
}

/* ---- progress of long numbers ----------------------------------------------- */

enum { HARD_MAX_WORKER = 65535, HARD_MAX_BITS = 1024, HARD_PHASES = 5 };

int msg_progress_encode(const struct msg_progress *m, uint8_t **buf, size_t *len)
{
    struct qbuf b;
    qbuf_init(&b);
    qbuf_put_varint(&b, m->n);
    for (size_t i = 0; i < m->n; i++) {
        const struct msg_hard *h = &m->hard[i];
        qbuf_put_varint(&b, h->batch);
        qbuf_put_varint(&b, h->index);
        qbuf_put_varint(&b, h->worker);
        qbuf_put_u8(&b, h->phase);
        qbuf_put_varint(&b, h->bits);
        qbuf_put_varint(&b, h->b1);
        qbuf_put_varint(&b, h->found);
        qbuf_put_varint(&b, h->needed);
        qbuf_put_varint(&b, h->rate_milli);
        qbuf_put_varint(&b, !h->eta_known ? 0 : h->eta_s < UINT64_MAX ? h->eta_s + 1 : UINT64_MAX);
    }
    return qbuf_take(&b, buf, len);
}

static int read_hard(struct qreader *r, struct msg_hard *h)
{
    h->batch = qreader_varint(r);
    h->index = qreader_varint(r);
    uint64_t worker = qreader_varint(r);
    h->phase = qreader_u8(r);
    uint64_t bits = qreader_varint(r);
    h->b1 = qreader_varint(r);
    h->found = qreader_varint(r);
    h->needed = qreader_varint(r);
    h->rate_milli = qreader_varint(r);
    uint64_t eta = qreader_varint(r);
    if (r->failed || worker > HARD_MAX_WORKER || h->phase >= HARD_PHASES || bits == 0 ||
        bits > HARD_MAX_BITS)
        return -1;
    h->worker = (uint32_t)worker;
    h->bits = (uint32_t)bits;
    h->eta_known = eta != 0;
    h->eta_s = eta != 0 ? eta - 1 : 0;
    return 0;
}

int msg_progress_decode(struct msg_progress *m, const uint8_t *p, size_t len)
{
    struct qreader r;
    qreader_init(&r, p, len);
    uint64_t n = qreader_varint(&r);
    if (r.failed || n > MESH_MSG_MAX_HARD)
        return -1;
    m->n = (size_t)n;
    for (size_t i = 0; i < m->n; i++)
        if (read_hard(&r, &m->hard[i]) != 0)
            return -1;
    return qreader_done(&r) ? 0 : -1;
}

/* ---- result files ---------------------------------------------------------- */

int msg_file_get_encode(const struct msg_file_get *m, uint8_t **buf, size_t *len)
{
    struct qbuf b;
    qbuf_init(&b);
    qbuf_put_bytes(&b, m->hash, sizeof m->hash);
    qbuf_put_varint(&b, m->offset);
    return qbuf_take(&b, buf, len);
}

int msg_file_get_decode(struct msg_file_get *m, const uint8_t *p, size_t len)
{
    struct qreader r;
    qreader_init(&r, p, len);
    const uint8_t *hash = qreader_bytes(&r, sizeof m->hash);
    m->offset = qreader_varint(&r);
    if (hash == NULL || !qreader_done(&r))
        return -1;
    memcpy(m->hash, hash, sizeof m->hash);
    return 0;
}

int msg_file_part_encode(const struct msg_file_part *m, uint8_t **buf, size_t *len)
{
    struct qbuf b;
    qbuf_init(&b);
    qbuf_put_bytes(&b, m->hash, sizeof m->hash);
    qbuf_put_varint(&b, m->offset);
    qbuf_put_varint(&b, m->total);
    qbuf_put_str(&b, (const char *)m->data, m->len);
    return qbuf_take(&b, buf, len);
}

int msg_file_part_decode(struct msg_file_part *m, const uint8_t *p, size_t len)
{
    struct qreader r;
    qreader_init(&r, p, len);
    const uint8_t *hash = qreader_bytes(&r, sizeof m->hash);
    m->offset = qreader_varint(&r);
    m->total = qreader_varint(&r);
    m->data = qreader_str(&r, MESH_MSG_FILE_CHUNK, &m->len);
    if (hash == NULL || m->data == NULL || !qreader_done(&r) ||
        (m->total == 0 && m->len != 0) || m->offset > m->total ||
        m->len > m->total - m->offset)
        return -1;
    memcpy(m->hash, hash, sizeof m->hash);
    return 0;
}
