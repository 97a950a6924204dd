/* storage_guard.h - (consensus-internal) the raft dir's health: damage
 * found at start, free space while running, raft's I/O errors.
 *
 * - At start: a corrupt-* file (libraft 0.15's name for a segment it gave
 *   up on) or a log that ends below the committed mark (commit_mark.h)
 *   refuse the start, with a message naming the damage and the ways out.
 * - Running: the highest committed index is recorded every
 *   STORAGE_MARK_MS (when it moved: a 32-byte pwrite + fdatasync); free
 *   space is checked every STORAGE_SPACE_MS and before writes
 *   (disk_space.h); a write is refused while the disk is full. Becoming
 *   full is a warning in the log (the node turns warnings into events).
 * - raft's I/O errors are logged with raft's own message, rate-limited. */
#ifndef MESH_CONSENSUS_STORAGE_GUARD_H
#define MESH_CONSENSUS_STORAGE_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "log.h"

enum {
    STORAGE_MARK_MS = 250,      /* at most 4 fdatasyncs a second */
    STORAGE_SPACE_MS = 1000,    /* statvfs + a readdir of the raft dir */
    STORAGE_RECHECK_MS = 100,   /* a write re-reads statvfs when older than this */
};

struct storage_guard_config {
    uv_loop_t *loop;
    struct mesh_log *log;
    const char *dir;
    void *ud;
    /* The highest index this node knows committed (0 while not started). */
    uint64_t (*committed)(void *ud);
    /* The disk became full (true) or has room again (false). May be NULL. */
    void (*on_full)(void *ud, bool full);
};

struct storage_guard;

/* Reads the committed mark. -1 (err says why: the mark file is damaged or
 * cannot be opened) refuses the start. */
int storage_guard_open(struct storage_guard **out, const struct storage_guard_config *cfg,
                       char *err, size_t errlen);
/* Before raft loads the dir: -1 with why when a corrupt-* file is there. */
int storage_guard_check_files(const struct storage_guard *g, char *why, size_t len);
/* After raft loaded the dir: -1 with why when its log ends below the mark. */
int storage_guard_check_log(const struct storage_guard *g, uint64_t last_index, char *why,
                            size_t len);
/* raft_start failed because the fsm refused the stored snapshot (why):
 * the whole message for the log, with the ways out. */
void storage_guard_describe_snapshot(const struct storage_guard *g, const char *why,
                                     char *out, size_t len);
/* Both checks passed: record the committed index from now on. */
void storage_guard_start(struct storage_guard *g);
/* True (err: "disk full: N MiB free in DIR ...") while writes must be refused. */
bool storage_guard_refuses(struct storage_guard *g, char *err, size_t errlen);
/* raft reported a failed write (what: "write", "barrier"...). */
void storage_guard_on_io_error(struct storage_guard *g, bool no_space, const char *what,
                               const char *raft_msg);
/* Records the committed index one last time, stops the timer and frees g
 * (once its handle is closed). Call before raft's state goes away. */
void storage_guard_close(struct storage_guard *g);

#endif
