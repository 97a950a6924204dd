/* control.c - see control.h. */
#include "control.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct control_conn {
    struct control *ctl;
    uv_pipe_t pipe;
    char *buf;
    size_t len, cap;
    bool pending;       /* a request is waiting for its answer */
    bool closing;
    bool dispatching;   /* inside on_request: the caller loops on */
    struct control_conn *next;
};

struct control {
    struct control_config cfg;
    uv_pipe_t server;
    struct control_conn *conns;     /* newest first */
    struct control_conn *large;     /* the one receiving a large request */
    unsigned open_handles;
    bool stopping;
    void (*stop_done)(void *ud);
    void *stop_ud;
    char path[4096];
};

struct write_req {
    uv_write_t req;
    char *data;
};

static void process_lines(struct control_conn *c);

static void on_written(uv_write_t *req, int status)
{
    (void)status;
    struct write_req *wr = (struct write_req *)req;
    free(wr->data);
    free(wr);
}

static void unlink_conn(struct control *ctl, struct control_conn *c)
{
    for (struct control_conn **pp = &ctl->conns; *pp != NULL; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            return;
        }
}

/* The last handle closed after control_stop: report, then free. */
static void release_handle(struct control *ctl)
{
    if (--ctl->open_handles > 0 || !ctl->stopping)
        return;
    if (ctl->stop_done != NULL)
        ctl->stop_done(ctl->stop_ud);
    free(ctl);
}

static void on_conn_closed(uv_handle_t *h)
{
    struct control_conn *c = h->data;
    struct control *ctl = c->ctl;
    free(c->buf);
    free(c);
    release_handle(ctl);
}

static void close_conn(struct control_conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    unlink_conn(c->ctl, c);
    if (c->ctl->large == c)
        c->ctl->large = NULL;
    if (c->pending && c->ctl->cfg.on_conn_closed != NULL)
        c->ctl->cfg.on_conn_closed(c->ctl->cfg.ud, c);
    uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
}

static void send_line(struct control_conn *c, char *text, size_t n);

static void send_json(struct control_conn *c, json_t *resp)
{
    /* json_pack returns NULL on bad input (e.g. invalid UTF-8): the client
     * still gets an answer rather than a silent close. */
    if (resp == NULL)
        resp = json_pack("{s:b, s:s}", "ok", 0, "error", "internal error building the answer");
    char *text = json_dumps(resp, JSON_COMPACT);
    json_decref(resp);
    if (text == NULL) {
        close_conn(c);
        return;
    }
    send_line(c, text, strlen(text)); /* json_dumps' NUL becomes the line end */
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct control_conn *c = h->data;
    if (suggested < 65536)
        suggested = 65536;
    if (c->cap - c->len < suggested) {
        size_t cap = c->cap * 2 > c->len + suggested ? c->cap * 2 : c->len + suggested;
        char *nb = realloc(c->buf, cap);
        if (nb == NULL) {
            *buf = uv_buf_init(NULL, 0);
            return;
        }
        c->buf = nb;
        c->cap = cap;
    }
    *buf = uv_buf_init(c->buf + c->len, (unsigned)(c->cap - c->len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    struct control_conn *c = s->data;
    if (nread < 0) {
        close_conn(c);
        return;
    }
    c->len += (size_t)nread;
    if (c->len > CONTROL_MAX_REQUEST) {
        control_reply_error(c, "request larger than %d bytes", CONTROL_MAX_REQUEST);
        close_conn(c);
        return;
    }
    if (c->len > CONTROL_SMALL_REQUEST && c->ctl->large != c) {
        if (c->ctl->large != NULL) {
            control_reply_error(c, "another large request is being received: retry later");
            close_conn(c);
            return;
        }
        c->ctl->large = c;
    }
    process_lines(c);
    if (c->ctl->large == c && c->len <= CONTROL_SMALL_REQUEST)
        c->ctl->large = NULL;
}

/* Takes the first line out of the buffer, then dispatches it: the handler
 * may answer at once (re-entering control_reply), so the buffer must already
 * be consistent when it runs. */
static void handle_first_line(struct control_conn *c, char *nl)
{
    size_t linelen = (size_t)(nl - c->buf);
    json_error_t jerr;
    json_t *req = json_loadb(c->buf, linelen, 0, &jerr);
    memmove(c->buf, nl + 1, c->len - linelen - 1);
    c->len -= linelen + 1;
    c->pending = true;
    if (req == NULL || !json_is_object(req)) {
        control_reply_error(c, "malformed request: %s", req ? "not an object" : jerr.text);
        json_decref(req);
        return;
    }
    c->dispatching = true;
    c->ctl->cfg.on_request(c->ctl->cfg.ud, c, req);
    c->dispatching = false;
    json_decref(req);
}

/* Handles complete lines while no request is pending. Reading goes on
 * while one is pending (the bytes wait in the buffer, capped by
 * CONTROL_MAX_REQUEST), so a client that hangs up during a long wait is
 * noticed at once and its waiter dropped. */
static void process_lines(struct control_conn *c)
{
    while (!c->pending && !c->closing) {
        char *nl = c->len > 0 ? memchr(c->buf, '\n', c->len) : NULL;
        if (nl == NULL)
            return;
        handle_first_line(c, nl);
    }
}

static void send_line(struct control_conn *c, char *text, size_t n)
{
    struct write_req *wr = malloc(sizeof *wr);
    if (wr == NULL) {
        free(text);
        close_conn(c);
        return;
    }
    text[n] = '\n';
    wr->data = text;
    uv_buf_t buf = uv_buf_init(text, (unsigned)(n + 1));
    if (uv_write(&wr->req, (uv_stream_t *)&c->pipe, &buf, 1, on_written) != 0) {
        free(text);
        free(wr);
        close_conn(c);
    }
}

void control_reply_text(struct control_conn *c, char *json, size_t len)
{
    if (c->closing) {
        free(json);
        return;
    }
    c->pending = false;
    send_line(c, json, len);
    if (!c->dispatching)
        process_lines(c);
}

void control_reply(struct control_conn *c, json_t *resp)
{
    if (c->closing) {
        json_decref(resp);
        return;
    }
    c->pending = false;
    send_json(c, resp);
    if (!c->dispatching)
        process_lines(c);
}

/* Drops a multi-byte UTF-8 sequence cut short at the end of s (snprintf
 * truncates by bytes; JSON strings must be valid UTF-8). */
static void trim_partial_utf8(char *s)
{
    size_t len = strlen(s), i = len;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80 && len - i < 3)
        i--;
    if (i == 0 || ((unsigned char)s[i - 1] & 0x80) == 0)
        return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (len - (i - 1) < need)
        s[i - 1] = '\0';
}

void control_reply_error(struct control_conn *c, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    trim_partial_utf8(msg);
    control_reply(c, json_pack("{s:b, s:s}", "ok", 0, "error", msg));
}

/* Room for one more connection: the oldest with no request in progress
 * gives its place. False when every connection has one (the new one is
 * told and closed). */
static bool make_room(struct control *ctl)
{
    unsigned live = 0;
    struct control_conn *oldest_idle = NULL;
    for (struct control_conn *c = ctl->conns; c != NULL; c = c->next) {
        live++;
        if (!c->pending)
            oldest_idle = c;
    }
    if (live < CONTROL_MAX_CONNS)
        return true;
    mlog(ctl->cfg.log, LOG_DEBUG, "control: %u connections: %s", live,
         oldest_idle ? "closing the oldest idle one" : "refusing a new one");
    if (oldest_idle == NULL)
        return false;
    close_conn(oldest_idle);
    return true;
}

static void on_connection(uv_stream_t *server, int status)
{
    struct control *ctl = server->data;
    if (status != 0)
        return;
    bool room = make_room(ctl);
    struct control_conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return;
    c->ctl = ctl;
    uv_pipe_init(ctl->cfg.loop, &c->pipe, 0);
    c->pipe.data = c;
    ctl->open_handles++;
    if (uv_accept(server, (uv_stream_t *)&c->pipe) != 0) {
        c->closing = true;
        uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
        return;
    }
    c->next = ctl->conns;
    ctl->conns = c;
    if (!room) {
        control_reply_error(c, "the node has %d control connections busy: retry later",
                            CONTROL_MAX_CONNS);
        close_conn(c);
        return;
    }
    uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
}

static void on_server_closed(uv_handle_t *h)
{
    release_handle(h->data);
}

static void free_on_close(uv_handle_t *h)
{
    free(h->data);
}

int control_start(struct control **out, const struct control_config *cfg,
                  char *err, size_t errlen)
{
    struct sockaddr_un addr;
    if (strlen(cfg->path) >= sizeof addr.sun_path) {
        /* libuv would silently bind a truncated path. */
        snprintf(err, errlen, "control socket path %s is longer than %zu bytes: "
                 "use a shorter --data-dir", cfg->path, sizeof addr.sun_path - 1);
        return -1;
    }
    struct control *ctl = calloc(1, sizeof *ctl);
    if (ctl == NULL)
        return -1;
    ctl->cfg = *cfg;
    snprintf(ctl->path, sizeof ctl->path, "%s", cfg->path);
    ctl->cfg.path = ctl->path;
    uv_pipe_init(cfg->loop, &ctl->server, 0);
    ctl->server.data = ctl;
    ctl->open_handles = 1;
    /* We hold the data dir lock, so a socket file left here is stale. */
    unlink(ctl->path);
    /* Create the socket 0600 from the start: no window where others connect. */
    mode_t old = umask(0177);
    int rc = uv_pipe_bind(&ctl->server, ctl->path);
    umask(old);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&ctl->server, 64, on_connection);
    if (rc != 0) {
        snprintf(err, errlen, "control socket %s: %s", ctl->path, uv_strerror(rc));
        uv_close((uv_handle_t *)&ctl->server, free_on_close);
        *out = NULL;
        return -1;
    }
    *out = ctl;
    return 0;
}

void control_stop(struct control *ctl, void (*done)(void *ud), void *ud)
{
    ctl->stopping = true;
    ctl->stop_done = done;
    ctl->stop_ud = ud;
    while (ctl->conns != NULL)
        close_conn(ctl->conns);
    uv_close((uv_handle_t *)&ctl->server, on_server_closed);
    unlink(ctl->path);
}

void *control_conn_ud(const struct control_conn *c)
{
    return c->ctl->cfg.ud;
}
