/* fuzz_snapshot.c - queue_restore on hostile bytes (Raft snapshots).
 * A failed restore must leave the queue empty; a successful one must
 * snapshot back to the same bytes and keep accepting commands. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue.h"

static void exercise(struct queue *q)
{
    for (size_t i = 0; i < queue_batch_count(q); i++) {
        struct batch_info info;
        if (queue_batch_at(q, i, &info) != 0)
            abort();
        uint64_t pending = queue_next_pending(q, info.id, 0);
        if (pending > info.total || queue_done_prefix(q, info.id, 0) != pending)
            abort();
        if (pending < info.total && queue_is_done(q, info.id, pending))
            abort();
        struct qcmd cancel = {.type = QCMD_CANCEL, .batch_id = info.id};
        char err[128];
        queue_apply(q, &cancel, NULL, err, sizeof err);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct queue *q = queue_new();
    if (q == NULL)
        return 0;
    if (queue_restore(q, data, size) != 0) {
        if (queue_batch_count(q) != 0 || queue_next_batch_id(q) != 1)
            abort();
        queue_free(q);
        return 0;
    }
    uint8_t *again;
    size_t len;
    if (queue_snapshot(q, &again, &len) != 0)
        abort();
    /* Earlier formats restore, and are written again as the current. */
    bool current = data[3] == QUEUE_SNAPSHOT_FORMAT;
    if (current && (len != size || memcmp(again, data, size) != 0))
        abort();
    free(again);
    exercise(q);
    queue_free(q);
    return 0;
}
