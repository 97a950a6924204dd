/* log.c - see log.h. */
#include "log.h"

#include <string.h>
#include <time.h>

enum { RATELIMIT_WINDOW_MS = 10000, RATELIMIT_LINES = 3 };

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int log_level_parse(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

void mlogv(struct mesh_log *lg, enum log_level level, const char *fmt, va_list ap)
{
    if (lg != NULL && level > lg->level)
        return;
    FILE *out = (lg != NULL && lg->out != NULL) ? lg->out : stderr;
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    /* One fprintf per line so lines from a forked child do not interleave. */
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    fprintf(out, "%s.%03ldZ %-5s %s\n", stamp, ts.tv_nsec / 1000000,
            level_names[level], msg);
    fflush(out);
    if (lg != NULL) {
        snprintf(lg->ring[lg->ring_next], LOG_RING_WIDTH, "%.8s %-5s %.140s", stamp + 11,
                 level_names[level], msg);
        lg->ring_next = (lg->ring_next + 1) % LOG_RING_LINES;
        if (lg->ring_count < LOG_RING_LINES)
            lg->ring_count++;
        if (lg->on_line != NULL)
            lg->on_line(lg->on_line_ud, level, msg);
    }
}

size_t log_recent(const struct mesh_log *lg, char out[][LOG_RING_WIDTH], size_t max)
{
    size_t n = lg->ring_count < max ? lg->ring_count : max;
    size_t first = (lg->ring_next + LOG_RING_LINES - n) % LOG_RING_LINES;
    for (size_t i = 0; i < n; i++)
        memcpy(out[i], lg->ring[(first + i) % LOG_RING_LINES], LOG_RING_WIDTH);
    return n;
}

void mlog(struct mesh_log *lg, enum log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mlogv(lg, level, fmt, ap);
    va_end(ap);
}

void mlog_limited(struct mesh_log *lg, struct log_ratelimit *rl, uint64_t now_ms,
                  enum log_level level, const char *fmt, ...)
{
    if (now_ms - rl->window_start_ms >= RATELIMIT_WINDOW_MS) {
        if (rl->suppressed > 0)
            mlog(lg, level, "(%u similar lines suppressed)", rl->suppressed);
        rl->window_start_ms = now_ms;
        rl->printed = 0;
        rl->suppressed = 0;
    }
    if (rl->printed >= RATELIMIT_LINES) {
        rl->suppressed++;
        return;
    }
    rl->printed++;
    va_list ap;
    va_start(ap, fmt);
    mlogv(lg, level, fmt, ap);
    va_end(ap);
}
