/* log.h - leveled log lines for a node, with per-cause rate limiting.
 *
 * A logger is an object owned by the node context (no global state): every
 * subsystem receives a pointer to it in its config. One line per event, to
 * stderr or to --log-file, prefixed with a UTC timestamp and the level. */
#ifndef MESH_LOG_H
#define MESH_LOG_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

enum { LOG_RING_LINES = 8, LOG_RING_WIDTH = 160 };

struct mesh_log {
    FILE *out;              /* stderr when NULL */
    enum log_level level;   /* lines above this level are dropped */
    /* The latest lines, kept for the dashboard's log panel. */
    char ring[LOG_RING_LINES][LOG_RING_WIDTH];
    size_t ring_next;       /* slot the next line goes to */
    size_t ring_count;
    /* Told every line written (msg without stamp and level), e.g. to turn
     * warnings into events; NULL: nobody. */
    void (*on_line)(void *ud, enum log_level level, const char *msg);
    void *on_line_ud;
};

/* Copies the kept lines, oldest first, into out; returns how many. */
size_t log_recent(const struct mesh_log *lg, char out[][LOG_RING_WIDTH], size_t max);

/* Per-cause limiter: hostile peers must not be able to flood the log.
 * Zero-initialise; one per cause (e.g. per listener for "bad handshake"). */
struct log_ratelimit {
    uint64_t window_start_ms;
    unsigned printed;       /* lines printed in the current window */
    unsigned suppressed;    /* lines dropped in the current window */
};

/* Parses "error", "warn", "info", "debug"; returns -1 on anything else. */
int log_level_parse(const char *name);

void mlog(struct mesh_log *lg, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void mlogv(struct mesh_log *lg, enum log_level level, const char *fmt, va_list ap);

/* Like mlog, but at most a few lines per 10 s window for this cause; when a
 * window had dropped lines, the next printed line says how many. */
void mlog_limited(struct mesh_log *lg, struct log_ratelimit *rl, uint64_t now_ms,
                  enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
