/* tally.c - the numbers this node's workers have factored over its
 * whole life, not only since it started: kept in DATA_DIR/factored (one
 * decimal line), read at start, written every few seconds while it changes
 * and at shutdown. The nodes' DONE column, `status --json` nodes[].done and
 * /metrics mesh_node_numbers_done read it, so a restart does not reset
 * them (doc/DESIGN.md, "Dashboard and CLI"). A missing or unreadable file
 * counts from 0: a tally is a figure shown, never a reason not to start. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tally.h"

enum { TALLY_SAVE_MS = 5000 };

static int tally_path(const struct tally *n, char *out, size_t outlen, const char *suffix)
{
    int k = snprintf(out, outlen, "%s/factored%s", n->data_dir, suffix);
    return k < 0 || (size_t)k >= outlen ? -1 : 0;
}

void node_tally_load(struct tally *n, uint64_t *done)
{
    char path[4200], line[32];
    if (tally_path(n, path, sizeof path, "") != 0)
        return;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    char *end = NULL;
    errno = 0;
    unsigned long long v = fgets(line, sizeof line, f) ? strtoull(line, &end, 10) : 0;
    fclose(f);
    if (end != NULL && end != line && (*end == '\n' || *end == '\0') && errno == 0) {
        *done = v;
        n->saved = v;
    } else {
        mlog(n->log, LOG_WARN, "%s is damaged: counting this node's numbers from 0", path);
    }
}

/* Written to a temporary file and renamed: a crash mid-write leaves the
 * previous count, never a torn one. */
void node_tally_save(struct tally *n, uint64_t done, uint64_t t, bool now)
{
    if (done == n->saved || (!now && t - n->saved_ms < TALLY_SAVE_MS))
        return;
    char path[4200], tmp[4210];
    if (tally_path(n, path, sizeof path, "") != 0 ||
        tally_path(n, tmp, sizeof tmp, ".tmp") != 0)
        return;
    FILE *f = fopen(tmp, "w");
    bool ok = f != NULL && fprintf(f, "%" PRIu64 "\n", done) > 0;
    ok = f != NULL && fclose(f) == 0 && ok;
    if (ok && rename(tmp, path) == 0) {
        n->saved = done;
        n->saved_ms = t;
    } else {
        remove(tmp);
        n->saved_ms = t;   /* retried later, not every tick */
    }
}
