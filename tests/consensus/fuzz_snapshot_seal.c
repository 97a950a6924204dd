/* fuzz_snapshot_seal.c - the fsm's restore on hostile snapshot files: the seal
 * (snapshot_seal.h), then the queue's decoder. Whatever the bytes, restore
 * either takes them or refuses them with a reason (raft keeps the old
 * state); a seal that holds re-seals to the same header. The bytes are
 * also restored under a fresh, valid seal, so the queue's decoder is
 * reached through the seal as a leader's snapshot would reach it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fsm.h"
#include "snapshot_seal.h"

struct seen {
    int refused;
};

static void on_refused(void *ud, const char *why)
{
    struct seen *s = ud;
    if (why == NULL || why[0] == '\0')
        abort();
    s->refused++;
}

static void restore(const uint8_t *data, size_t size)
{
    struct queue *q = queue_new();
    struct seen seen = {0};
    struct fsm_config cfg = {.queue = &q, .ud = &seen, .on_refused = on_refused};
    struct raft_fsm fsm;
    if (q == NULL || fsm_init(&fsm, &cfg) != 0)
        abort();
    struct raft_buffer buf = {.base = raft_malloc(size + 1), .len = size};
    if (buf.base == NULL)
        abort();
    memcpy(buf.base, data, size);
    int rc = fsm.restore(&fsm, &buf);
    if (rc != 0) {
        if (seen.refused != 1)
            abort();
        raft_free(buf.base);  /* raft's job on failure */
    }
    fsm_close(&fsm);
    queue_free(q);
}

static void check_seal(const uint8_t *data, size_t size)
{
    const uint8_t *payload;
    size_t len;
    char err[256];
    if (snapshot_seal_open(data, size, &payload, &len, err, sizeof err) != SNAPSHOT_SEALED)
        return;
    uint8_t header[SNAPSHOT_SEAL_BYTES];
    snapshot_seal(payload, len, header);
    if (len + SNAPSHOT_SEAL_BYTES != size || memcmp(header, data, sizeof header) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_seal(data, size);
    restore(data, size);
    uint8_t *sealed = malloc(size + SNAPSHOT_SEAL_BYTES);
    if (sealed == NULL)
        abort();
    snapshot_seal(data, size, sealed);
    memcpy(sealed + SNAPSHOT_SEAL_BYTES, data, size);
    restore(sealed, size + SNAPSHOT_SEAL_BYTES);
    free(sealed);
    return 0;
}
