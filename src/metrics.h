/* metrics.h - the --metrics endpoint: Prometheus text exposition over a
 * minimal HTTP/1.0 server on the node's uv loop (metrics.c), and the text
 * itself, built from the same view of the mesh as `status --json` and the
 * dashboard (metrics_text.c).
 *
 * Why a hand-written server and not libmicrohttpd: libmicrohttpd polls in
 * a thread of its own (or needs its select loop driven from outside), and
 * the view lives on the node's loop thread; a thread would need locks
 * around the node's state for one GET. What is served is tiny: GET
 * /metrics only, requests of at most 4 KiB read within 5 s, at most 16
 * connections at once, every answer closes its connection. */
#ifndef MESH_METRICS_H
#define MESH_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "events.h"
#include "log.h"
#include "view.h"

struct metrics;

struct metrics_config {
    uv_loop_t *loop;
    struct mesh_log *log;
    const char *host;        /* numeric IPv4 or IPv6 address */
    uint16_t port;
    void *ud;
    /* The exposition text (malloc'd, taken over), or NULL (answered 500). */
    char *(*render)(void *ud, size_t *len);
};

/* Listens; 0, or -1 with why in err (address in use, not local...). */
int metrics_start(struct metrics **out, const struct metrics_config *cfg, char *err,
                  size_t errlen);
/* Closes the listener and every connection, then calls done(ud). */
void metrics_stop(struct metrics *m, void (*done)(void *ud), void *ud);

/* What the text adds to the view: this process and the event counts. */
struct metrics_process {
    double start_time_s;     /* Unix time */
    double cpu_s;
    uint64_t rss_bytes;
    unsigned open_fds;
    double uptime_s;
    const char *version;
    const uint64_t *events_by_kind;   /* MESH_EV_KIND_END counters */
    uint64_t raft_stalls;    /* followers found stuck while leading (stall_watch.h) */
    uint64_t raft_clamped;   /* libraft follower reports lowered (append_clamp.h) */
};

/* The Prometheus text (version 0.0.4) of the view; malloc'd, NULL when
 * out of memory. */
char *metrics_text(const struct mesh_view *s, const struct metrics_process *p,
                   size_t *len);

#endif
