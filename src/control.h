/* control.h - the node's local control socket (unix, mode 0600).
 *
 * Newline-delimited JSON: the CLI and the dashboard send one request object
 * per line and read one response object per line. A connection carries one
 * request at a time; the node may answer later (`results --wait`), and
 * reading from that connection pauses until it has. Only the owner of the
 * data dir can connect: the socket is created 0600 inside it. */
#ifndef MESH_CONTROL_H
#define MESH_CONTROL_H

#include <jansson.h>
#include <stddef.h>
#include <uv.h>

#include "log.h"

/* A request is one line. Every request but a list submit is small: past
 * CONTROL_SMALL_REQUEST bytes only one connection at a time may go on (up
 * to CONTROL_MAX_REQUEST, which a 10M-number list submit fits), so
 * connections cannot each buffer the large size. Past CONTROL_MAX_CONNS
 * connections a new one takes the place of the oldest with no request in
 * progress: file descriptors stay for the peer links, and a client that
 * connects and never sends locks nobody out. */
enum {
    CONTROL_MAX_REQUEST = 320 << 20,
    CONTROL_SMALL_REQUEST = 64 << 10,
    CONTROL_MAX_CONNS = 64,
};

struct control;
struct control_conn;

struct control_config {
    uv_loop_t *loop;
    struct mesh_log *log;
    const char *path;
    void *ud;
    /* req is borrowed; answer now or later with control_reply(). */
    void (*on_request)(void *ud, struct control_conn *c, json_t *req);
    /* The client went away: forget c (a pending request is dropped). */
    void (*on_conn_closed)(void *ud, struct control_conn *c);
};

int control_start(struct control **out, const struct control_config *cfg,
                  char *err, size_t errlen);

/* Sends resp (reference stolen) and resumes reading the connection. */
void control_reply(struct control_conn *c, json_t *resp);
/* The same with an answer already serialised: json (malloc'd, taken over,
 * one spare byte past len for the line end) is one JSON object. */
void control_reply_text(struct control_conn *c, char *json, size_t len);

/* Convenience: {"ok": false, "error": msg}. */
void control_reply_error(struct control_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Closes the listener and every connection, removes the socket file, then
 * calls done(ud) and frees ctl. */
void control_stop(struct control *ctl, void (*done)(void *ud), void *ud);

/* The ud of the control the connection belongs to. */
void *control_conn_ud(const struct control_conn *c);

#endif
