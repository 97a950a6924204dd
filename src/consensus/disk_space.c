/* disk_space.c - see disk_space.h. */
#include "disk_space.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

enum { MIB = 1 << 20 };

static uint64_t fixed_need(void)
{
    return (uint64_t)DISK_SEGMENT_BYTES * DISK_SEGMENTS_AHEAD + DISK_SLACK_BYTES;
}

void disk_space_init(struct disk_space *d, const char *dir)
{
    memset(d, 0, sizeof *d);
    snprintf(d->dir, sizeof d->dir, "%s", dir);
    d->need_bytes = fixed_need();
    d->free_bytes = UINT64_MAX;
}

bool disk_space_check(struct disk_space *d)
{
    struct statvfs sv;
    if (statvfs(d->dir, &sv) != 0)
        return false;
    d->free_bytes = (uint64_t)sv.f_bavail * sv.f_frsize;
    /* After raft itself hit ENOSPC, ask for a segment more before
     * writing again, so the figures that misled once do not flap. */
    d->need_bytes = fixed_need() + d->snapshot_bytes +
                    (d->raft_refused ? DISK_SEGMENT_BYTES : 0);
    bool full = d->free_bytes < d->need_bytes;
    if (!full)
        d->raft_refused = false;
    bool changed = full != d->full;
    d->full = full;
    return changed;
}

/* raft_uv names snapshots snapshot-TERM-INDEX-TIMESTAMP (+ ".meta"): the
 * biggest data file stands for the next one. */
void disk_space_scan(struct disk_space *d)
{
    DIR *dir = opendir(d->dir);
    if (dir == NULL)
        return;
    uint64_t biggest = 0;
    struct dirent *e;
    char path[4400];
    while ((e = readdir(dir)) != NULL) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "snapshot-", 9) != 0 ||
            (len > 5 && strcmp(e->d_name + len - 5, ".meta") == 0))
            continue;
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", d->dir, e->d_name);
        if (stat(path, &st) == 0 && (uint64_t)st.st_size > biggest)
            biggest = (uint64_t)st.st_size;
    }
    closedir(dir);
    d->snapshot_bytes = biggest;
}

bool disk_space_mark_full(struct disk_space *d)
{
    bool changed = !d->full;
    d->full = true;
    d->raft_refused = true;
    return changed;
}

void disk_space_describe(const struct disk_space *d, char *out, size_t outlen)
{
    snprintf(out, outlen, "disk full: %llu MiB free in %s (writes resume at %llu MiB)",
             (unsigned long long)(d->free_bytes == UINT64_MAX ? 0 : d->free_bytes / MIB),
             d->dir, (unsigned long long)((d->need_bytes + MIB - 1) / MIB));
}
