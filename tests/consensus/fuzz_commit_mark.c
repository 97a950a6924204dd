/* fuzz_commit_mark.c - commit_mark_open on hostile `committed` files.
 * Whatever the bytes, opening either reads a mark or refuses with a
 * reason naming the file; a mark that opens takes a higher index and
 * reads it back after a reopen. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commit_mark.h"

static char dir[64];

static void remove_dir(void)
{
    rmdir(dir);
}

static void write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (dir[0] == '\0') {
        snprintf(dir, sizeof dir, "/tmp/mesh-fuzz-mark-XXXXXX");
        if (mkdtemp(dir) == NULL)
            abort();
        atexit(remove_dir);
    }
    char path[128], err[512];
    snprintf(path, sizeof path, "%s/%s", dir, COMMIT_MARK_FILE);
    write_file(path, data, size);
    struct commit_mark m;
    if (commit_mark_open(&m, dir, err, sizeof err) != 0) {
        if (strstr(err, path) == NULL)
            abort();
        unlink(path);
        return 0;
    }
    uint64_t next = m.index + 1;
    if (next != 0 && (commit_mark_record(&m, next, err, sizeof err) != 0 || m.index != next))
        abort();
    commit_mark_close(&m);
    if (next != 0 && (commit_mark_open(&m, dir, err, sizeof err) != 0 || m.index != next))
        abort();
    commit_mark_close(&m);
    unlink(path);
    return 0;
}
