/* storage_guard.c - see storage_guard.h. */
#include "storage_guard.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commit_mark.h"
#include "disk_space.h"
#include "errbuf.h"

struct storage_guard {
    struct storage_guard_config cfg;
    char dir[4096];
    struct commit_mark mark;
    struct disk_space space;
    uv_timer_t timer;
    uv_fs_t fs;                 /* the mark's write, then its fdatasync (thread pool) */
    uint8_t slot[COMMIT_MARK_SLOT_BYTES];
    uint64_t writing;           /* the index being written; 0: none */
    bool recording, closing, timer_closed;
    unsigned ticks;
    uint64_t space_checked_ms;
    struct log_ratelimit io_errors, mark_errors;
};

/* The ways out of a refused start, the same for every kind of damage. */
static const char way_out[] =
    "Ways out: if other members of the cluster hold the log, move that directory away "
    "and start again: this node joins afresh and re-replicates from them; if this node "
    "holds the only copy, move any corrupt-* file out of that directory and delete its "
    COMMIT_MARK_FILE " file to start from what is left, losing the damaged entries "
    "(then `mesh recover --force` if the cluster lost its majority)";

static void say_space(struct storage_guard *g)
{
    if (g->cfg.on_full != NULL)
        g->cfg.on_full(g->cfg.ud, g->space.full);
    char msg[4400];
    if (g->space.full) {
        disk_space_describe(&g->space, msg, sizeof msg);
        mlog(g->cfg.log, LOG_WARN, "%s: submits and other writes are refused until "
             "there is room", msg);
    } else {
        mlog(g->cfg.log, LOG_INFO, "disk has room again: %llu MiB free in %s, writes "
             "accepted", (unsigned long long)(g->space.free_bytes >> 20), g->dir);
    }
}

static void check_space(struct storage_guard *g, bool scan)
{
    if (scan)
        disk_space_scan(&g->space);
    g->space_checked_ms = uv_now(g->cfg.loop);
    if (disk_space_check(&g->space))
        say_space(g);
}

static void maybe_free(struct storage_guard *g)
{
    if (!g->closing || !g->timer_closed || g->writing != 0)
        return;
    commit_mark_close(&g->mark);
    free(g);
}

static void mark_failed(struct storage_guard *g, ssize_t result)
{
    mlog_limited(g->cfg.log, &g->mark_errors, uv_now(g->cfg.loop), LOG_WARN,
                 "cannot record the committed index in %s: %s", g->mark.path,
                 uv_strerror((int)result));
}

static void on_mark_synced(uv_fs_t *req)
{
    struct storage_guard *g = req->data;
    ssize_t rc = req->result;
    uv_fs_req_cleanup(req);
    if (rc < 0)
        mark_failed(g, rc);
    else
        commit_mark_written(&g->mark, g->writing);
    g->writing = 0;
    maybe_free(g);
}

static void on_mark_written(uv_fs_t *req)
{
    struct storage_guard *g = req->data;
    ssize_t rc = req->result;
    uv_fs_req_cleanup(req);
    if (rc == (ssize_t)sizeof g->slot &&
        uv_fs_fdatasync(g->cfg.loop, &g->fs, g->mark.fd, on_mark_synced) == 0)
        return;
    mark_failed(g, rc < 0 ? rc : UV_EIO);
    g->writing = 0;
    maybe_free(g);
}

/* On the thread pool: an fdatasync can take a slow disk tens of ms. One
 * write at a time; a tick that finds one going skips. */
static void record_mark(struct storage_guard *g)
{
    if (!g->recording || g->closing || g->writing != 0)
        return;
    int64_t at;
    uint64_t committed = g->cfg.committed(g->cfg.ud);
    if (commit_mark_prepare(&g->mark, committed, g->slot, &at) != 0)
        return;
    g->writing = committed;
    g->fs.data = g;
    uv_buf_t b = uv_buf_init((char *)g->slot, sizeof g->slot);
    if (uv_fs_write(g->cfg.loop, &g->fs, g->mark.fd, &b, 1, at, on_mark_written) != 0)
        g->writing = 0;
}

static void on_tick(uv_timer_t *t)
{
    struct storage_guard *g = t->data;
    record_mark(g);
    if (++g->ticks % (STORAGE_SPACE_MS / STORAGE_MARK_MS) == 0)
        check_space(g, true);
}

int storage_guard_open(struct storage_guard **out, const struct storage_guard_config *cfg,
                       char *err, size_t errlen)
{
    struct storage_guard *g = calloc(1, sizeof *g);
    if (g == NULL) {
        set_err(err, errlen, "out of memory");
        return -1;
    }
    g->cfg = *cfg;
    snprintf(g->dir, sizeof g->dir, "%s", cfg->dir);
    if (commit_mark_open(&g->mark, g->dir, err, errlen) != 0) {
        free(g);
        return -1;
    }
    disk_space_init(&g->space, g->dir);
    uv_timer_init(cfg->loop, &g->timer);
    g->timer.data = g;
    check_space(g, true);
    uv_timer_start(&g->timer, on_tick, STORAGE_MARK_MS, STORAGE_MARK_MS);
    *out = g;
    return 0;
}

int storage_guard_check_files(const struct storage_guard *g, char *why, size_t len)
{
    DIR *d = opendir(g->dir);
    if (d == NULL)
        return 0;
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL)
        if (strncmp(e->d_name, "corrupt-", 8) == 0) {
            set_err(why, len, "the raft state in %s is damaged: raft set aside a segment "
                    "it could not read as %s/%s, so entries this node committed may be "
                    "missing. Refusing to start on it (that would lose committed batches "
                    "and issue their ids again). %s", g->dir, g->dir, e->d_name, way_out);
            rc = -1;
        }
    closedir(d);
    return rc;
}

int storage_guard_check_log(const struct storage_guard *g, uint64_t last_index, char *why,
                            size_t len)
{
    if (last_index >= g->mark.index)
        return 0;
    set_err(why, len, "the raft state in %s is damaged: its log ends at index %llu but "
            "index %llu was committed (%s/%s); raft dropped entries it could not read. "
            "Refusing to start on it (that would lose committed batches and issue their "
            "ids again). %s", g->dir, (unsigned long long)last_index,
            (unsigned long long)g->mark.index, g->dir, COMMIT_MARK_FILE, way_out);
    return -1;
}

void storage_guard_describe_snapshot(const struct storage_guard *g, const char *why,
                                     char *out, size_t len)
{
    set_err(out, len, "the raft state in %s is damaged: its snapshot was refused (%s). "
            "Refusing to restore it (that would serve wrong results). %s", g->dir, why,
            way_out);
}

void storage_guard_start(struct storage_guard *g)
{
    g->recording = true;
}

bool storage_guard_refuses(struct storage_guard *g, char *err, size_t errlen)
{
    if (g == NULL)
        return false;
    if (uv_now(g->cfg.loop) - g->space_checked_ms >= STORAGE_RECHECK_MS)
        check_space(g, false);
    if (!g->space.full)
        return false;
    char msg[4400];
    disk_space_describe(&g->space, msg, sizeof msg);
    set_err(err, errlen, "%s", msg);
    return true;
}

void storage_guard_on_io_error(struct storage_guard *g, bool no_space, const char *what,
                               const char *raft_msg)
{
    mlog_limited(g->cfg.log, &g->io_errors, uv_now(g->cfg.loop), LOG_WARN,
                 "raft could not %s in %s: %s", what, g->dir,
                 raft_msg != NULL && raft_msg[0] != '\0' ? raft_msg : "(no reason given)");
    check_space(g, false);
    if (no_space && !g->space.full && disk_space_mark_full(&g->space))
        say_space(g);
}

static void on_timer_closed(uv_handle_t *h)
{
    struct storage_guard *g = h->data;
    g->timer_closed = true;
    maybe_free(g);
}

void storage_guard_close(struct storage_guard *g)
{
    if (g == NULL)
        return;
    /* The last mark, written here and now unless a write is still going. */
    char err[4400];
    if (g->recording && g->writing == 0 &&
        commit_mark_record(&g->mark, g->cfg.committed(g->cfg.ud), err, sizeof err) != 0)
        mlog(g->cfg.log, LOG_WARN, "%s", err);
    g->closing = true;
    uv_close((uv_handle_t *)&g->timer, on_timer_closed);
}
