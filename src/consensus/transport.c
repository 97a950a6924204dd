/* transport.c - see transport.h.
 *
 * A channel is a socketpair: raft holds one end as a uv_pipe_t allocated
 * with raft_malloc (raft closes it and raft_free()s it, and overwrites its
 * data field), this file holds the other. Opener side: what raft writes is
 * read from our end and sent as CHAN_MSG_DATA. Acceptor side: CHAN_MSG_DATA
 * is written into our end for raft to read. Closing our end is how raft
 * learns that a channel (or the link under it) is gone. */
#include "transport.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "raft_stream.h"

enum {
    PUMP_MS = 20,                      /* pending connects, paused channels */
    CHUNK = 64 * 1024,                 /* bytes read from raft per message */
    BACKLOG_HIGH = 2 << 20,            /* link backlog that pauses reading (links cap 4 MiB) */
    BACKLOG_LOW = 512 << 10,           /* ... and that resumes it */
    MAX_UNREAD = 32 << 20,             /* raft not reading an accepted stream */
    MAX_ACCEPTED_PER_PEER = 8,         /* raft opens one per peer; spares for churn */
};

struct chan {
    struct transport *t;
    uint64_t peer;
    uint32_t id;
    bool opener;
    bool paused;             /* opener: reading stopped for backpressure */
    bool closing;
    uv_pipe_t pipe;          /* our end */
    struct raft_stream *watch; /* acceptor: checks the stream raft will read */
    struct chan *next;
};

struct pending_connect {
    struct raft_uv_connect *req;
    raft_uv_connect_cb cb;
    uint64_t peer;
    struct pending_connect *next;
};

struct transport {
    struct transport_config cfg;
    raft_id self;
    raft_uv_accept_cb accept_cb;
    struct raft_uv_transport *owner;
    struct chan *chans;
    struct pending_connect *connects;
    uint32_t next_chan_id;
    uv_timer_t pump;
    bool pump_started, closing;
    bool refusing;              /* disk full: no channel accepted (transport.h) */
    unsigned open_handles;
    raft_uv_transport_close_cb close_cb;
};

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void send_ctl(struct transport *tr, uint64_t peer, uint8_t type, uint32_t ch)
{
    uint8_t b[4];
    put32(b, ch);
    tr->cfg.send(tr->cfg.ud, peer, type, b, sizeof b);
}

/* ---- closing ------------------------------------------------------------- */

static void maybe_closed(struct transport *tr)
{
    if (tr->closing && tr->open_handles == 0 && tr->close_cb != NULL) {
        raft_uv_transport_close_cb cb = tr->close_cb;
        tr->close_cb = NULL;
        cb(tr->owner);
    }
}

static void on_chan_closed(uv_handle_t *h)
{
    struct chan *c = h->data;
    struct transport *tr = c->t;
    if (c->watch != NULL) {
        raft_stream_free(c->watch);
        free(c->watch);
    }
    free(c);
    tr->open_handles--;
    maybe_closed(tr);
}

static void unlink_chan(struct transport *tr, struct chan *c)
{
    for (struct chan **pp = &tr->chans; *pp != NULL; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            return;
        }
}

/* Ends a channel on our side; tell_peer: send the matching FIN. */
static void chan_close(struct chan *c, bool tell_peer)
{
    if (c->closing)
        return;
    c->closing = true;
    unlink_chan(c->t, c);
    if (tell_peer)
        send_ctl(c->t, c->peer, c->opener ? CHAN_MSG_FIN_OPENER : CHAN_MSG_FIN_ACCEPTOR, c->id);
    uv_close((uv_handle_t *)&c->pipe, on_chan_closed);
}

static struct chan *find_chan(struct transport *tr, uint64_t peer, uint32_t id, bool opener)
{
    for (struct chan *c = tr->chans; c != NULL; c = c->next)
        if (c->peer == peer && c->id == id && c->opener == opener)
            return c;
    return NULL;
}

/* ---- socketpairs ---------------------------------------------------------- */

/* Makes a channel and raft's end of it. NULL on failure (nothing left). */
static struct chan *chan_new(struct transport *tr, uint64_t peer, uint32_t id, bool opener,
                             uv_stream_t **raft_end)
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) != 0)
        return NULL;
    struct chan *c = calloc(1, sizeof *c);
    uv_pipe_t *theirs = raft_malloc(sizeof *theirs);
    if (c == NULL || theirs == NULL || uv_pipe_init(tr->cfg.loop, &c->pipe, 0) != 0) {
        free(c);
        raft_free(theirs);
        close(fds[0]);
        close(fds[1]);
        return NULL;
    }
    c->t = tr;
    c->peer = peer;
    c->id = id;
    c->opener = opener;
    c->pipe.data = c;
    tr->open_handles++;
    uv_pipe_init(tr->cfg.loop, theirs, 0);
    if (uv_pipe_open(&c->pipe, fds[1]) != 0 || uv_pipe_open(theirs, fds[0]) != 0) {
        close(fds[0]);
        close(fds[1]);
        uv_close((uv_handle_t *)&c->pipe, on_chan_closed);
        uv_close((uv_handle_t *)theirs, (uv_close_cb)raft_free);
        return NULL;
    }
    c->next = tr->chans;
    tr->chans = c;
    *raft_end = (uv_stream_t *)theirs;
    return c;
}

/* ---- opener side: raft writes, we forward ------------------------------------ */

struct read_buf {
    uint8_t head[4];
    uint8_t data[CHUNK];
};

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct read_buf *rb = malloc(sizeof *rb);
    buf->base = rb ? (char *)rb->data : NULL;
    buf->len = rb ? CHUNK : 0;
    (void)h;
}

static void pause_if_backlogged(struct chan *c)
{
    struct transport *tr = c->t;
    if (tr->cfg.backlog(tr->cfg.ud, c->peer) > BACKLOG_HIGH) {
        uv_read_stop((uv_stream_t *)&c->pipe);
        c->paused = true;
    }
}

/* What raft wrote on an opened channel goes to the peer; EOF or an error
 * means raft closed its end: the channel ends on both sides. */
static void on_opener_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct chan *c = s->data;
    struct read_buf *rb = buf->base ? (struct read_buf *)(buf->base - 4) : NULL;
    if (nread > 0) {
        put32(rb->head, c->id);
        int rc = c->t->cfg.send(c->t->cfg.ud, c->peer, CHAN_MSG_DATA, rb->head,
                                (size_t)nread + 4);
        free(rb);
        if (rc != 0)
            chan_close(c, false); /* link gone or refusing: raft reconnects */
        else
            pause_if_backlogged(c);
        return;
    }
    free(rb);
    if (nread < 0)
        chan_close(c, true);
}

static void start_reading(struct chan *c, uv_read_cb cb)
{
    c->paused = false;
    if (uv_read_start((uv_stream_t *)&c->pipe, on_alloc, cb) != 0)
        chan_close(c, true);
}

static void resume_paused(struct transport *tr)
{
    for (struct chan *c = tr->chans; c != NULL;) {
        struct chan *next = c->next;
        if (c->paused && tr->cfg.backlog(tr->cfg.ud, c->peer) < BACKLOG_LOW)
            start_reading(c, on_opener_read);
        c = next;
    }
}

static void finish_connect(struct transport *tr, struct pending_connect *pc)
{
    uv_stream_t *raft_end = NULL;
    struct chan *c = NULL;
    if (tr->cfg.linked(tr->cfg.ud, pc->peer))
        c = chan_new(tr, pc->peer, ++tr->next_chan_id, true, &raft_end);
    if (c == NULL) {
        pc->cb(pc->req, NULL, RAFT_NOCONNECTION);
        return;
    }
    send_ctl(tr, c->peer, CHAN_MSG_OPEN, c->id);
    start_reading(c, on_opener_read);
    pc->cb(pc->req, raft_end, 0);
}

static void on_pump(uv_timer_t *timer)
{
    struct transport *tr = timer->data;
    /* Take the list first: a callback may call connect again. */
    struct pending_connect *list = tr->connects;
    tr->connects = NULL;
    while (list != NULL) {
        struct pending_connect *pc = list;
        list = pc->next;
        finish_connect(tr, pc);
        free(pc);
    }
    resume_paused(tr);
}

/* ---- acceptor side: the peer sends, raft reads -------------------------------- */

static void on_write_done(uv_write_t *w, int status)
{
    (void)status; /* a failed write shows up as EOF on the read side */
    free(w);
}

/* Our end of an accepted channel is only read to notice raft closing its
 * end; raft never writes on streams it accepted. */
static void on_acceptor_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct chan *c = s->data;
    if (buf->base != NULL)
        free(buf->base - 4);
    if (nread < 0)
        chan_close(c, true);
}

static size_t accepted_from(const struct transport *tr, uint64_t peer)
{
    size_t n = 0;
    for (const struct chan *c = tr->chans; c != NULL; c = c->next)
        n += c->peer == peer && !c->opener;
    return n;
}

static void accept_channel(struct transport *tr, uint64_t peer, uint32_t id)
{
    struct chan *old = find_chan(tr, peer, id, false);
    if (old != NULL)
        chan_close(old, false);
    uv_stream_t *raft_end;
    struct chan *c = NULL;
    if (tr->accept_cb != NULL && !tr->refusing && accepted_from(tr, peer) < MAX_ACCEPTED_PER_PEER)
        c = chan_new(tr, peer, id, false, &raft_end);
    if (c != NULL)
        c->watch = malloc(sizeof *c->watch);
    if (c == NULL || c->watch == NULL) {
        if (c != NULL)
            chan_close(c, false);
        send_ctl(tr, peer, CHAN_MSG_FIN_ACCEPTOR, id);
        return;
    }
    raft_stream_init(c->watch, peer);
    start_reading(c, on_acceptor_read);
    /* The address raft records is the peer's id: routing is by id anyway. */
    char address[32];
    snprintf(address, sizeof address, "%016llx", (unsigned long long)peer);
    tr->accept_cb(tr->owner, peer, address, raft_end);
}

static void deliver(struct transport *tr, uint64_t peer, uint32_t id, const uint8_t *data,
                    size_t len)
{
    struct chan *c = find_chan(tr, peer, id, false);
    if (c == NULL) {
        send_ctl(tr, peer, CHAN_MSG_FIN_ACCEPTOR, id); /* stale: tell the opener */
        return;
    }
    if (!raft_stream_feed(c->watch, data, len)) {
        mlog(tr->cfg.log, LOG_WARN, "raft channel from %016llx refused: %s",
             (unsigned long long)peer, c->watch->why);
        chan_close(c, true);
        return;
    }
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) > MAX_UNREAD) {
        chan_close(c, true);
        return;
    }
    uv_write_t *w = malloc(sizeof *w + len);
    if (w == NULL) {
        chan_close(c, true);
        return;
    }
    memcpy(w + 1, data, len);
    uv_buf_t b = uv_buf_init((char *)(w + 1), (unsigned)len);
    if (uv_write(w, (uv_stream_t *)&c->pipe, &b, 1, on_write_done) != 0) {
        free(w);
        chan_close(c, true);
    }
}

void transport_on_message(struct raft_uv_transport *t, uint64_t peer, uint8_t type,
                          const uint8_t *data, size_t len)
{
    struct transport *tr = t->impl;
    if (tr == NULL || tr->closing || len < 4)
        return;
    uint32_t id = get32(data);
    struct chan *c;
    switch (type) {
    case CHAN_MSG_OPEN:
        if (len == 4)
            accept_channel(tr, peer, id);
        break;
    case CHAN_MSG_DATA:
        deliver(tr, peer, id, data + 4, len - 4);
        break;
    case CHAN_MSG_FIN_OPENER:
        if ((c = find_chan(tr, peer, id, false)) != NULL)
            chan_close(c, false);
        break;
    case CHAN_MSG_FIN_ACCEPTOR:
        if ((c = find_chan(tr, peer, id, true)) != NULL)
            chan_close(c, false);
        break;
    }
}

void transport_on_peer_down(struct raft_uv_transport *t, uint64_t peer)
{
    struct transport *tr = t->impl;
    if (tr == NULL)
        return;
    for (struct chan *c = tr->chans; c != NULL;) {
        struct chan *next = c->next;
        if (c->peer == peer)
            chan_close(c, false);
        c = next;
    }
}

void transport_set_refusing(struct raft_uv_transport *t, bool refusing)
{
    struct transport *tr = t->impl;
    if (tr == NULL || tr->refusing == refusing)
        return;
    tr->refusing = refusing;
    if (!refusing)
        return;
    for (struct chan *c = tr->chans; c != NULL;) {
        struct chan *next = c->next;
        if (!c->opener)
            chan_close(c, true);  /* the opener's raft sees its stream end */
        c = next;
    }
}

size_t transport_channel_count(const struct raft_uv_transport *t)
{
    const struct transport *tr = t->impl;
    size_t n = 0;
    for (const struct chan *c = tr ? tr->chans : NULL; c != NULL; c = c->next)
        n++;
    return n;
}

/* ---- the raft_uv_transport methods ---------------------------------------- */

static int tr_init(struct raft_uv_transport *t, raft_id id, const char *address)
{
    struct transport *tr = t->impl;
    (void)address;
    tr->self = id;
    return 0;
}

static int tr_listen(struct raft_uv_transport *t, raft_uv_accept_cb cb)
{
    struct transport *tr = t->impl;
    tr->accept_cb = cb;
    return 0;
}

/* Completes from the pump (never inside this call: raft does not expect a
 * connect callback before connect returns). */
static int tr_connect(struct raft_uv_transport *t, struct raft_uv_connect *req, raft_id id,
                      const char *address, raft_uv_connect_cb cb)
{
    struct transport *tr = t->impl;
    (void)address;
    struct pending_connect *pc = malloc(sizeof *pc);
    if (pc == NULL)
        return RAFT_NOMEM;
    *pc = (struct pending_connect){req, cb, id, tr->connects};
    tr->connects = pc;
    uv_timer_start(&tr->pump, on_pump, 0, PUMP_MS);
    return 0;
}

static void on_pump_closed(uv_handle_t *h)
{
    struct transport *tr = h->data;
    tr->open_handles--;
    maybe_closed(tr);
}

static void tr_close(struct raft_uv_transport *t, raft_uv_transport_close_cb cb)
{
    struct transport *tr = t->impl;
    tr->closing = true;
    tr->close_cb = cb;
    tr->accept_cb = NULL;
    while (tr->connects != NULL) {
        struct pending_connect *pc = tr->connects;
        tr->connects = pc->next;
        pc->cb(pc->req, NULL, RAFT_CANCELED);
        free(pc);
    }
    while (tr->chans != NULL)
        chan_close(tr->chans, true);
    uv_close((uv_handle_t *)&tr->pump, on_pump_closed);
}

int transport_init(struct raft_uv_transport *t, const struct transport_config *cfg)
{
    struct transport *tr = calloc(1, sizeof *tr);
    if (tr == NULL)
        return -1;
    tr->cfg = *cfg;
    tr->owner = t;
    uv_timer_init(cfg->loop, &tr->pump);
    tr->pump.data = tr;
    tr->open_handles = 1;
    uv_timer_start(&tr->pump, on_pump, PUMP_MS, PUMP_MS);
    memset(t, 0, sizeof *t);
    t->impl = tr;
    t->init = tr_init;
    t->listen = tr_listen;
    t->connect = tr_connect;
    t->close = tr_close;
    return 0;
}

static void on_abandoned(uv_handle_t *h)
{
    free(h->data);
}

void transport_abandon(struct raft_uv_transport *t)
{
    struct transport *tr = t->impl;
    t->impl = NULL;
    if (tr != NULL)
        uv_close((uv_handle_t *)&tr->pump, on_abandoned);
}

void transport_free(struct raft_uv_transport *t)
{
    free(t->impl);
    t->impl = NULL;
}
