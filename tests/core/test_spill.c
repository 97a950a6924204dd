/* test_spill.c - finished batches' results moved to their canonical file:
 * the same results, the same bytes whatever order results were applied in,
 * a snapshot that names the files (MQS 6) and restores with them present,
 * absent or damaged, forgettable, safe under a frozen snapshot, a job that
 * finds its batch forgotten stops cleanly, and the sweep of stale files. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue_helpers.h"

static char dir[] = "/tmp/mesh-spill-XXXXXX";

/* Batch 1: 3000 numbers, all done; batch 2: 2500, a third done, cancelled. */
static struct queue *two_finished(void)
{
    struct queue *q = queue_new();
    char err[128], text[32];
    CHECK_INT_EQ(apply_free(q, make_submit("1000", 3000, "a"), NULL, err), 0);
    CHECK_INT_EQ(apply_free(q, make_submit("9000", 2500, "b"), NULL, err), 0);
    for (uint64_t i = 0; i < 3000; i++) {
        snprintf(text, sizeof text, "%llu 7", (unsigned long long)(i * 3 + 1));
        CHECK_INT_EQ(apply_free(q, make_complete(1, 1, i, text), NULL, err), 0);
    }
    for (uint64_t i = 0; i < 2500; i += 3) {
        snprintf(text, sizeof text, "%llu", (unsigned long long)(i + 5));
        CHECK_INT_EQ(apply_free(q, make_complete(2, 1, i, text), NULL, err), 0);
    }
    CHECK_INT_EQ(apply_free(q, make_cancel(2), NULL, err), 0);
    return q;
}

static void spill_all(struct queue *q)
{
    struct queue_spill *s;
    while ((s = queue_spill_start(q, dir)) != NULL) {
        int rc;
        while ((rc = queue_spill_step(s, q, 1)) == 1)
            ;
        CHECK_INT_EQ(rc, 0);
        CHECK_INT_EQ(queue_spill_finish(s, q), 0);
    }
    CHECK_INT_EQ(errno, ENOENT);
}

static void same_results(const struct queue *a, const struct queue *b)
{
    for (uint64_t id = 1; id <= 2; id++) {
        struct batch_info x, y;
        CHECK_INT_EQ(queue_batch_get(a, id, &x), 0);
        CHECK_INT_EQ(queue_batch_get(b, id, &y), 0);
        CHECK_INT_EQ(x.done, y.done);
        for (uint64_t i = 0; i < x.total; i++) {
            const char *r = queue_result(a, id, i), *s = queue_result(b, id, i);
            CHECK((r == NULL) == (s == NULL));
            if (r != NULL)
                CHECK_STR_EQ(r, s);
            CHECK(queue_is_done(a, id, i) == queue_is_done(b, id, i));
        }
        CHECK_INT_EQ(queue_next_pending(a, id, 0), queue_next_pending(b, id, 0));
        CHECK_INT_EQ(queue_next_pending(a, id, 1), queue_next_pending(b, id, 1));
        CHECK_INT_EQ(queue_done_prefix(a, id, 0), queue_done_prefix(b, id, 0));
    }
}

/* A snapshot of q restored into a fresh queue. */
static struct queue *restored(const struct queue *q, uint8_t **snap, size_t *len)
{
    CHECK_INT_EQ(queue_snapshot(q, snap, len), 0);
    struct queue *r = queue_new();
    CHECK_INT_EQ(queue_restore(r, *snap, *len), 0);
    return r;
}

static void test_spilled_reads_the_same_and_snapshots_a_manifest(void)
{
    struct queue *mem = two_finished(), *disk = two_finished();
    spill_all(disk);
    CHECK(queue_batch_spilled(disk, 1) && queue_batch_spilled(disk, 2));
    CHECK(!queue_batch_spilled(mem, 1));
    same_results(mem, disk);
    uint8_t *a, *b;
    size_t la, lb;
    CHECK_INT_EQ(queue_snapshot(mem, &a, &la), 0);
    CHECK_INT_EQ(queue_snapshot(disk, &b, &lb), 0);
    /* inline: every result's text; manifest: ~50 bytes a batch */
    CHECK(la > 20000 && lb < 300);
    free(a);
    free(b);
    struct queue *from_mem = restored(mem, &a, &la);
    struct queue *back = restored(disk, &b, &lb);
    struct batch_info info;
    CHECK_INT_EQ(queue_batch_get(back, 1, &info), 0);
    CHECK(info.results_elsewhere && info.done == 3000 && info.state == BATCH_DONE);
    CHECK(queue_result(back, 1, 0) == NULL);
    /* the files are in dir: loaded, checked, read as the original */
    CHECK_INT_EQ(queue_results_load(back, 1, dir), 0);
    CHECK_INT_EQ(queue_results_load(back, 2, dir), 0);
    CHECK_INT_EQ(queue_batch_get(back, 2, &info), 0);
    CHECK(!info.results_elsewhere && info.unfactored == 0);
    same_results(mem, back);
    same_results(from_mem, back);
    /* and snapshot to the same manifest again */
    uint8_t *c;
    size_t lc;
    CHECK_INT_EQ(queue_snapshot(back, &c, &lc), 0);
    CHECK(lc == lb && memcmp(b, c, lb) == 0);
    free(a);
    free(b);
    free(c);
    char err[128];
    CHECK_INT_EQ(apply_free(disk, make_complete(2, 1, (uint64_t)1, "2 3"), NULL, err), 0);
    CHECK(queue_result(disk, 2, 1) == NULL);  /* cancelled: late results ignored */
    queue_free(mem);
    queue_free(disk);
    queue_free(from_mem);
    queue_free(back);
}

/* The same results applied in another order (reversed, in odd chunks):
 * the same file, byte for byte, so the same hash. */
static void test_canonical_whatever_the_order(void)
{
    char other[] = "/tmp/mesh-spill2-XXXXXX";
    CHECK(mkdtemp(other) != NULL);
    struct queue *q = queue_new();
    char err[128], text[32];
    CHECK_INT_EQ(apply_free(q, make_submit("1000", 3000, "a"), NULL, err), 0);
    CHECK_INT_EQ(apply_free(q, make_submit("9000", 2500, "b"), NULL, err), 0);
    for (uint64_t k = 0; k < 3000; k++) {
        uint64_t i = (k * 7) % 3000;   /* 7 is prime to 3000: every index once */
        snprintf(text, sizeof text, "%llu 7", (unsigned long long)(i * 3 + 1));
        CHECK_INT_EQ(apply_free(q, make_complete(1, 1, i, text), NULL, err), 0);
    }
    for (uint64_t k = 2499 / 3 * 3 + 3; k >= 3; k -= 3) {
        uint64_t i = k - 3;
        snprintf(text, sizeof text, "%llu", (unsigned long long)(i + 5));
        CHECK_INT_EQ(apply_free(q, make_complete(2, 1, i, text), NULL, err), 0);
    }
    CHECK_INT_EQ(apply_free(q, make_cancel(2), NULL, err), 0);
    struct queue *p = two_finished();
    struct queue_spill *s;
    for (int round = 0; round < 2; round++) {
        struct queue *x = round ? q : p;
        while ((s = queue_spill_start(x, round ? other : dir)) != NULL) {
            while (queue_spill_step(s, x, 3) == 1)
                ;
            CHECK_INT_EQ(queue_spill_finish(s, x), 0);
        }
    }
    uint8_t *a, *b;
    size_t la, lb;
    CHECK_INT_EQ(queue_snapshot(p, &a, &la), 0);
    CHECK_INT_EQ(queue_snapshot(q, &b, &lb), 0);
    CHECK(la == lb && memcmp(a, b, la) == 0);   /* the same hashes and lengths */
    free(a);
    free(b);
    /* the files themselves: identical, and their names are their hashes */
    struct queue_file_ref ref;
    uint8_t *snap;
    size_t len, at = 0;
    struct queue *r = restored(q, &snap, &len);
    int files = 0;
    while (queue_results_wanted(r, &at, &ref)) {
        char pa[256], pb[256];
        queue_file_path(dir, ref.hash, pa, sizeof pa);
        queue_file_path(other, ref.hash, pb, sizeof pb);
        FILE *fa = fopen(pa, "rb"), *fb = fopen(pb, "rb");
        CHECK(fa != NULL && fb != NULL);
        uint8_t *x = malloc(ref.len + 1), *y = malloc(ref.len + 1);
        CHECK_INT_EQ(fread(x, 1, ref.len + 1, fa), ref.len);
        CHECK_INT_EQ(fread(y, 1, ref.len + 1, fb), ref.len);
        CHECK(memcmp(x, y, ref.len) == 0 && queue_file_hash_ok(x, ref.len, ref.hash));
        fclose(fa);
        fclose(fb);
        free(x);
        free(y);
        files++;
    }
    CHECK_INT_EQ(files, 2);
    free(snap);
    queue_free(r);
    queue_free(q);
    queue_free(p);
    struct queue *empty = queue_new();
    CHECK_INT_EQ(queue_results_sweep(empty, other, true), 2);
    queue_free(empty);
    CHECK_INT_EQ(rmdir(other), 0);
}

/* Absent: ENOENT, still elsewhere. Damaged (a flipped byte, a cut, one
 * byte more): EBADMSG, still elsewhere, nothing served. */
static void test_restore_with_files_absent_or_damaged(void)
{
    struct queue *q = two_finished();
    spill_all(q);
    uint8_t *snap;
    size_t len, at = 0;
    struct queue *r = restored(q, &snap, &len);
    struct queue_file_ref ref;
    CHECK(queue_results_wanted(r, &at, &ref) && ref.batch_id == 1);
    char path[256], aside[300];
    queue_file_path(dir, ref.hash, path, sizeof path);
    snprintf(aside, sizeof aside, "%s.aside", path);
    CHECK_INT_EQ(rename(path, aside), 0);
    CHECK_INT_EQ(queue_results_load(r, 1, dir), -1);
    CHECK_INT_EQ(errno, ENOENT);
    FILE *f = fopen(aside, "rb");
    uint8_t *bytes = malloc(ref.len);
    CHECK_INT_EQ(fread(bytes, 1, ref.len, f), ref.len);
    fclose(f);
    size_t cuts[][2] = {{ref.len, 0}, {ref.len, 40}, {ref.len, ref.len - 2},
                        {ref.len - 1, SIZE_MAX}, {ref.len + 1, SIZE_MAX}};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        f = fopen(path, "wb");
        size_t n = cuts[k][0], flip = cuts[k][1];
        for (size_t i = 0; i < n; i++)
            fputc(i < ref.len ? bytes[i] ^ (i == flip ? 0x10 : 0) : 0, f);
        fclose(f);
        CHECK_INT_EQ(queue_results_load(r, 1, dir), -1);
        CHECK_INT_EQ(errno, EBADMSG);
        struct batch_info info;
        CHECK_INT_EQ(queue_batch_get(r, 1, &info), 0);
        CHECK(info.results_elsewhere && queue_result(r, 1, 5) == NULL);
    }
    CHECK_INT_EQ(rename(aside, path), 0);
    CHECK_INT_EQ(queue_results_load(r, 1, dir), 0);
    CHECK_INT_EQ(queue_results_load(r, 1, dir), -1);   /* loaded: not waiting */
    CHECK_INT_EQ(errno, ENOENT);
    CHECK_STR_EQ(queue_result(r, 1, 5), "16 7");
    /* a file no batch names goes, one still named stays */
    char err[128];
    CHECK_INT_EQ(apply_free(q, make_forget(FORGET_BY_USER, 0, 1, (uint64_t)1), NULL, err), 0);
    CHECK_INT_EQ(queue_results_sweep(r, dir, false), 0);
    CHECK_INT_EQ(queue_results_sweep(q, dir, false), 1);
    CHECK(access(path, F_OK) != 0);
    free(bytes);
    free(snap);
    queue_free(r);
    queue_free(q);
}

static void test_forget_a_spilled_batch_under_a_freeze(void)
{
    struct queue *q = two_finished();
    spill_all(q);
    uint8_t *before, *frozen;
    size_t lb, lf;
    CHECK_INT_EQ(queue_snapshot(q, &before, &lb), 0);
    struct queue_freeze *f = queue_freeze(q);
    CHECK(f != NULL);
    char err[128];
    CHECK_INT_EQ(apply_free(q, make_forget(FORGET_BY_USER, 0, 2, (uint64_t)1, (uint64_t)2),
                            NULL, err), 0);
    CHECK_INT_EQ(queue_batch_count(q), 0);
    /* the mapping outlives the forget until the thaw: ASan/segv otherwise */
    CHECK_INT_EQ(queue_freeze_encode(f, &frozen, &lf), 0);
    CHECK(lf == lb && memcmp(frozen, before, lb) == 0);
    queue_thaw(q, f);
    free(frozen);
    free(before);
    queue_free(q);
}

static void test_spill_while_frozen_then_thaw(void)
{
    struct queue *q = two_finished();
    uint8_t *before, *frozen;
    size_t lb, lf;
    CHECK_INT_EQ(queue_snapshot(q, &before, &lb), 0);
    struct queue_freeze *f = queue_freeze(q);
    spill_all(q);  /* the memory pages the freeze points at are retired */
    CHECK_INT_EQ(queue_freeze_encode(f, &frozen, &lf), 0);
    CHECK(lf == lb && memcmp(frozen, before, lb) == 0);
    queue_thaw(q, f);
    free(frozen);
    free(before);
    queue_free(q);
}

static void test_job_stops_when_its_batch_is_forgotten(void)
{
    struct queue *q = two_finished();
    struct queue_spill *s = queue_spill_start(q, dir);
    CHECK(s != NULL);
    CHECK_INT_EQ(queue_spill_batch(s), 1);
    CHECK_INT_EQ(queue_spill_step(s, q, 1), 1);
    char err[128];
    CHECK_INT_EQ(apply_free(q, make_forget(FORGET_BY_AGE, 0, 1, (uint64_t)1), NULL, err), 0);
    CHECK_INT_EQ(queue_spill_step(s, q, 1), -1);
    CHECK_INT_EQ(errno, ENOENT);
    queue_spill_abort(s);
    /* a running batch is never spilled; a directory that is not there fails */
    struct queue *r = queue_new();
    CHECK_INT_EQ(apply_free(r, make_submit("5", 10, ""), NULL, err), 0);
    CHECK(queue_spill_start(r, dir) == NULL);
    CHECK_INT_EQ(errno, ENOENT);
    CHECK(queue_spill_start(q, "/nonexistent/mesh") == NULL);
    queue_free(r);
    queue_free(q);
}

static void *name_thread(void *ud)
{
    return (void *)(intptr_t)queue_spill_name(ud);
}

/* Steps a job on q to its end and names it on another thread while the
 * owner applies an entry (as the node runs it on the libuv pool). */
static struct queue_spill *named_aside(struct queue *q, int *rc)
{
    struct queue_spill *s = queue_spill_start(q, dir);
    CHECK(s != NULL);
    while (queue_spill_step(s, q, 1) == 1)
        ;
    pthread_t t;
    CHECK_INT_EQ(pthread_create(&t, NULL, name_thread, s), 0);
    char err[128];
    CHECK_INT_EQ(apply_free(q, make_submit("77", 10, "c"), NULL, err), 0);
    void *out;
    CHECK_INT_EQ(pthread_join(t, &out), 0);
    *rc = (int)(intptr_t)out;
    return s;
}

/* The file's durable naming apart from finish: the same files and results
 * as a job finished in one go; a job whose batch was forgotten while it
 * was named fails with ENOENT, leaves no temp file, and the named file is
 * the sweep's. */
static void test_named_apart(void)
{
    struct queue *q = two_finished(), *ref = two_finished();
    int rc;
    for (int k = 0; k < 2; k++) {
        struct queue_spill *s = named_aside(q, &rc);
        CHECK_INT_EQ(rc, 0);
        CHECK_INT_EQ(queue_spill_finish(s, q), 0);
    }
    CHECK(queue_batch_spilled(q, 1) && queue_batch_spilled(q, 2));
    size_t files = queue_results_sweep(q, dir, true);
    CHECK_INT_EQ(files, 0);   /* every file named is a batch's */
    spill_all(ref);
    same_results(q, ref);
    queue_free(ref);
    queue_free(q);
    struct queue *none = queue_new();
    CHECK_INT_EQ(queue_results_sweep(none, dir, true), 2);
    queue_free(none);

    q = two_finished();
    struct queue_spill *s = named_aside(q, &rc);
    CHECK_INT_EQ(rc, 0);
    char err[128];
    CHECK_INT_EQ(apply_free(q, make_forget(FORGET_BY_AGE, 0, 1, (uint64_t)1), NULL, err), 0);
    CHECK_INT_EQ(queue_spill_finish(s, q), -1);
    CHECK_INT_EQ(errno, ENOENT);
    CHECK_INT_EQ(queue_results_sweep(q, dir, true), 0);   /* the named file, no batch's,
                                                             went with the job */
    queue_free(q);
}

struct check_arg {
    struct queue_load *load;
};

static void *check_thread(void *ud)
{
    queue_load_check(((struct check_arg *)ud)->load);
    return NULL;
}

/* The load in steps, its check on another thread while the owner applies
 * (as the node runs it on the libuv pool): the result is installed only
 * if the batch still waits for the same file, and loading changes where
 * results live, never the replicated state (the snapshot after is the
 * snapshot before). */
static void test_load_in_steps(void)
{
    struct queue *q = two_finished();
    spill_all(q);
    uint8_t *snap;
    size_t len;
    struct queue *r = restored(q, &snap, &len);
    struct queue_load *l = queue_load_start(r, 1, dir);
    CHECK(l != NULL && queue_load_batch(l) == 1);
    pthread_t t;
    struct check_arg arg = {l};
    CHECK_INT_EQ(pthread_create(&t, NULL, check_thread, &arg), 0);
    char err[128];
    /* meanwhile the owner applies: a new batch, a result, batch 2 forgotten */
    CHECK_INT_EQ(apply_free(r, make_submit("77", 5, "c"), NULL, err), 0);
    CHECK_INT_EQ(apply_free(r, make_complete(3, 1, (uint64_t)0, "7 11"), NULL, err), 0);
    CHECK_INT_EQ(apply_free(r, make_forget(FORGET_BY_USER, 0, 1, (uint64_t)2), NULL, err), 0);
    CHECK_INT_EQ(pthread_join(t, NULL), 0);
    uint8_t *before, *after;
    size_t lb, la;
    CHECK_INT_EQ(queue_snapshot(r, &before, &lb), 0);
    CHECK_INT_EQ(queue_load_finish(l, r), 0);
    CHECK_INT_EQ(queue_snapshot(r, &after, &la), 0);
    CHECK(la == lb && memcmp(before, after, la) == 0);
    CHECK_STR_EQ(queue_result(r, 1, 5), "16 7");
    CHECK_INT_EQ(queue_next_pending(r, 1, 0), 3000);
    free(before);
    free(after);
    /* checked against a replica that was replaced meanwhile: installed
     * there if it names the same file, refused if the batch is gone */
    struct queue *r2 = queue_new(), *r3 = queue_new();
    CHECK_INT_EQ(queue_restore(r2, snap, len), 0);
    CHECK_INT_EQ(queue_restore(r3, snap, len), 0);
    l = queue_load_start(r3, 1, dir);
    CHECK(l != NULL);
    queue_load_check(l);
    CHECK_INT_EQ(queue_load_finish(l, r2), 0);
    CHECK_STR_EQ(queue_result(r2, 1, 5), "16 7");
    l = queue_load_start(r3, 2, dir);
    CHECK(l != NULL);
    queue_load_check(l);
    CHECK_INT_EQ(apply_free(r3, make_forget(FORGET_BY_USER, 0, 1, (uint64_t)2), NULL, err), 0);
    CHECK_INT_EQ(queue_load_finish(l, r3), -1);
    CHECK_INT_EQ(errno, ENOENT);
    /* finished without a check: refused; aborted at any step: freed */
    l = queue_load_start(r3, 1, dir);
    CHECK(l != NULL);
    CHECK_INT_EQ(queue_load_finish(l, r3), -1);
    CHECK_INT_EQ(errno, EINVAL);
    CHECK(queue_batch_get(r3, 1, &(struct batch_info){0}) == 0);
    queue_load_abort(queue_load_start(r3, 1, dir));
    CHECK(queue_load_start(r3, 2, dir) == NULL);   /* forgotten: not waiting */
    CHECK_INT_EQ(errno, ENOENT);
    free(snap);
    queue_free(r3);
    queue_free(r2);
    queue_free(r);
    queue_free(q);
}

/* What a snapshot carries inline: the retained bytes of batches not in a
 * file; spilling moves them out, a restored manifest has none, forgetting
 * a spilled batch takes its share off both. */
static void test_inline_bytes(void)
{
    struct queue *q = two_finished();
    uint64_t all = queue_retained_bytes(q);
    CHECK(all > 0 && queue_inline_bytes(q) == all);
    struct queue_spill *s = queue_spill_start(q, dir);
    int rc;
    while ((rc = queue_spill_step(s, q, 4)) == 1)
        ;
    CHECK_INT_EQ(queue_spill_finish(s, q), 0);
    struct batch_info one;
    CHECK_INT_EQ(queue_batch_get(q, 1, &one), 0);
    CHECK_INT_EQ(queue_inline_bytes(q), all - one.bytes);
    uint8_t *snap;
    size_t len;
    struct queue *r = restored(q, &snap, &len);
    CHECK_INT_EQ(queue_retained_bytes(r), all);
    CHECK_INT_EQ(queue_inline_bytes(r), all - one.bytes);   /* batch 2 inline */
    CHECK_INT_EQ(queue_results_load(r, 1, dir), 0);
    CHECK_INT_EQ(queue_inline_bytes(r), all - one.bytes);
    spill_all(q);
    CHECK_INT_EQ(queue_inline_bytes(q), 0);
    char err[128];
    CHECK_INT_EQ(apply_free(q, make_forget(FORGET_BY_USER, 0, 1, (uint64_t)1), NULL, err), 0);
    CHECK_INT_EQ(queue_inline_bytes(q), 0);
    CHECK_INT_EQ(queue_retained_bytes(q), all - one.bytes);
    CHECK_INT_EQ(apply_free(r, make_forget(FORGET_BY_USER, 0, 1, (uint64_t)1), NULL, err), 0);
    CHECK_INT_EQ(queue_inline_bytes(r), all - one.bytes);
    free(snap);
    queue_free(r);
    queue_free(q);
}

int main(void)
{
    CHECK(mkdtemp(dir) != NULL);
    test_spilled_reads_the_same_and_snapshots_a_manifest();
    test_canonical_whatever_the_order();
    test_restore_with_files_absent_or_damaged();
    test_forget_a_spilled_batch_under_a_freeze();
    test_spill_while_frozen_then_thaw();
    test_job_stops_when_its_batch_is_forgotten();
    test_load_in_steps();
    test_inline_bytes();
    test_named_apart();
    struct queue *empty = queue_new();
    queue_results_sweep(empty, dir, true);
    queue_free(empty);
    CHECK_INT_EQ(rmdir(dir), 0);  /* nothing else left behind */
    return 0;
}
