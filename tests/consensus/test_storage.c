/* test_storage.c - damaged storage is caught, never used:
 * - the snapshot seal: every flipped byte and every truncation of a sealed
 *   snapshot is refused; an unsealed (older release) snapshot passes;
 * - the fsm's restore refuses a damaged snapshot (reason given, queue left
 *   as it was) and restores sealed and unsealed ones;
 * - the committed mark: recorded, read back, a damaged slot falls back to
 *   the other, two damaged slots are an error, a new file reads 0;
 * - disk_space names the free space and the dir;
 * - the storage guard on a libuv loop: it records the committed index off
 *   the loop and once more at close, and refuses a start on a corrupt-*
 *   file or on a log that ends below the mark. */
#include <fcntl.h>
#include <raft.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "commit_mark.h"
#include "disk_space.h"
#include "fsm.h"
#include "snapshot_seal.h"
#include "storage_guard.h"

struct replica {
    struct queue *q;
    struct raft_fsm fsm;
    char refused[256];
    unsigned restores;
};

static void on_refused(void *ud, const char *why)
{
    struct replica *r = ud;
    snprintf(r->refused, sizeof r->refused, "%s", why);
}

static void on_restored(void *ud)
{
    struct replica *r = ud;
    r->restores++;
}

static void replica_init(struct replica *r)
{
    memset(r, 0, sizeof *r);
    r->q = queue_new();
    CHECK(r->q != NULL);
    struct fsm_config cfg = {.queue = &r->q, .ud = r, .on_refused = on_refused,
                             .on_restored = on_restored, .sync_snapshots = true};
    CHECK_INT_EQ(fsm_init(&r->fsm, &cfg), 0);
}

static void replica_close(struct replica *r)
{
    fsm_close(&r->fsm);
    queue_free(r->q);
}

/* A queue with two batches, some results done: a snapshot worth checking. */
static void fill(struct queue *q)
{
    char err[128];
    for (unsigned b = 0; b < 2; b++) {
        struct qcmd c = {.type = QCMD_SUBMIT};
        CHECK_INT_EQ(batch_range_init(&c.spec, "1000000000039", 2, 20, err, sizeof err), 0);
        struct queue_outcome o;
        CHECK_INT_EQ(queue_apply(q, &c, &o, err, sizeof err), 0);
        qcmd_free(&c);
        struct qcmd r = {.type = QCMD_COMPLETE, .batch_id = o.batch_id, .n_results = 3};
        r.results = calloc(3, sizeof *r.results);
        for (size_t i = 0; i < 3; i++) {
            r.results[i].index = i;
            r.results[i].text = strdup("3 9 263 739 17681");
        }
        CHECK_INT_EQ(queue_apply(q, &r, &o, err, sizeof err), 0);
        qcmd_free(&r);
    }
}

/* The snapshot as raft stores it: the fsm's buffers back to back. */
static uint8_t *stored_snapshot(struct replica *r, size_t *len)
{
    struct raft_buffer *bufs;
    unsigned n;
    CHECK_INT_EQ(r->fsm.snapshot(&r->fsm, &bufs, &n), 0);
    CHECK_INT_EQ(n, 2);
    CHECK_INT_EQ(bufs[0].len, SNAPSHOT_SEAL_BYTES);
    *len = bufs[0].len + bufs[1].len;
    uint8_t *out = malloc(*len);
    memcpy(out, bufs[0].base, bufs[0].len);
    memcpy(out + bufs[0].len, bufs[1].base, bufs[1].len);
    CHECK_INT_EQ(r->fsm.snapshot_finalize(&r->fsm, &bufs, &n), 0);
    return out;
}

static int restore(struct replica *into, const uint8_t *bytes, size_t len)
{
    struct raft_buffer buf = {.base = raft_malloc(len ? len : 1), .len = len};
    memcpy(buf.base, bytes, len);
    into->refused[0] = '\0';
    int rc = into->fsm.restore(&into->fsm, &buf);
    if (rc != 0)
        raft_free(buf.base);  /* raft frees it on failure */
    return rc;
}

static void queue_bytes(struct queue *q, uint8_t **out, size_t *len)
{
    CHECK_INT_EQ(queue_snapshot(q, out, len), 0);
}

static void test_seal_catches_every_flip_and_cut(void)
{
    struct replica a;
    replica_init(&a);
    fill(a.q);
    size_t len;
    uint8_t *snap = stored_snapshot(&a, &len);
    const uint8_t *payload;
    size_t plen;
    char err[256];
    CHECK_INT_EQ(snapshot_seal_open(snap, len, &payload, &plen, err, sizeof err),
                 SNAPSHOT_SEALED);
    CHECK_INT_EQ(plen, len - SNAPSHOT_SEAL_BYTES);
    for (size_t i = 8; i < len; i++) {  /* past the magic: every byte is covered */
        snap[i] ^= 0x10;
        CHECK_INT_EQ(snapshot_seal_open(snap, len, &payload, &plen, err, sizeof err),
                     SNAPSHOT_DAMAGED);
        snap[i] ^= 0x10;
    }
    for (size_t cut = 8; cut < len; cut++) {
        CHECK_INT_EQ(snapshot_seal_open(snap, cut, &payload, &plen, err, sizeof err),
                     SNAPSHOT_DAMAGED);
        CHECK(strstr(err, "truncated") != NULL);
    }
    free(snap);
    replica_close(&a);
}

static void test_restore_refuses_damage_and_keeps_old_state(void)
{
    struct replica a, b;
    replica_init(&a);
    replica_init(&b);
    fill(a.q);
    size_t len;
    uint8_t *snap = stored_snapshot(&a, &len);
    uint8_t *before, *after;
    size_t before_len, after_len;
    queue_bytes(b.q, &before, &before_len);
    /* A digit of a result flipped: "3 9 263" would read "3 9m 263". */
    uint8_t *digit = memmem(snap, len, "263", 3);
    CHECK(digit != NULL);
    digit[1] ^= 0x40;
    CHECK(restore(&b, snap, len) != 0);
    CHECK(strstr(b.refused, "checksum mismatch") != NULL);
    CHECK_INT_EQ(b.restores, 0);
    queue_bytes(b.q, &after, &after_len);
    CHECK(before_len == after_len && memcmp(before, after, after_len) == 0);
    free(after);
    digit[1] ^= 0x40;
    CHECK(restore(&b, snap, len / 2) != 0);  /* a truncated file */
    CHECK(strstr(b.refused, "truncated") != NULL);
    /* Whole, it restores into exactly a's queue. */
    CHECK_INT_EQ(restore(&b, snap, len), 0);
    CHECK_INT_EQ(b.restores, 1);
    uint8_t *want;
    size_t want_len;
    queue_bytes(a.q, &want, &want_len);
    queue_bytes(b.q, &after, &after_len);
    CHECK(want_len == after_len && memcmp(want, after, after_len) == 0);
    free(after);
    free(before);
    free(snap);
    /* An older release's snapshot: the queue's bytes with no seal. */
    struct replica c;
    replica_init(&c);
    CHECK_INT_EQ(restore(&c, want, want_len), 0);
    queue_bytes(c.q, &after, &after_len);
    CHECK(want_len == after_len && memcmp(want, after, after_len) == 0);
    /* Unsealed and damaged: the queue's decoder is the only check left. */
    want[0] ^= 0xff;
    CHECK(restore(&c, want, want_len) != 0);
    CHECK(strstr(c.refused, "cannot be decoded") != NULL);
    free(after);
    free(want);
    replica_close(&a);
    replica_close(&b);
    replica_close(&c);
}

static void overwrite(const char *path, off_t at, uint8_t byte)
{
    int fd = open(path, O_WRONLY);
    CHECK(fd >= 0);
    CHECK_INT_EQ(pwrite(fd, &byte, 1, at), 1);
    close(fd);
}

static void test_commit_mark(void)
{
    char dir[] = "/tmp/mesh-test-mark-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256], err[512];
    snprintf(path, sizeof path, "%s/%s", dir, COMMIT_MARK_FILE);
    struct commit_mark m;
    CHECK_INT_EQ(commit_mark_open(&m, dir, err, sizeof err), 0);
    CHECK_INT_EQ(m.index, 0);
    CHECK_INT_EQ(commit_mark_record(&m, 5, err, sizeof err), 0);
    CHECK_INT_EQ(commit_mark_record(&m, 3, err, sizeof err), 0);  /* never backwards */
    CHECK_INT_EQ(m.index, 5);
    CHECK_INT_EQ(commit_mark_record(&m, 9, err, sizeof err), 0);
    commit_mark_close(&m);
    CHECK_INT_EQ(commit_mark_open(&m, dir, err, sizeof err), 0);
    CHECK_INT_EQ(m.index, 9);
    commit_mark_close(&m);
    overwrite(path, 32 + 9, 0x77);      /* the slot holding 9: torn */
    CHECK_INT_EQ(commit_mark_open(&m, dir, err, sizeof err), 0);
    CHECK_INT_EQ(m.index, 5);
    CHECK_INT_EQ(commit_mark_record(&m, 12, err, sizeof err), 0);  /* over the torn one */
    commit_mark_close(&m);
    CHECK_INT_EQ(commit_mark_open(&m, dir, err, sizeof err), 0);
    CHECK_INT_EQ(m.index, 12);
    commit_mark_close(&m);
    overwrite(path, 3, 0x77);
    overwrite(path, 32 + 3, 0x77);
    CHECK(commit_mark_open(&m, dir, err, sizeof err) != 0);
    CHECK(strstr(err, "damaged") != NULL && strstr(err, path) != NULL);
    unlink(path);
    rmdir(dir);
}

static void test_disk_space_message(void)
{
    struct disk_space d;
    disk_space_init(&d, "/tmp");
    disk_space_check(&d);
    CHECK(d.free_bytes != UINT64_MAX);
    CHECK(d.need_bytes >= (uint64_t)DISK_SEGMENT_BYTES * DISK_SEGMENTS_AHEAD);
    CHECK_INT_EQ(d.full, d.free_bytes < d.need_bytes);
    char msg[4400], want[64];
    disk_space_describe(&d, msg, sizeof msg);
    snprintf(want, sizeof want, "disk full: %llu MiB free in /tmp",
             (unsigned long long)(d.free_bytes >> 20));
    CHECK(strncmp(msg, want, strlen(want)) == 0);
    bool was_full = d.full;
    CHECK(disk_space_mark_full(&d) == !was_full);  /* raft said ENOSPC */
    CHECK(d.full);
}

static uint64_t fake_committed;

static uint64_t committed(void *ud)
{
    (void)ud;
    return fake_committed;
}

static void on_stop(uv_timer_t *t)
{
    uv_stop(t->loop);
}

/* Runs the loop for ms (the guard's timer keeps it alive meanwhile). */
static void run_for(uv_loop_t *loop, unsigned ms)
{
    uv_timer_t t;
    uv_timer_init(loop, &t);
    uv_timer_start(&t, on_stop, ms, 0);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
}

static void test_guard(void)
{
    char dir[] = "/tmp/mesh-test-guard-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct mesh_log log = {.out = fopen("/dev/null", "w"), .level = LOG_DEBUG};
    struct storage_guard_config cfg = {.loop = &loop, .log = &log, .dir = dir,
                                       .committed = committed};
    struct storage_guard *g;
    char why[8192];
    CHECK_INT_EQ(storage_guard_open(&g, &cfg, why, sizeof why), 0);
    CHECK_INT_EQ(storage_guard_check_files(g, why, sizeof why), 0);
    CHECK_INT_EQ(storage_guard_check_log(g, 0, why, sizeof why), 0);
    storage_guard_start(g);
    fake_committed = 7;
    run_for(&loop, 2 * STORAGE_MARK_MS + 100);   /* written by a tick */
    struct commit_mark m;
    CHECK_INT_EQ(commit_mark_open(&m, dir, why, sizeof why), 0);
    CHECK_INT_EQ(m.index, 7);
    commit_mark_close(&m);
    fake_committed = 9;                           /* ... and at close */
    storage_guard_close(g);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT_EQ(uv_loop_close(&loop), 0);        /* nothing left behind */
    uv_loop_init(&loop);
    CHECK_INT_EQ(storage_guard_open(&g, &cfg, why, sizeof why), 0);
    CHECK(storage_guard_check_log(g, 8, why, sizeof why) != 0);
    CHECK(strstr(why, "its log ends at index 8 but index 9 was committed") != NULL);
    CHECK(strstr(why, "mesh recover --force") != NULL);
    CHECK_INT_EQ(storage_guard_check_log(g, 9, why, sizeof why), 0);
    char corrupt[256];
    snprintf(corrupt, sizeof corrupt, "%s/corrupt-1-0000000000000002-0000000000000009", dir);
    fclose(fopen(corrupt, "w"));
    CHECK(storage_guard_check_files(g, why, sizeof why) != 0);
    CHECK(strstr(why, corrupt) != NULL);
    storage_guard_close(g);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT_EQ(uv_loop_close(&loop), 0);
    fclose(log.out);
    unlink(corrupt);
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, COMMIT_MARK_FILE);
    unlink(path);
    CHECK_INT_EQ(rmdir(dir), 0);
}

int main(void)
{
    test_seal_catches_every_flip_and_cut();
    test_restore_refuses_damage_and_keeps_old_state();
    test_commit_mark();
    test_disk_space_message();
    test_guard();
    return 0;
}
