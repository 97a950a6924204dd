/* fuzz_entry.c - entry_decode and the fsm's apply on hostile log entries.
 * Whatever decodes must re-encode to the very same bytes (one envelope per
 * command). Whatever the bytes, fsm apply must return 0 to raft (non-zero
 * would stall the log for good) and report exactly one outcome, refused
 * when the entry does not decode. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"
#include "fsm.h"

struct seen {
    int calls;
    int rc;
};

static void on_applied(void *ud, const struct fsm_outcome *o)
{
    struct seen *s = ud;
    s->calls++;
    s->rc = o->rc;
    if (o->rc != 0 && (o->err == NULL || o->err[0] == '\0'))
        abort();
}

static void check_roundtrip(const uint8_t *data, size_t size, const struct qcmd *c)
{
    void *again;
    size_t len;
    if (entry_encode(c, &again, &len) != 0)
        abort();
    /* A command of the previous format is written again as the current. */
    bool current = data[ENTRY_HEADER_BYTES] == QCMD_FORMAT;
    if (current && (len != size || memcmp(again, data, size) != 0))
        abort();
    raft_free(again);
}

static void apply_through_fsm(const uint8_t *data, size_t size, bool decodes)
{
    struct queue *q = queue_new();
    struct seen seen = {0};
    struct fsm_config cfg = {.queue = &q, .ud = &seen, .on_applied = on_applied};
    struct raft_fsm fsm;
    if (q == NULL || fsm_init(&fsm, &cfg) != 0)
        abort();
    struct raft_buffer buf = {.base = (void *)data, .len = size};
    void *result = &seen;
    if (fsm.apply(&fsm, &buf, &result) != 0 || result != NULL || seen.calls != 1)
        abort();
    if (!decodes && seen.rc != -1)
        abort();
    fsm_close(&fsm);
    queue_free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct qcmd c;
    bool decodes = entry_decode(data, size, &c) == 0;
    if (decodes) {
        check_roundtrip(data, size, &c);
        qcmd_free(&c);
    }
    apply_through_fsm(data, size, decodes);
    return 0;
}
