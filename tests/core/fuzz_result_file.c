/* fuzz_result_file.c - loading a finished batch's results file (result_file.c)
 * on hostile bytes. The input is a 4-byte prefix (the manifest's done and
 * unfactored counts, u16 each) then the file. The file's own hash goes in
 * the manifest, so the loader's hash check passes and its layout checks
 * (header, page bases, canonical offsets, every item) face the bytes: a
 * file that loads must read back as exactly done results, each a valid
 * text, and snapshot to the same manifest; one that fails leaves the batch
 * waiting with nothing read as done.
 * A file whose header counts more than one segment's numbers is instead a
 * candidate for rebuilding a segment (spill_segments.c): a running batch
 * of that count waits for its segment 0, named by a hash no bytes have and
 * a length of the segment's fixed part plus the prefix's first u16; the
 * rebuild reads the file's header and page bases, and must make nothing. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <unistd.h>

#include "batch.h"
#include "queue.h"
#include "queue_codec.h"

enum { MAX_COUNT = 1 << 16, MAX_SEG_COUNT = 1 << 18, SEG_FIXED = 270880 };

static char dir[] = "/tmp/mesh-fuzz-rf-XXXXXX";

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void put_head(struct qbuf *b, const struct batch_spec *spec, uint8_t state, int *rc)
{
    qbuf_put_bytes(b, "MQS", 3);
    qbuf_put_u8(b, QUEUE_SNAPSHOT_FORMAT);
    qbuf_put_varint(b, 2);   /* next_id */
    qbuf_put_varint(b, 1);   /* applied */
    qbuf_put_varint(b, 0);   /* drained */
    qbuf_put_varint(b, 0);   /* uploads */
    qbuf_put_varint(b, 1);   /* batches */
    qbuf_put_varint(b, 1);
    qbuf_put_u8(b, state);
    qbuf_put_str(b, "", 0);
    qbuf_put_varint(b, 0);   /* token */
    qbuf_put_varint(b, 0);   /* submitted_ms */
    qbuf_put_varint(b, 0);   /* ended_ms */
    *rc = batch_spec_encode(spec, b);
    batch_budget_encode(spec, b);
}

/* MQS 6 with one running batch (id 1) of count numbers whose segment 0
 * is in a file of len bytes named hash, nothing else done. */
static int seg_entry(uint64_t count, uint64_t len, const uint8_t *hash, uint8_t **buf,
                     size_t *blen)
{
    struct batch_spec spec;
    char err[128];
    if (batch_range_init(&spec, "1000", 1, count, err, sizeof err) != 0)
        return -1;
    struct qbuf b;
    int rc;
    qbuf_init(&b);
    put_head(&b, &spec, BATCH_RUNNING, &rc);
    qbuf_put_u8(&b, 2);       /* segments, then inline */
    qbuf_put_varint(&b, 1);
    qbuf_put_varint(&b, 0);   /* segment 0 */
    qbuf_put_varint(&b, 0);   /* unfactored */
    qbuf_put_varint(&b, 0);   /* bytes */
    qbuf_put_varint(&b, len);
    qbuf_put_bytes(&b, hash, QUEUE_FILE_HASH_BYTES);
    qbuf_put_varint(&b, 0);   /* inline results */
    qbuf_put_varint(&b, 0);   /* tombstones */
    batch_spec_free(&spec);
    if (rc != 0) {
        qbuf_free(&b);
        return -1;
    }
    return qbuf_take(&b, buf, blen);
}

/* The file (in dir as `path`) as the own file a restarted node would
 * rebuild segment 0 from: nothing made, nothing read as done. */
static void rebuild_from_file(uint64_t count, uint64_t extra)
{
    uint8_t never[QUEUE_FILE_HASH_BYTES];
    memset(never, 0xa5, sizeof never);
    uint8_t *snap;
    size_t snap_len;
    if (seg_entry(count, SEG_FIXED + extra + 1, never, &snap, &snap_len) != 0)
        abort();
    struct queue *q = queue_new();
    if (q == NULL || queue_restore(q, snap, snap_len) != 0)
        abort();
    char made[256];
    queue_file_path(dir, never, made, sizeof made);
    if (queue_segment_rebuild(q, 1, dir) == 0 || access(made, F_OK) == 0 ||
        queue_result(q, 1, 0) != NULL)
        abort();
    queue_free(q);
    free(snap);
}

/* MQS 6 with one finished batch (id 1) whose results are the file. */
static int manifest(uint64_t count, uint64_t done, uint64_t unfactored, const uint8_t *hash,
                    size_t len, uint8_t **buf, size_t *blen)
{
    struct batch_spec spec;
    char err[128];
    if (batch_range_init(&spec, "1000", 1, count, err, sizeof err) != 0)
        return -1;
    struct qbuf b;
    int rc;
    qbuf_init(&b);
    put_head(&b, &spec, done == count ? BATCH_DONE : BATCH_CANCELLED, &rc);
    qbuf_put_u8(&b, 1);       /* a manifest entry */
    qbuf_put_varint(&b, done);
    qbuf_put_varint(&b, unfactored);
    qbuf_put_varint(&b, 0);   /* bytes */
    qbuf_put_varint(&b, len);
    qbuf_put_bytes(&b, hash, QUEUE_FILE_HASH_BYTES);
    qbuf_put_varint(&b, 0);   /* tombstones */
    batch_spec_free(&spec);
    if (rc != 0) {
        qbuf_free(&b);
        return -1;
    }
    return qbuf_take(&b, buf, blen);
}

static void check_loaded(struct queue *q, uint64_t count, uint64_t done, const uint8_t *snap,
                         size_t snap_len)
{
    uint64_t seen = 0;
    for (uint64_t i = 0; i < count; i++) {
        const char *r = queue_result(q, 1, i);
        if ((r != NULL) != queue_is_done(q, 1, i))
            abort();
        if (r != NULL && !qresult_text_valid(r, strlen(r)))
            abort();
        seen += r != NULL;
    }
    uint8_t *again;
    size_t len;
    if (seen != done || queue_snapshot(q, &again, &len) != 0)
        abort();
    if (len != snap_len || memcmp(again, snap, len) != 0)
        abort();
    free(again);
}

static void remove_dir(void)
{
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Made once per process. Not known by the template's last letter:
     * mkdtemp's own letters may end in an X too (1 run in 62 aborted). */
    static bool made;
    if (!made) {
        if (mkdtemp(dir) == NULL)
            abort();
        made = true;
        atexit(remove_dir);
    }
    if (size < 4 + 33)
        return 0;
    const uint8_t *file = data + 4;
    size_t len = size - 4;
    uint64_t done = (uint64_t)data[0] | (uint64_t)data[1] << 8;
    uint64_t unfactored = (uint64_t)data[2] | (uint64_t)data[3] << 8;
    uint64_t count = get_u64(file + 8);
    uint8_t hash[QUEUE_FILE_HASH_BYTES];
    crypto_generichash(hash, sizeof hash, file, len, NULL, 0);
    char path[256];
    queue_file_path(dir, hash, path, sizeof path);
    if (count > MAX_COUNT && count <= MAX_SEG_COUNT) {
        FILE *f = fopen(path, "wb");
        if (f == NULL || fwrite(file, 1, len, f) != len || fclose(f) != 0)
            abort();
        rebuild_from_file(count, done);
        unlink(path);
        return 0;
    }
    if (count == 0 || count > MAX_COUNT || done > count)
        return 0;
    uint8_t *snap;
    size_t snap_len;
    if (manifest(count, done, unfactored, hash, len, &snap, &snap_len) != 0)
        abort();
    struct queue *q = queue_new();
    if (q == NULL || queue_restore(q, snap, snap_len) != 0) {
        free(snap);
        queue_free(q);
        return 0;   /* counts the manifest itself refuses */
    }
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(file, 1, len, f) != len || fclose(f) != 0)
        abort();
    if (queue_results_load(q, 1, dir) == 0) {
        check_loaded(q, count, done, snap, snap_len);
    } else {
        struct batch_info info;
        if (queue_batch_get(q, 1, &info) != 0 || !info.results_elsewhere ||
            queue_result(q, 1, 0) != NULL)
            abort();
    }
    unlink(path);
    queue_free(q);
    free(snap);
    return 0;
}
