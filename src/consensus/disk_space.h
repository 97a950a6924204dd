/* disk_space.h - (consensus-internal) is there room for raft to write?
 *
 * libraft 0.15 on a full disk: once its preallocated open segments were
 * used the process aborted (a double free in its failed-append path, see
 * doc/DESIGN.md "Damaged or full storage"), and on a tiny disk every write
 * failed with "unknown error". So the node refuses writes before raft can
 * run out: raft needs room for the segments it preallocates ahead
 * (UV__TARGET_POOL_SIZE = 2 of 8 MiB each in 0.15) and for the next
 * snapshot (about the size of the newest one), plus slack. */
#ifndef MESH_CONSENSUS_DISK_SPACE_H
#define MESH_CONSENSUS_DISK_SPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    DISK_SEGMENT_BYTES = 8 << 20,   /* raft_uv 0.15's segment size (UV__MAX_SEGMENT_SIZE) */
    DISK_SEGMENTS_AHEAD = 2,        /* ... and how many it prepares ahead */
    DISK_SLACK_BYTES = 4 << 20,     /* metadata, the mark, a node log line or two */
};

struct disk_space {
    char dir[4096];
    uint64_t free_bytes;        /* for unprivileged users (f_bavail): the cautious figure */
    uint64_t need_bytes;        /* what raft may still want: below it, writes are refused */
    uint64_t snapshot_bytes;    /* the newest snapshot's size, from the last scan */
    bool full;
    bool raft_refused;          /* raft hit ENOSPC: full until a segment more is free */
};

void disk_space_init(struct disk_space *d, const char *dir);
/* statvfs on the dir (cheap: call it often). Returns true when `full`
 * changed. A failed statvfs leaves the last figures. */
bool disk_space_check(struct disk_space *d);
/* Scans the dir for the newest snapshot's size (a readdir: once a second). */
void disk_space_scan(struct disk_space *d);
/* raft said ENOSPC although the figures looked fine (quotas, another
 * writer): full until a check finds room again. Returns true if changed. */
bool disk_space_mark_full(struct disk_space *d);
/* "disk full: N MiB free in DIR (writes resume at M MiB)". */
void disk_space_describe(const struct disk_space *d, char *out, size_t outlen);

#endif
