/* metrics.c - the minimal HTTP/1.0 server behind --metrics (why
 * hand-written: metrics.h). Each connection: read the request head (at
 * most METRICS_MAX_REQUEST bytes, within METRICS_HEAD_MS), answer GET
 * /metrics with the text (written within METRICS_TIMEOUT_MS), anything
 * else with 404/405/400, close. A scraper sends its head at once; a client
 * that trickles it (slowloris) is cut at the head deadline, and past
 * METRICS_MAX_CONNS open connections a new one takes the place of the
 * oldest still reading its head: before, 16 trickling connections held
 * every slot for 5 s at a time and 0 of 80 scrapes got through. */
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    METRICS_MAX_REQUEST = 4096,
    METRICS_HEAD_MS = 1000,     /* to send the request head */
    METRICS_TIMEOUT_MS = 5000,  /* to take the answer */
    METRICS_MAX_CONNS = 16,
};

struct conn {
    struct conn *next;
    struct metrics *m;
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_write_t wr;
    char req[METRICS_MAX_REQUEST];
    size_t len;
    char *answer;
    unsigned open_handles;
    bool closing, answered;
};

struct metrics {
    struct metrics_config cfg;
    uv_tcp_t listener;
    struct conn *conns;
    struct log_ratelimit refused_rl;
    bool stopping;
    void (*done)(void *ud);
    void *done_ud;
    unsigned open_handles;    /* stopping: the listener and connections left */
};

static void maybe_done(struct metrics *m)
{
    if (!m->stopping || m->open_handles > 0 || m->conns != NULL)
        return;
    void (*done)(void *) = m->done;
    void *ud = m->done_ud;
    free(m);
    if (done)
        done(ud);
}

static void on_conn_handle_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    if (--c->open_handles > 0)
        return;
    struct metrics *m = c->m;
    for (struct conn **pp = &m->conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    free(c->answer);
    free(c);
    maybe_done(m);
}

static void conn_close(struct conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    c->open_handles = 2;
    uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
}

static void on_written(uv_write_t *w, int status)
{
    (void)status;
    conn_close(w->data);
}

static void on_timeout(uv_timer_t *t)
{
    conn_close(t->data);
}

static void reply(struct conn *c, const char *status, const char *type, const char *body,
                  size_t len)
{
    c->answered = true;
    uv_read_stop((uv_stream_t *)&c->tcp);
    uv_timer_start(&c->timer, on_timeout, METRICS_TIMEOUT_MS, 0);
    char headers[256];
    int hl = snprintf(headers, sizeof headers,
                      "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                      "Connection: close\r\n\r\n", status, type, len);
    uv_buf_t bufs[2] = {uv_buf_init(headers, (unsigned)hl), uv_buf_init((char *)body,
                                                                       (unsigned)len)};
    /* the headers are small: try_write sends them now or not at all */
    c->wr.data = c;
    int sent = uv_try_write((uv_stream_t *)&c->tcp, bufs, 1);
    if (sent != hl) {
        conn_close(c);
        return;
    }
    if (len == 0 || uv_write(&c->wr, (uv_stream_t *)&c->tcp, &bufs[1], 1, on_written) != 0)
        conn_close(c);
}

static void reply_text(struct conn *c, const char *status, const char *body)
{
    reply(c, status, "text/plain; charset=utf-8", body, strlen(body));
}

/* The request head is complete: "GET /metrics HTTP/1.x" (a query string is
 * ignored); headers are not needed. */
static void answer(struct conn *c)
{
    char method[8], path[256];
    if (sscanf(c->req, "%7s %255s HTTP/", method, path) != 2) {
        reply_text(c, "400 Bad Request", "bad request\n");
        return;
    }
    char *q = strchr(path, '?');
    if (q != NULL)
        *q = '\0';
    if (strcmp(path, "/metrics") != 0) {
        reply_text(c, "404 Not Found", "only /metrics is served here\n");
        return;
    }
    if (strcmp(method, "GET") != 0) {
        reply_text(c, "405 Method Not Allowed", "GET only\n");
        return;
    }
    size_t len = 0;
    c->answer = c->m->cfg.render(c->m->cfg.ud, &len);
    if (c->answer == NULL)
        reply_text(c, "500 Internal Server Error", "out of memory\n");
    else
        reply(c, "200 OK", "text/plain; version=0.0.4; charset=utf-8", c->answer, len);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct conn *c = h->data;
    *buf = uv_buf_init(c->req + c->len, (unsigned)(sizeof c->req - 1 - c->len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    struct conn *c = s->data;
    if (nread < 0) {
        conn_close(c);
        return;
    }
    c->len += (size_t)nread;
    c->req[c->len] = '\0';
    if (strstr(c->req, "\r\n\r\n") != NULL || strstr(c->req, "\n\n") != NULL)
        answer(c);
    else if (c->len >= sizeof c->req - 1)
        reply_text(c, "431 Request Header Fields Too Large", "request too large\n");
}

/* Connections still open and not closing; the oldest of them still reading
 * its head (the list is newest first), or NULL. */
static unsigned live_conns(const struct metrics *m, struct conn **oldest_reading)
{
    unsigned live = 0;
    *oldest_reading = NULL;
    for (struct conn *c = m->conns; c != NULL; c = c->next) {
        if (c->closing)
            continue;
        live++;
        if (!c->answered)
            *oldest_reading = c;
    }
    return live;
}

/* Room for one more: the oldest connection still reading its head gives
 * its place; false when every slot is answering (the new one is closed). */
static bool make_room(struct metrics *m)
{
    struct conn *oldest;
    if (live_conns(m, &oldest) < METRICS_MAX_CONNS)
        return true;
    uv_update_time(m->cfg.loop);
    mlog_limited(m->cfg.log, &m->refused_rl, uv_now(m->cfg.loop), LOG_WARN,
                 "metrics: more than %d connections: %s", METRICS_MAX_CONNS,
                 oldest ? "closing the oldest still sending its request"
                        : "closing a new one");
    if (oldest == NULL)
        return false;
    conn_close(oldest);
    return true;
}

static void on_connection(uv_stream_t *server, int status)
{
    struct metrics *m = server->data;
    if (status < 0 || m->stopping)
        return;
    bool room = make_room(m);
    struct conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return;
    c->m = m;
    uv_tcp_init(m->cfg.loop, &c->tcp);
    uv_timer_init(m->cfg.loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->next = m->conns;
    m->conns = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c);
        return;
    }
    if (!room) {
        conn_close(c);
        return;
    }
    uv_timer_start(&c->timer, on_timeout, METRICS_HEAD_MS, 0);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static int bind_listener(struct metrics *m, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    const struct metrics_config *cfg = &m->cfg;
    int rc = strchr(cfg->host, ':') != NULL
        ? uv_ip6_addr(cfg->host, cfg->port, (struct sockaddr_in6 *)&ss)
        : uv_ip4_addr(cfg->host, cfg->port, (struct sockaddr_in *)&ss);
    if (rc == 0)
        rc = uv_tcp_bind(&m->listener, (struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&m->listener, 64, on_connection);
    if (rc != 0)
        snprintf(err, errlen, "--metrics: cannot listen on %s port %u: %s", cfg->host,
                 (unsigned)cfg->port, uv_strerror(rc));
    return rc;
}

static void on_listener_closed(uv_handle_t *h)
{
    struct metrics *m = h->data;
    m->open_handles--;
    maybe_done(m);
}

int metrics_start(struct metrics **out, const struct metrics_config *cfg, char *err,
                  size_t errlen)
{
    *out = NULL;
    struct metrics *m = calloc(1, sizeof *m);
    if (m == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    m->cfg = *cfg;
    uv_tcp_init(cfg->loop, &m->listener);
    m->listener.data = m;
    m->open_handles = 1;
    if (bind_listener(m, err, errlen) != 0) {
        m->stopping = true;     /* freed once the listener is closed */
        uv_close((uv_handle_t *)&m->listener, on_listener_closed);
        return -1;
    }
    *out = m;
    return 0;
}

void metrics_stop(struct metrics *m, void (*done)(void *ud), void *ud)
{
    m->stopping = true;
    m->done = done;
    m->done_ud = ud;
    uv_close((uv_handle_t *)&m->listener, on_listener_closed);
    for (struct conn *c = m->conns; c != NULL; c = c->next)
        conn_close(c);
}
