/* peer_link.c - see peer_link.h. */
#include "peer_link.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "handshake.h"

enum {
    READ_CHUNK = 64 * 1024,
    /* Frames sent during one loop iteration go out in one write: a busy
     * mesh sends many small frames (leases, results, raft traffic) and a
     * syscall each was most of a node's kernel time. Bigger frames (or a
     * full cork) are written as they come. */
    CORK_BYTES = 128 * 1024,
    /* Before the handshake completes a peer is unauthenticated: it gets a
     * buffer just big enough for the largest handshake message. */
    HANDSHAKE_BUF = 256,
    /* A receive buffer grows to the largest frame it met (up to
     * FRAME_MAX_WIRE); once that frame is consumed it goes back to this,
     * so an idle link does not hold a megabyte for the rest of its life.
     * Two read chunks: the small frames of a busy mesh never regrow it. */
    RX_KEEP = 2 * READ_CHUNK,
};

struct link_write;

struct peer_link {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_idle_t flush;            /* runs while the cork holds frames */
    struct link_write *cork;    /* sealed frames not yet handed to libuv */
    uv_connect_t connect_req;
    struct link_config cfg;
    int open_handles;
    bool closing, up, initiator;
    const char *close_reason;
    struct handshake hs;
    struct frame_key tx, rx;
    uint8_t peer_pk[MESH_KEY_BYTES];
    uint64_t session_id;
    uint8_t *rx_buf;
    size_t rx_len, rx_cap, rx_need;
    size_t backlog;
    size_t last_queue;          /* libuv write queue at the last stall check */
    uint64_t last_drain_ms;     /* when queued bytes last moved */
    uint64_t last_read_ms;      /* when bytes last arrived */
    int hs_error;               /* why the handshake failed, HS_OK if not */
    char remote_ip[64];
    uint16_t remote_port;
};

struct link_write {
    uv_write_t req;
    struct peer_link *link;
    size_t len, cap;
    uint8_t data[];
};

static bool budget_allows(const struct peer_link *l, size_t more)
{
    const struct link_budget *b = l->cfg.budget;
    return b == NULL || b->used + more <= b->max;
}

static void budget_add(struct peer_link *l, size_t n)
{
    if (l->cfg.budget != NULL)
        l->cfg.budget->used += n;
}

static void budget_sub(struct peer_link *l, size_t n)
{
    if (l->cfg.budget != NULL)
        l->cfg.budget->used -= n;
}

static void on_handle_closed(uv_handle_t *h)
{
    struct peer_link *l = h->data;
    if (--l->open_handles > 0)
        return;
    budget_sub(l, l->rx_cap);
    l->cfg.on_closed(l, l->cfg.ud, l->close_reason, l->up);
    sodium_memzero(&l->tx, sizeof l->tx);
    sodium_memzero(&l->rx, sizeof l->rx);
    free(l->rx_buf);
    free(l);
}

void link_close(struct peer_link *l, const char *reason)
{
    if (l->closing)
        return;
    l->closing = true;
    l->close_reason = reason;
    hs_wipe(&l->hs);
    if (l->cork != NULL) { /* never written: nothing will come back for it */
        l->backlog -= l->cork->len;
        budget_sub(l, l->cork->cap);
        free(l->cork);
        l->cork = NULL;
    }
    uv_close((uv_handle_t *)&l->tcp, on_handle_closed);
    uv_close((uv_handle_t *)&l->timer, on_handle_closed);
    uv_close((uv_handle_t *)&l->flush, on_handle_closed);
}

static void on_written(uv_write_t *req, int status)
{
    struct link_write *w = (struct link_write *)req;
    struct peer_link *l = w->link;
    l->backlog -= w->len;
    budget_sub(l, w->cap);
    l->last_drain_ms = uv_now(l->cfg.loop);
    free(w);
    if (status < 0 && status != UV_ECANCELED)
        link_close(l, uv_strerror(status));
}

/* Allocates a write request with room for len bytes; the caller fills it. */
static struct link_write *write_new(struct peer_link *l, size_t len)
{
    struct link_write *w = malloc(sizeof *w + len);
    if (w != NULL) {
        w->link = l;
        w->len = w->cap = len;
    }
    return w;
}

static int write_queued(struct peer_link *l, struct link_write *w, uv_buf_t *buf);

static int write_submit(struct peer_link *l, struct link_write *w)
{
    uv_buf_t buf = uv_buf_init((char *)w->data, (unsigned)w->len);
    if (l->backlog == 0)
        l->last_drain_ms = uv_now(l->cfg.loop);  /* the stall clock starts */
    l->backlog += w->len;
    budget_add(l, w->cap);
    return write_queued(l, w, &buf);
}

/* Hands a write whose bytes are already counted in the backlog to libuv. */
static int write_queued(struct peer_link *l, struct link_write *w, uv_buf_t *buf)
{
    int rc = uv_write(&w->req, (uv_stream_t *)&l->tcp, buf, 1, on_written);
    if (rc < 0) {
        l->backlog -= w->len;
        budget_sub(l, w->cap);
        free(w);
        link_close(l, uv_strerror(rc));
    }
    return rc;
}

static int cork_flush(struct peer_link *l)
{
    struct link_write *w = l->cork;
    if (w == NULL)
        return 0;
    l->cork = NULL;
    uv_idle_stop(&l->flush);
    uv_buf_t buf = uv_buf_init((char *)w->data, (unsigned)w->len);
    return write_queued(l, w, &buf);
}

static void on_flush(uv_idle_t *h)
{
    cork_flush(h->data);
}

/* Room for `wire` more bytes in the cork: grown (doubling, up to
 * CORK_BYTES) rather than allocated whole, since the global link budget
 * counts what is allocated and most iterations send a frame or two. */
static int cork_reserve(struct peer_link *l, size_t wire)
{
    struct link_write *w = l->cork;
    size_t have = w ? w->len : 0, cap = w ? w->cap : 0;
    if (cap - have >= wire)
        return 0;
    if (have + wire > CORK_BYTES) {
        if (cork_flush(l) != 0)
            return UV_ENOTCONN;
        return cork_reserve(l, wire);
    }
    size_t grown = cap ? cap : 4096;
    while (grown < have + wire)
        grown *= 2;
    if (grown > CORK_BYTES)
        grown = CORK_BYTES;
    struct link_write *nw = realloc(w, sizeof *nw + grown);
    if (nw == NULL)
        return UV_ENOMEM;
    if (w == NULL) {
        nw->link = l;
        nw->len = 0;
        uv_idle_start(&l->flush, on_flush);
    }
    budget_add(l, grown - cap);
    nw->cap = grown;
    l->cork = nw;
    return 0;
}

/* Seals a frame into the cork; the idle handle writes it out before the
 * loop next waits for I/O. */
static int cork_frame(struct peer_link *l, uint8_t type, const void *data, size_t len,
                      size_t wire)
{
    int rc = cork_reserve(l, wire);
    if (rc != 0)
        return rc;
    rc = frame_seal(&l->tx, type, data, len, l->cork->data + l->cork->len);
    if (rc != FRAME_OK) {
        link_close(l, frame_strerror(rc));
        return UV_ENOTCONN;
    }
    if (l->backlog == 0)
        l->last_drain_ms = uv_now(l->cfg.loop);
    l->cork->len += wire;
    l->backlog += wire;
    return 0;
}

static int write_raw(struct peer_link *l, const uint8_t *data, size_t len)
{
    struct link_write *w = write_new(l, len);
    if (w == NULL) {
        link_close(l, "out of memory");
        return UV_ENOMEM;
    }
    memcpy(w->data, data, len);
    return write_submit(l, w);
}

int link_send(struct peer_link *l, uint8_t type, const void *data, size_t len)
{
    if (!l->up || l->closing)
        return UV_ENOTCONN;
    if (len > FRAME_MAX_PAYLOAD)
        return UV_E2BIG;
    size_t wire = frame_wire_size(len);
    if (l->backlog + wire > l->cfg.max_backlog || !budget_allows(l, wire))
        return UV_ENOBUFS;
    if (wire <= CORK_BYTES / 4)
        return cork_frame(l, type, data, len, wire);
    if (cork_flush(l) != 0)  /* keep frames in order */
        return UV_ENOTCONN;
    struct link_write *w = write_new(l, wire);
    if (w == NULL)
        return UV_ENOMEM;
    int rc = frame_seal(&l->tx, type, data, len, w->data);
    if (rc != FRAME_OK) {
        free(w);
        link_close(l, frame_strerror(rc));
        return UV_ENOTCONN;
    }
    return write_submit(l, w);
}

static void on_timeout(uv_timer_t *t);

static void become_up(struct peer_link *l)
{
    struct hs_session s;
    hs_finish(&l->hs, &s);
    frame_key_init(&l->tx, s.tx_key);
    frame_key_init(&l->rx, s.rx_key);
    memcpy(l->peer_pk, s.peer_pk, sizeof l->peer_pk);
    /* Hash of both direction keys in initiator order: equal on both ends,
     * and reveals nothing about the keys. */
    uint8_t both[2 * HS_SESSION_KEY_BYTES], id[8];
    memcpy(both, l->initiator ? s.tx_key : s.rx_key, HS_SESSION_KEY_BYTES);
    memcpy(both + HS_SESSION_KEY_BYTES, l->initiator ? s.rx_key : s.tx_key,
           HS_SESSION_KEY_BYTES);
    crypto_generichash(id, sizeof id, both, sizeof both, NULL, 0);
    for (int i = 0; i < 8; i++)
        l->session_id = (l->session_id << 8) | id[i];
    sodium_memzero(both, sizeof both);
    sodium_memzero(&s, sizeof s);
    l->up = true;
    /* The peer proved the key: it now gets the full deadline for HELLO. */
    uv_timer_start(&l->timer, on_timeout, l->cfg.handshake_timeout_ms, 0);
    l->cfg.on_up(l, l->cfg.ud);
}

/* Feeds one complete handshake message; returns 0 to go on, -1 if closed. */
static int handshake_step(struct peer_link *l, const uint8_t *msg)
{
    uint8_t reply[HS_MSG1_BYTES];
    size_t reply_len = 0;
    int rc;
    if (l->initiator && l->hs.step == 0) {
        rc = hs_initiator_read_msg0(&l->hs, msg, reply);
        reply_len = HS_MSG1_BYTES;
    } else if (l->initiator) {
        rc = hs_initiator_read_msg2(&l->hs, msg);
    } else {
        rc = hs_responder_read_msg1(&l->hs, msg, reply);
        reply_len = HS_MSG2_BYTES;
    }
    if (rc != HS_OK) {
        l->hs_error = rc;
        link_close(l, hs_strerror(rc));
        return -1;
    }
    if (reply_len > 0 && write_raw(l, reply, reply_len) < 0)
        return -1;
    if (hs_done(&l->hs))
        become_up(l);
    return l->closing ? -1 : 0;
}

/* Gives back the part of a receive buffer grown for a large frame once
 * what is left (and the next frame as far as known) fits RX_KEEP. */
static void rx_shrink(struct peer_link *l)
{
    if (l->rx_cap <= RX_KEEP || l->rx_len + READ_CHUNK > RX_KEEP || l->rx_need > RX_KEEP)
        return;
    uint8_t *p = realloc(l->rx_buf, RX_KEEP);
    if (p == NULL)
        return;     /* the larger buffer stays: still correct */
    budget_sub(l, l->rx_cap - RX_KEEP);
    l->rx_buf = p;
    l->rx_cap = RX_KEEP;
}

/* Consumes as many complete handshake messages and frames as rx_buf holds. */
static void process_input(struct peer_link *l)
{
    size_t off = 0;
    while (!l->closing) {
        size_t avail = l->rx_len - off;
        if (!l->up) {
            size_t need = hs_next_msg_size(&l->hs);
            if (avail < need) {
                l->rx_need = need;
                break;
            }
            if (handshake_step(l, l->rx_buf + off) != 0)
                break;
            off += need;
            continue;
        }
        size_t consumed = 0, plen = 0;
        uint8_t type = 0;
        const uint8_t *payload = NULL;
        int rc = frame_next(&l->rx, l->rx_buf + off, avail, &consumed, &type,
                            &payload, &plen);
        if (rc == FRAME_NEED_MORE) {
            l->rx_need = consumed;
            break;
        }
        if (rc != FRAME_OK) {
            link_close(l, frame_strerror(rc));
            break;
        }
        off += consumed;
        l->cfg.on_frame(l, l->cfg.ud, type, payload, plen);
    }
    if (!l->closing && off > 0) {
        memmove(l->rx_buf, l->rx_buf + off, l->rx_len - off);
        l->rx_len -= off;
        rx_shrink(l);
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct peer_link *l = h->data;
    size_t want = HANDSHAKE_BUF;
    if (l->up) {
        want = l->rx_len + READ_CHUNK;
        if (l->rx_need > want)
            want = l->rx_need;
    }
    /* Past the node's buffer budget the buffer does not grow; a frame that
     * cannot fit then ends the link (UV_ENOBUFS below). */
    if (want > l->rx_cap && (want <= HANDSHAKE_BUF || budget_allows(l, want - l->rx_cap))) {
        uint8_t *p = realloc(l->rx_buf, want);
        if (p != NULL) {
            budget_add(l, want - l->rx_cap);
            l->rx_buf = p;
            l->rx_cap = want;
        }
    }
    /* A zero-length buffer makes libuv report UV_ENOBUFS: the link closes. */
    *buf = uv_buf_init((char *)l->rx_buf + l->rx_len,
                       (unsigned)(l->rx_cap > l->rx_len ? l->rx_cap - l->rx_len : 0));
    if (l->rx_buf == NULL)
        buf->base = NULL;
}

static const char *eof_reason(const struct peer_link *l)
{
    if (l->up)
        return "connection closed by peer";
    if (l->initiator && l->hs.step == 1)
        return "peer refused our handshake (different authkey?)";
    return "connection closed during handshake";
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    struct peer_link *l = s->data;
    if (n < 0) {
        link_close(l, n < 0 && n != UV_EOF ? uv_strerror((int)n) : eof_reason(l));
        return;
    }
    if (n > 0)
        l->last_read_ms = uv_now(l->cfg.loop);
    l->rx_len += (size_t)n;
    process_input(l);
}

static void on_timeout(uv_timer_t *t)
{
    struct peer_link *l = t->data;
    link_close(l, l->up ? "no hello after handshake" : "handshake timeout");
}

static void note_remote(struct peer_link *l)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getpeername(&l->tcp, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        uv_ip6_name(a, l->remote_ip, sizeof l->remote_ip);
        l->remote_port = ntohs(a->sin6_port);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        uv_ip4_name(a, l->remote_ip, sizeof l->remote_ip);
        l->remote_port = ntohs(a->sin_port);
    }
}

static int start_reading(struct peer_link *l)
{
    if (l->remote_ip[0] == '\0')
        note_remote(l);
    uv_tcp_nodelay(&l->tcp, 1);
    return uv_read_start((uv_stream_t *)&l->tcp, on_alloc, on_read);
}

/* Common part: allocate and open both handles. */
static struct peer_link *link_new(const struct link_config *cfg)
{
    struct peer_link *l = calloc(1, sizeof *l);
    if (l == NULL)
        return NULL;
    l->cfg = *cfg;
    if (uv_tcp_init(cfg->loop, &l->tcp) != 0) {
        free(l);
        return NULL;
    }
    uv_timer_init(cfg->loop, &l->timer);
    uv_idle_init(cfg->loop, &l->flush);
    l->tcp.data = l;
    l->timer.data = l;
    l->flush.data = l;
    l->open_handles = 3;
    uv_timer_start(&l->timer, on_timeout, cfg->handshake_timeout_ms, 0);
    return l;
}

int link_accept(struct peer_link **out, const struct link_config *cfg,
                uv_stream_t *server)
{
    struct peer_link *l = link_new(cfg);
    if (l == NULL)
        return UV_ENOMEM;
    *out = l;
    int rc = uv_accept(server, (uv_stream_t *)&l->tcp);
    if (rc == 0)
        note_remote(l);
    else
        link_close(l, uv_strerror(rc)); /* on_closed will report it */
    return 0;
}

void link_start_responder(struct peer_link *l)
{
    if (l->closing)
        return;
    int rc = start_reading(l);
    if (rc != 0) {
        link_close(l, uv_strerror(rc));
        return;
    }
    uint32_t first = l->cfg.first_msg_timeout_ms;
    if (first != 0 && first < l->cfg.handshake_timeout_ms)
        uv_timer_start(&l->timer, on_timeout, first, 0);
    uint8_t msg0[HS_MSG0_BYTES];
    hs_responder_start(&l->hs, l->cfg.keys, msg0);
    write_raw(l, msg0, sizeof msg0);
}

static void on_connected(uv_connect_t *req, int status)
{
    struct peer_link *l = req->data;
    if (status == UV_ECANCELED || l->closing)
        return;
    if (status < 0 || (status = start_reading(l)) < 0)
        link_close(l, uv_strerror(status));
}

int link_connect(struct peer_link **out, const struct link_config *cfg,
                 const struct sockaddr *addr, const uint8_t *expected_pk)
{
    struct peer_link *l = link_new(cfg);
    if (l == NULL)
        return UV_ENOMEM;
    *out = l;
    l->initiator = true;
    hs_initiator_start(&l->hs, cfg->keys, expected_pk);
    l->connect_req.data = l;
    int rc = uv_tcp_connect(&l->connect_req, &l->tcp, addr, on_connected);
    if (rc != 0)
        link_close(l, uv_strerror(rc));
    return 0;
}

void link_confirm(struct peer_link *l)
{
    if (!l->closing)
        uv_timer_stop(&l->timer);
}

size_t link_backlog(const struct peer_link *l) { return l->backlog; }
bool link_reflected(const struct peer_link *l) { return l->hs_error == HS_ERR_SELF; }

uint64_t link_last_read_ms(const struct peer_link *l)
{
    return l->last_read_ms;
}

bool link_stalled(struct peer_link *l, uint64_t now_ms, uint64_t stall_ms)
{
    size_t queue = l->closing ? 0 : uv_stream_get_write_queue_size((uv_stream_t *)&l->tcp);
    if (queue < l->last_queue)   /* part of a big write went out */
        l->last_drain_ms = now_ms;
    l->last_queue = queue;
    return l->backlog > 0 && now_ms - l->last_drain_ms >= stall_ms;
}
bool link_is_up(const struct peer_link *l) { return l->up && !l->closing; }
bool link_is_initiator(const struct peer_link *l) { return l->initiator; }
const uint8_t *link_peer_pk(const struct peer_link *l) { return l->peer_pk; }
const char *link_remote_ip(const struct peer_link *l) { return l->remote_ip; }
uint64_t link_session_id(const struct peer_link *l) { return l->session_id; }
uint16_t link_remote_port(const struct peer_link *l) { return l->remote_port; }
