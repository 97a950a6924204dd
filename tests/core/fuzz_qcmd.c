/* fuzz_qcmd.c - qcmd_decode on hostile bytes (Raft log entries).
 * Whatever decodes must re-encode to the very same bytes (the format has
 * one encoding per command) and must apply without crashing. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue.h"

static void apply_to_fresh_queue(const struct qcmd *c)
{
    struct queue *q = queue_new();
    if (q == NULL)
        return;
    /* A batch to complete or cancel, so those paths run past the lookup. */
    struct qcmd submit;
    memset(&submit, 0, sizeof submit);
    submit.type = QCMD_SUBMIT;
    char err[128];
    if (batch_range_init(&submit.spec, "1", 1, 3000, err, sizeof err) == 0)
        queue_apply(q, &submit, NULL, err, sizeof err);
    qcmd_free(&submit);
    int applied = queue_apply(q, c, NULL, err, sizeof err);
    if (c->type == QCMD_LIST_PART && applied == 0) {
        /* Assemble the staged part into a batch, as a final SUBMIT would
         * (a fresh queue stages a part that applies: offset 0 or append). */
        struct qcmd fin = {.type = QCMD_SUBMIT, .upload_id = c->upload_id};
        fin.spec = (struct batch_spec){.kind = BATCH_LIST, .list_len = c->part_len,
                                       .count = batch_list_count(c->part, c->part_len)};
        if (fin.spec.count <= BATCH_MAX_COUNT && queue_apply(q, &fin, NULL, err, sizeof err) != 0)
            abort();
    }
    uint8_t *snap;
    size_t len;
    if (queue_snapshot(q, &snap, &len) == 0)
        free(snap);
    queue_free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct qcmd c;
    if (qcmd_decode(data, size, &c) != 0)
        return 0;
    uint8_t *again;
    size_t len;
    if (qcmd_encode(&c, &again, &len) != 0)
        abort();
    /* Earlier formats (3, 2) re-encode as the current one. */
    bool current = data[0] == QCMD_FORMAT;
    if (current && (len != size || memcmp(again, data, size) != 0))
        abort();
    free(again);
    apply_to_fresh_queue(&c);
    qcmd_free(&c);
    return 0;
}
