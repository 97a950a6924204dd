/* test_spill_running.c - a running batch's full pages spilled in segments
 * (queue_state.h, qseg_pages): read the same as in memory, a snapshot that
 * names them and carries only the rest, a restart that restores and loads
 * them, a replica elsewhere that gets the files (as a fetch would) and ends
 * with byte-identical results, a damaged segment refused, and a frozen
 * snapshot unchanged by a segment spilled under it. */
#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue_helpers.h"

static char dir[] = "/tmp/mesh-spillrun-XXXXXX";

/* Three segments and a bit: the last, partial, never spills while running. */
static const uint64_t COUNT = 3 * 65536 + 700;
static const uint64_t FIRST = 140000;   /* segments 0 and 1 full, 2 not */

static void result_text(uint64_t i, char *text, size_t size)
{
    if (i % 1000 == 7)
        snprintf(text, size, "2 unfactored:91");
    else
        snprintf(text, size, "%llu", (unsigned long long)(i + 5));
}

/* COMPLETEs of [from, to) in chunks of 1000, each chunk backwards (results
 * of several nodes interleave; the files must not care). */
static void complete_range(struct queue *q, uint64_t from, uint64_t to)
{
    char err[128], text[32];
    for (uint64_t start = from; start < to; start += 1000) {
        uint64_t end = start + 1000 < to ? start + 1000 : to;
        struct qcmd c = make_complete(1, 0);
        free(c.results);
        c.results = calloc(end - start, sizeof *c.results);
        CHECK(c.results != NULL);
        c.n_results = end - start;
        for (uint64_t i = start; i < end; i++) {
            result_text(i, text, sizeof text);
            c.results[end - 1 - i].index = i;
            c.results[end - 1 - i].text = strdup(text);
        }
        CHECK_INT_EQ(apply_free(q, c, NULL, err), 0);
    }
}

static struct queue *running(void)
{
    struct queue *q = queue_new();
    char err[128];
    CHECK_INT_EQ(apply_free(q, make_submit("1000", COUNT, "r"), NULL, err), 0);
    complete_range(q, 0, FIRST);
    return q;
}

/* Spills whatever can be, in dir d: the number of files written. */
static int spill_all(struct queue *q, const char *d)
{
    struct queue_spill *s;
    int files = 0;
    while ((s = queue_spill_start(q, d)) != NULL) {
        int rc;
        while ((rc = queue_spill_step(s, q, 5)) == 1)
            ;
        CHECK_INT_EQ(rc, 0);
        CHECK_INT_EQ(queue_spill_finish(s, q), 0);
        files++;
    }
    CHECK_INT_EQ(errno, ENOENT);
    return files;
}

static void same_results(const struct queue *a, const struct queue *b)
{
    struct batch_info x, y;
    CHECK_INT_EQ(queue_batch_get(a, 1, &x), 0);
    CHECK_INT_EQ(queue_batch_get(b, 1, &y), 0);
    CHECK(x.done == y.done && x.unfactored == y.unfactored && x.state == y.state);
    CHECK_INT_EQ(queue_retained_bytes(a), queue_retained_bytes(b));
    for (uint64_t i = 0; i < x.total; i++) {
        const char *r = queue_result(a, 1, i);
        char keep[512];   /* a spread batch's relations too */
        if (r != NULL)
            snprintf(keep, sizeof keep, "%s", r);
        const char *s = queue_result(b, 1, i);
        CHECK((r == NULL) == (s == NULL));
        if (r != NULL)
            CHECK_STR_EQ(keep, s);
    }
    CHECK_INT_EQ(queue_next_pending(a, 1, 0), queue_next_pending(b, 1, 0));
    CHECK_INT_EQ(queue_next_pending(a, 1, 70000), queue_next_pending(b, 1, 70000));
    CHECK_INT_EQ(queue_done_prefix(a, 1, 0), queue_done_prefix(b, 1, 0));
}

static struct queue *restored(const uint8_t *snap, size_t len)
{
    struct queue *r = queue_new();
    CHECK_INT_EQ(queue_restore(r, snap, len), 0);
    return r;
}

/* Loads every segment r waits for from d: how many. */
static int load_all(struct queue *r, const char *d)
{
    int n = 0;
    while (queue_results_load(r, 1, d) == 0)
        n++;
    CHECK_INT_EQ(errno, ENOENT);
    return n;
}

static void snapshots_equal(const struct queue *a, const struct queue *b)
{
    uint8_t *x, *y;
    size_t lx, ly;
    CHECK_INT_EQ(queue_snapshot(a, &x, &lx), 0);
    CHECK_INT_EQ(queue_snapshot(b, &y, &ly), 0);
    CHECK(lx == ly && memcmp(x, y, lx) == 0);
    free(x);
    free(y);
}

/* The rest of the batch, and a late copy of a result inside a spilled
 * segment (kept as the first, as apply keeps any repeat). */
static void finish(struct queue *q)
{
    char err[128];
    CHECK_INT_EQ(apply_free(q, make_complete(1, 1, (uint64_t)5, "2 3"), NULL, err), 0);
    complete_range(q, FIRST, COUNT);
    struct batch_info info;
    CHECK_INT_EQ(queue_batch_get(q, 1, &info), 0);
    CHECK(info.state == BATCH_DONE);
}

static void test_segments_read_snapshot_restart(void)
{
    struct queue *q = running(), *mem = running();
    uint64_t inline_before = queue_inline_bytes(q);
    CHECK_INT_EQ(spill_all(q, dir), 2);
    CHECK_INT_EQ(spill_all(q, dir), 0);       /* segment 2 is not full */
    CHECK(queue_inline_bytes(q) < inline_before / 4);
    same_results(q, mem);                      /* retained bytes too */
    uint8_t *snap, *full;
    size_t len, full_len;
    CHECK_INT_EQ(queue_snapshot(q, &snap, &len), 0);
    CHECK_INT_EQ(queue_snapshot(mem, &full, &full_len), 0);
    CHECK(len < full_len / 4);                 /* 8.5k results inline of 140k */
    /* a restart: the snapshot, the files in its data dir */
    struct queue *r = restored(snap, len);
    struct batch_info info;
    CHECK_INT_EQ(queue_batch_get(r, 1, &info), 0);
    CHECK(info.results_elsewhere && info.done == FIRST && info.state == BATCH_RUNNING);
    CHECK(queue_result(r, 1, 5) == NULL && queue_is_done(r, 1, 5));
    CHECK_INT_EQ(queue_next_pending(r, 1, 0), FIRST);
    CHECK_INT_EQ(queue_retained_bytes(r), queue_retained_bytes(mem));
    CHECK_INT_EQ(load_all(r, dir), 2);
    CHECK_INT_EQ(queue_batch_get(r, 1, &info), 0);
    CHECK(!info.results_elsewhere);
    same_results(r, mem);
    /* the restored replica snapshots as the one that spilled */
    uint8_t *again;
    size_t again_len;
    CHECK_INT_EQ(queue_snapshot(r, &again, &again_len), 0);
    CHECK(again_len == len && memcmp(again, snap, len) == 0);
    free(again);
    /* all three go on to the end and write the same file */
    finish(q);
    finish(r);
    finish(mem);
    same_results(q, mem);
    same_results(r, mem);
    CHECK_INT_EQ(spill_all(q, dir), 1);        /* finished: the batch whole, no segment 2 */
    spill_all(r, dir);
    spill_all(mem, dir);
    snapshots_equal(q, mem);                   /* the same file's hash and length */
    snapshots_equal(r, mem);
    same_results(q, mem);
    /* from a snapshot with the whole file: no segment named */
    struct queue *w = queue_new();
    uint8_t *last;
    size_t last_len;
    CHECK_INT_EQ(queue_snapshot(q, &last, &last_len), 0);
    CHECK_INT_EQ(queue_restore(w, last, last_len), 0);
    CHECK_INT_EQ(queue_results_load(w, 1, dir), 0);
    same_results(w, mem);
    free(last);
    free(snap);
    free(full);
    queue_free(w);
    queue_free(r);
    queue_free(q);
    queue_free(mem);
}

/* Copies every file r waits for from `from` to `to`, one at a time, as the
 * node's fetch does: the number copied. */
static int fetch_all(struct queue *r, const char *from, const char *to)
{
    int n = 0;
    for (;;) {
        struct queue_file_ref ref;
        size_t at = 0;
        if (!queue_results_wanted(r, &at, &ref))
            return n;
        char a[256], b[256];
        queue_file_path(from, ref.hash, a, sizeof a);
        queue_file_path(to, ref.hash, b, sizeof b);
        FILE *fa = fopen(a, "rb"), *fb = fopen(b, "wb");
        CHECK(fa != NULL && fb != NULL);
        int ch;
        while ((ch = fgetc(fa)) != EOF)
            fputc(ch, fb);
        fclose(fa);
        fclose(fb);
        CHECK_INT_EQ(queue_results_load(r, 1, to), 0);
        n++;
    }
}

static void test_replica_elsewhere_ends_byte_identical(void)
{
    char other[] = "/tmp/mesh-spillrun2-XXXXXX";
    CHECK(mkdtemp(other) != NULL);
    struct queue *q = running();
    CHECK_INT_EQ(spill_all(q, dir), 2);
    uint8_t *snap;
    size_t len;
    CHECK_INT_EQ(queue_snapshot(q, &snap, &len), 0);
    struct queue *r = restored(snap, len);
    CHECK_INT_EQ(queue_results_load(r, 1, other), -1);
    CHECK_INT_EQ(errno, ENOENT);               /* not here: fetched */
    CHECK_INT_EQ(fetch_all(r, dir, other), 2);
    finish(q);
    finish(r);
    spill_all(q, dir);
    spill_all(r, other);
    snapshots_equal(q, r);
    /* the files themselves, byte for byte */
    free(snap);
    CHECK_INT_EQ(queue_snapshot(r, &snap, &len), 0);
    struct queue *y = restored(snap, len);
    struct queue_file_ref ref;
    size_t at = 0;
    CHECK(queue_results_wanted(y, &at, &ref));
    char a[256], b[256];
    queue_file_path(dir, ref.hash, a, sizeof a);
    queue_file_path(other, ref.hash, b, sizeof b);
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    CHECK(fa != NULL && fb != NULL);
    int ca, cb;
    do {
        ca = fgetc(fa);
        cb = fgetc(fb);
        CHECK_INT_EQ(ca, cb);
    } while (ca != EOF);
    fclose(fa);
    fclose(fb);
    free(snap);
    queue_free(y);
    queue_free(r);
    queue_free(q);
    struct queue *empty = queue_new();
    CHECK_INT_EQ(queue_results_sweep(empty, other, true), 1);  /* its own file: the
                                                                 segments' went then */
    queue_free(empty);
    CHECK_INT_EQ(rmdir(other), 0);
}

/* A flipped byte, a cut: EBADMSG, still elsewhere, nothing read. */
static void test_damaged_segment_refused(void)
{
    struct queue *q = running();
    CHECK_INT_EQ(spill_all(q, dir), 2);
    uint8_t *snap;
    size_t len;
    CHECK_INT_EQ(queue_snapshot(q, &snap, &len), 0);
    struct queue *r = restored(snap, len);
    struct queue_file_ref ref;
    size_t at = 0;
    CHECK(queue_results_wanted(r, &at, &ref) && ref.batch_id == 1);
    char path[256], aside[300];
    queue_file_path(dir, ref.hash, path, sizeof path);
    snprintf(aside, sizeof aside, "%s.aside", path);
    CHECK_INT_EQ(rename(path, aside), 0);
    FILE *f = fopen(aside, "rb");
    uint8_t *bytes = malloc(ref.len);
    CHECK_INT_EQ(fread(bytes, 1, ref.len, f), ref.len);
    fclose(f);
    size_t cuts[][2] = {{ref.len, 100}, {ref.len, ref.len - 2}, {ref.len - 1, SIZE_MAX}};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        f = fopen(path, "wb");
        for (size_t i = 0; i < cuts[k][0]; i++)
            fputc(bytes[i] ^ (i == cuts[k][1] ? 0x10 : 0), f);
        fclose(f);
        CHECK_INT_EQ(queue_results_load(r, 1, dir), -1);
        CHECK_INT_EQ(errno, EBADMSG);
        struct batch_info info;
        CHECK_INT_EQ(queue_batch_get(r, 1, &info), 0);
        CHECK(info.results_elsewhere && queue_result(r, 1, 5) == NULL);
    }
    CHECK_INT_EQ(rename(aside, path), 0);
    CHECK_INT_EQ(load_all(r, dir), 2);
    CHECK_STR_EQ(queue_result(r, 1, 5), "10");
    free(bytes);
    free(snap);
    queue_free(r);
    queue_free(q);
}

/* A snapshot frozen before a segment spills encodes the same after: the
 * pages it points at go through the retire list. */
static void test_segment_spilled_under_a_freeze(void)
{
    struct queue *q = running();
    uint8_t *before, *frozen;
    size_t lb, lf;
    CHECK_INT_EQ(queue_snapshot(q, &before, &lb), 0);
    struct queue_freeze *f = queue_freeze(q);
    CHECK(f != NULL);
    CHECK_INT_EQ(spill_all(q, dir), 2);
    CHECK_INT_EQ(queue_freeze_encode(f, &frozen, &lf), 0);
    CHECK(lf == lb && memcmp(before, frozen, lb) == 0);
    queue_thaw(q, f);
    free(before);
    free(frozen);
    queue_free(q);
}

/* The node's two jobs: a finished batch's file and a running batch's
 * segment, each only its own kind, and both at once. */
static void test_two_kinds_of_job(void)
{
    struct queue *q = running();
    char err[128];
    CHECK_INT_EQ(apply_free(q, make_submit("5000", 3000, "f"), NULL, err), 0);
    char text[32];
    for (uint64_t i = 0; i < 3000; i++) {
        snprintf(text, sizeof text, "%llu", (unsigned long long)(i + 5000));
        CHECK_INT_EQ(apply_free(q, make_complete(2, 1, i, text), NULL, err), 0);
    }
    struct queue_spill *seg = queue_spill_start_segment(q, dir);
    struct queue_spill *whole = queue_spill_start_whole(q, dir);
    CHECK(seg != NULL && whole != NULL);
    CHECK(queue_spill_is_segment(seg) && !queue_spill_is_segment(whole));
    CHECK(queue_spill_batch(seg) == 1 && queue_spill_batch(whole) == 2);
    int a = 1, b = 1;
    while (a == 1 || b == 1) {   /* interleaved, as in a tick */
        if (a == 1)
            a = queue_spill_step(seg, q, 2);
        if (b == 1)
            b = queue_spill_step(whole, q, 2);
    }
    CHECK(a == 0 && b == 0);
    CHECK_INT_EQ(queue_spill_finish(seg, q), 0);
    CHECK_INT_EQ(queue_spill_finish(whole, q), 0);
    CHECK(queue_batch_spilled(q, 2) && !queue_batch_spilled(q, 1));
    CHECK(queue_spill_start_whole(q, dir) == NULL && errno == ENOENT);
    seg = queue_spill_start_segment(q, dir);   /* segment 1 */
    CHECK(seg != NULL && queue_spill_batch(seg) == 1);
    queue_spill_abort(seg);
    CHECK_STR_EQ(queue_result(q, 2, 7), "5007");
    CHECK_STR_EQ(queue_result(q, 1, 7), "2 unfactored:91");
    queue_free(q);
}

/* What a snapshot carries inline: the pages not in files, through
 * segments, the batch's own file (the segments' files go then) and a
 * FORGET, whose sweep then removes the batch's own file. */
static void test_inline_bytes_and_forget(void)
{
    char own[] = "/tmp/mesh-spillrun3-XXXXXX";
    CHECK(mkdtemp(own) != NULL);
    struct queue *q = running();
    uint64_t all = queue_retained_bytes(q);
    CHECK_INT_EQ(queue_inline_bytes(q), all);
    CHECK_INT_EQ(spill_all(q, own), 2);
    uint64_t in_mem = queue_inline_bytes(q);
    CHECK(in_mem > 0 && in_mem < all / 4 && queue_retained_bytes(q) == all);
    char err[128];
    CHECK_INT_EQ(apply_free(q, make_cancel(1), NULL, err), 0);
    CHECK_INT_EQ(queue_inline_bytes(q), in_mem);
    CHECK_INT_EQ(spill_all(q, own), 1);
    CHECK_INT_EQ(queue_inline_bytes(q), 0);
    CHECK_INT_EQ(queue_results_sweep(q, own, false), 0);   /* its own file named */
    CHECK_INT_EQ(apply_free(q, make_forget(FORGET_BY_USER, 0, 1, (uint64_t)1), NULL, err), 0);
    CHECK(queue_retained_bytes(q) == 0 && queue_inline_bytes(q) == 0);
    CHECK_INT_EQ(queue_results_sweep(q, own, false), 1);   /* the segments' went before */
    queue_free(q);
    CHECK_INT_EQ(rmdir(own), 0);
}

/* The result files in d (at most max): their hashes, bytes and lengths. */
struct seg_copy {
    uint8_t hash[QUEUE_FILE_HASH_BYTES];
    uint8_t *bytes;
    size_t len;
};

static size_t read_files(const char *d, struct seg_copy *out, size_t max)
{
    DIR *dp = opendir(d);
    CHECK(dp != NULL);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        if (strlen(e->d_name) != 2 * QUEUE_FILE_HASH_BYTES)
            continue;
        CHECK(n < max);
        CHECK_INT_EQ(sodium_hex2bin(out[n].hash, sizeof out[n].hash, e->d_name,
                                    strlen(e->d_name), NULL, NULL, NULL), 0);
        char path[512];
        snprintf(path, sizeof path, "%s/%s", d, e->d_name);
        FILE *f = fopen(path, "rb");
        CHECK(f != NULL);
        fseek(f, 0, SEEK_END);
        out[n].len = (size_t)ftell(f);
        rewind(f);
        out[n].bytes = malloc(out[n].len);
        CHECK(out[n].bytes != NULL && fread(out[n].bytes, 1, out[n].len, f) == out[n].len);
        fclose(f);
        n++;
    }
    closedir(dp);
    return n;
}

/* The sweep of a queue that names nothing removes the `files` files in d;
 * then d goes. */
static void remove_files_and_dir(const char *d, int files)
{
    struct queue *none = queue_new();
    CHECK_INT_EQ(queue_results_sweep(none, d, false), files);
    queue_free(none);
    CHECK_INT_EQ(rmdir(d), 0);
}

static bool file_exists(const char *d, const uint8_t *hash)
{
    char path[512];
    queue_file_path(d, hash, path, sizeof path);
    return access(path, F_OK) == 0;
}

/* What a peer answers for a segment, read in chunks of `chunk` bytes as
 * FILE_GET asks for them: the same bytes as the file it no longer has. */
static void served_same(const struct queue *q, const struct seg_copy *c, size_t chunk)
{
    uint8_t *got = malloc(c->len + chunk);
    CHECK(got != NULL);
    uint64_t at = 0, total = 0;
    for (;;) {
        int64_t r = queue_segment_read(q, c->hash, at, got + at, chunk, &total);
        CHECK(r >= 0 && total == c->len);
        if (r == 0)
            break;
        at += (uint64_t)r;
    }
    CHECK(at == c->len && memcmp(got, c->bytes, c->len) == 0);
    CHECK_INT_EQ(queue_segment_read(q, c->hash, c->len + 5, got, chunk, &total), 0);
    free(got);
}

/* Writes bytes as d/<hex of hash>, one byte flipped at `flip` unless
 * SIZE_MAX, as a fetch (or a damaged disk) would. */
static void write_file(const char *d, const uint8_t *hash, const uint8_t *bytes, size_t len,
                       size_t flip)
{
    char path[512];
    queue_file_path(d, hash, path, sizeof path);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    for (size_t i = 0; i < len; i++)
        fputc(bytes[i] ^ (i == flip ? 0x04 : 0), f);
    fclose(f);
}

/* What q serves for the segment, written in d as a fetch would. */
static void fetch_served(const struct queue *q, const struct seg_copy *c, const char *d,
                         size_t flip)
{
    uint8_t *bytes = malloc(c->len);
    uint64_t total;
    CHECK(bytes != NULL);
    CHECK_INT_EQ(queue_segment_read(q, c->hash, 0, bytes, c->len, &total), (int64_t)c->len);
    write_file(d, c->hash, bytes, c->len, flip);
    free(bytes);
}

/* A restored replica's segments, each rebuilt in d from the batch's own
 * file there before it loads: how many. */
static int rebuild_all(struct queue *r, const char *d)
{
    int n = 0;
    for (;;) {
        if (queue_results_load(r, 1, d) == 0)
            continue;
        CHECK_INT_EQ(errno, ENOENT);
        if (queue_segment_rebuild(r, 1, d) != 0)
            break;
        n++;
    }
    CHECK_INT_EQ(errno, ENOENT);
    return n;
}

/* Where segment 0's texts start in the batch's own file (COUNT numbers):
 * header, page bases, done bitmaps, offsets. */
static size_t own_file_texts_at(void)
{
    size_t pages = (COUNT + 1023) / 1024;
    return (32 + pages * 8 + pages * 128 + pages * 4096 + 7) / 8 * 8;
}

/* A finished batch's two segment files go as soon as its own file is
 * written: the disk holds it once and its results read the same. A peer
 * restoring the snapshot taken while it ran is served them from the own
 * file (a damaged copy refused), this node restarted from that snapshot
 * makes them again from the own file (a damaged own file gives nothing),
 * the sweep keeps the own file while they are wanted, and both end with
 * the same own file. A FORGET's sweep then leaves nothing. */
static void test_finished_segments_released_and_served(void)
{
    char own[] = "/tmp/mesh-spillrun4-XXXXXX", other[] = "/tmp/mesh-spillrun5-XXXXXX";
    char bad[] = "/tmp/mesh-spillrun6-XXXXXX";
    CHECK(mkdtemp(own) != NULL && mkdtemp(other) != NULL && mkdtemp(bad) != NULL);
    struct queue *q = running(), *mem = running();
    CHECK_INT_EQ(spill_all(q, own), 2);
    struct seg_copy segs[2], whole;
    CHECK_INT_EQ(read_files(own, segs, 2), 2);
    uint8_t *old;
    size_t old_len;
    CHECK_INT_EQ(queue_snapshot(q, &old, &old_len), 0);     /* names both segments */
    finish(q);
    finish(mem);
    CHECK_INT_EQ(spill_all(q, own), 1);                      /* its own file */
    CHECK(!file_exists(own, segs[0].hash) && !file_exists(own, segs[1].hash));
    CHECK_INT_EQ(read_files(own, &whole, 1), 1);             /* the disk holds it once */
    CHECK_INT_EQ(queue_results_sweep(q, own, false), 0);
    same_results(q, mem);
    for (size_t k = 0; k < 2; k++) {
        served_same(q, &segs[k], 1000);
        served_same(q, &segs[k], 262144);
    }
    uint8_t unknown[QUEUE_FILE_HASH_BYTES] = {7};
    uint64_t total;
    char buf[16];
    CHECK_INT_EQ(queue_segment_read(q, unknown, 0, buf, sizeof buf, &total), -1);
    CHECK_INT_EQ(errno, ENOENT);
    /* segment 2 filled after the batch finished: never a file of its own,
     * still answered from the own file (its name computed there), and by
     * a replica that loaded the own file from a snapshot naming it */
    char third[] = "/tmp/mesh-spillrun7-XXXXXX";
    CHECK(mkdtemp(third) != NULL);
    struct queue *t = running();
    complete_range(t, FIRST, 3 * 65536);
    CHECK_INT_EQ(spill_all(t, third), 3);
    struct seg_copy all3[3];
    CHECK_INT_EQ(read_files(third, all3, 3), 3);
    uint8_t *manifest;
    size_t manifest_len;
    CHECK_INT_EQ(queue_snapshot(q, &manifest, &manifest_len), 0);
    struct queue *m = restored(manifest, manifest_len);
    CHECK_INT_EQ(queue_results_load(m, 1, own), 0);
    for (size_t k = 0; k < 3; k++) {
        served_same(q, &all3[k], 65536);
        served_same(m, &all3[k], 65536);
        free(all3[k].bytes);
    }
    free(manifest);
    queue_free(m);
    queue_free(t);
    remove_files_and_dir(third, 3);
    /* this node restarted from the snapshot taken while the batch ran: a
     * stray file goes, the own file stays for the segments' sake */
    struct queue *r = restored(old, old_len);
    write_file(own, unknown, (const uint8_t *)"MESHRES1 but not a file", 24, SIZE_MAX);
    CHECK_INT_EQ(queue_results_sweep(r, own, true), 1);
    CHECK(file_exists(own, whole.hash));
    CHECK_INT_EQ(rebuild_all(r, own), 2);
    CHECK_INT_EQ(queue_segment_rebuild(r, 1, own), -1);     /* none waits */
    finish(r);
    CHECK_INT_EQ(spill_all(r, own), 1);
    snapshots_equal(q, r);                                   /* the same own file */
    CHECK(!file_exists(own, segs[0].hash) && !file_exists(own, segs[1].hash));
    /* a damaged own file (a byte of segment 0's texts) rebuilds nothing */
    struct queue *d = restored(old, old_len);
    write_file(bad, whole.hash, whole.bytes, whole.len, own_file_texts_at() + 10);
    CHECK_INT_EQ(queue_segment_rebuild(d, 1, bad), -1);
    CHECK_INT_EQ(errno, ENOENT);
    CHECK(!file_exists(bad, segs[0].hash) && !file_exists(bad, segs[1].hash));
    /* a peer without the own file: served them, a damaged copy refused */
    struct queue *p = restored(old, old_len);
    CHECK_INT_EQ(queue_segment_rebuild(p, 1, other), -1);
    struct queue_file_ref ref;
    size_t at = 0;
    CHECK(queue_results_wanted(p, &at, &ref));
    const struct seg_copy *first = memcmp(ref.hash, segs[0].hash, sizeof ref.hash) == 0
                                 ? &segs[0] : &segs[1];
    fetch_served(q, first, other, first->len / 2);
    CHECK_INT_EQ(queue_results_load(p, 1, other), -1);
    CHECK_INT_EQ(errno, EBADMSG);
    for (size_t k = 0; k < 2; k++)
        fetch_served(q, &segs[k], other, SIZE_MAX);
    CHECK_INT_EQ(load_all(p, other), 2);
    finish(p);
    CHECK_INT_EQ(spill_all(p, other), 1);
    same_results(p, mem);
    snapshots_equal(q, p);
    /* forgotten: the own file goes with it, nothing is served */
    char err[128];
    CHECK_INT_EQ(apply_free(q, make_forget(FORGET_BY_USER, 0, 1, (uint64_t)1), NULL, err), 0);
    CHECK_INT_EQ(queue_results_sweep(q, own, false), 1);
    CHECK_INT_EQ(queue_segment_read(q, segs[0].hash, 0, buf, sizeof buf, &total), -1);
    struct queue *empty = queue_new();
    CHECK_INT_EQ(queue_results_sweep(empty, other, false), 1);
    CHECK_INT_EQ(queue_results_sweep(empty, bad, false), 1);
    queue_free(empty);
    for (size_t k = 0; k < 2; k++)
        free(segs[k].bytes);
    free(whole.bytes);
    free(old);
    queue_free(d);
    queue_free(p);
    queue_free(r);
    queue_free(q);
    queue_free(mem);
    CHECK_INT_EQ(rmdir(own), 0);
    CHECK_INT_EQ(rmdir(other), 0);
    CHECK_INT_EQ(rmdir(bad), 0);
}

/* A spread batch (one hard number's ranges, src/sm/batch.h): its results
 * are relation sets, KBs each, so its segments are single pages
 * (qseg_pages): a running hard number's full pages leave memory and every
 * snapshot, which named none of them while segments were 64 pages (a
 * spread batch never has that many indexes). */
static const char *const SPREAD_N = "509210500453231419516077995770618553170047119";
static const uint64_t SPREAD_RANGES = 2000, SPREAD_FIRST = 1100;

/* Range i's relations: "rels:" and a few hundred base-32 letters of its own. */
static void relations_text(uint64_t i, char *text, size_t size)
{
    size_t at = (size_t)snprintf(text, size, "rels:%llx", (unsigned long long)i);
    for (size_t k = 0; at + 1 < size && k < 200 + i % 37; k++)
        text[at++] = "0123456789abcdefghijklmnopqrstuv"[(i * 7 + k) % 32];
    text[at] = '\0';
}

static void complete_relations(struct queue *q, uint64_t from, uint64_t to)
{
    char err[128], text[300];
    for (uint64_t i = from; i < to; i++) {
        relations_text(i, text, sizeof text);
        CHECK_INT_EQ(apply_free(q, make_complete(1, 1, i, text), NULL, err), 0);
    }
}

static struct queue *spread_running(void)
{
    struct queue *q = queue_new();
    struct qcmd c = {.type = QCMD_SUBMIT};
    char err[128];
    CHECK_INT_EQ(batch_spread_init(&c.spec, SPREAD_N, 1, SPREAD_RANGES, err, sizeof err), 0);
    struct queue_outcome out;
    CHECK_INT_EQ(queue_apply(q, &c, &out, err, sizeof err), 0);
    qcmd_free(&c);
    CHECK_INT_EQ(out.batch_id, 1);
    complete_relations(q, 0, SPREAD_FIRST);
    return q;
}

static void test_spread_batch_segments_are_pages(void)
{
    char d[] = "/tmp/mesh-spillrun8-XXXXXX";
    CHECK(mkdtemp(d) != NULL);
    struct queue *q = spread_running(), *mem = spread_running();
    uint64_t inline_before = queue_inline_bytes(q);
    CHECK_INT_EQ(spill_all(q, d), 1);           /* page 0; page 1 is not full */
    CHECK(queue_inline_bytes(q) < inline_before / 8);
    same_results(q, mem);
    uint8_t *snap, *full;
    size_t len, full_len;
    CHECK_INT_EQ(queue_snapshot(q, &snap, &len), 0);
    CHECK_INT_EQ(queue_snapshot(mem, &full, &full_len), 0);
    CHECK(len < full_len / 8);                  /* 76 ranges inline of 1100 */
    struct queue *r = restored(snap, len);
    struct batch_info info;
    CHECK_INT_EQ(queue_batch_get(r, 1, &info), 0);
    CHECK(info.results_elsewhere && info.done == SPREAD_FIRST);
    CHECK_INT_EQ(load_all(r, d), 1);
    same_results(r, mem);
    struct seg_copy seg, whole;
    CHECK_INT_EQ(read_files(d, &seg, 1), 1);
    /* done: its own file, the page's segment file gone and served from it */
    char err[128];
    complete_relations(q, SPREAD_FIRST, SPREAD_RANGES);
    CHECK_INT_EQ(apply_free(q, make_complete(1, 1, SPREAD_RANGES, SPREAD_N), NULL, err), 0);
    CHECK_INT_EQ(queue_batch_get(q, 1, &info), 0);
    CHECK(info.state == BATCH_DONE);
    CHECK_INT_EQ(spill_all(q, d), 1);
    CHECK(!file_exists(d, seg.hash));
    CHECK_INT_EQ(read_files(d, &whole, 1), 1);
    served_same(q, &seg, 1000);
    free(seg.bytes);
    free(whole.bytes);
    free(snap);
    free(full);
    queue_free(r);
    queue_free(q);
    queue_free(mem);
    remove_files_and_dir(d, 1);
}

int main(void)
{
    CHECK(mkdtemp(dir) != NULL);
    test_segments_read_snapshot_restart();
    test_replica_elsewhere_ends_byte_identical();
    test_damaged_segment_refused();
    test_segment_spilled_under_a_freeze();
    test_two_kinds_of_job();
    test_inline_bytes_and_forget();
    test_finished_segments_released_and_served();
    test_spread_batch_segments_are_pages();
    struct queue *empty = queue_new();
    queue_results_sweep(empty, dir, true);
    queue_free(empty);
    CHECK_INT_EQ(rmdir(dir), 0);
    return 0;
}
