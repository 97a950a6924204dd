/* test_upload.c - list batches submitted in parts (qcmd_split, LIST_PART,
 * SUBMIT of an upload): bounded commands, visible only when whole,
 * deterministic clean-up, and all of it in the snapshot. */
#include "queue_helpers.h"
#include "upload.h"

enum { PAYLOAD = 4096 };

/* A list batch of count numbers of assorted lengths. */
static struct qcmd big_list(uint64_t count)
{
    size_t cap = (size_t)count * 24 + 1, len = 0;
    char *text = malloc(cap);
    CHECK(text != NULL);
    for (uint64_t i = 0; i < count; i++)
        len += (size_t)snprintf(text + len, cap - len, "%llu\n",
                                (unsigned long long)(i * i * 2654435761u + 1));
    struct qcmd c = {.type = QCMD_SUBMIT};
    char err[128];
    CHECK_INT_EQ(batch_list_parse(&c.spec, text, len, err, sizeof err), 0);
    c.spec.chunk = 43;
    snprintf(c.name, sizeof c.name, "big");
    free(text);
    return c;
}

static size_t encoded_len(const struct qcmd *c)
{
    uint8_t *buf;
    size_t len;
    CHECK_INT_EQ(qcmd_encode(c, &buf, &len), 0);
    free(buf);
    return len;
}

static void free_split(struct qcmd *cmds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        qcmd_free(&cmds[i]);
    free(cmds);
}

/* Applies every command but the last; returns the last's apply result. */
static int apply_split(struct queue *q, struct qcmd *cmds, size_t n, struct queue_outcome *out)
{
    char err[128];
    for (size_t i = 0; i + 1 < n; i++) {
        CHECK_INT_EQ(queue_apply(q, &cmds[i], NULL, err, sizeof err), 0);
        CHECK_INT_EQ(queue_batch_count(q), 0);  /* nothing visible before the SUBMIT */
    }
    return queue_apply(q, &cmds[n - 1], out, err, sizeof err);
}

static void check_same_list(const struct queue *q, uint64_t id, const struct qcmd *orig)
{
    struct batch_info info;
    CHECK_INT_EQ(queue_batch_get(q, id, &info), 0);
    CHECK_INT_EQ(info.total, orig->spec.count);
    CHECK_INT_EQ(info.chunk, 43);
    CHECK_STR_EQ(info.name, "big");
    CHECK(info.spec->list_len == orig->spec.list_len);
    CHECK(memcmp(info.spec->list, orig->spec.list, orig->spec.list_len) == 0);
    char a[MESH_MAX_DIGITS + 2], b[MESH_MAX_DIGITS + 2];
    uint64_t last = orig->spec.count - 1;
    CHECK_INT_EQ(batch_number(info.spec, last, a, sizeof a), 0);
    CHECK_INT_EQ(batch_number(&orig->spec, last, b, sizeof b), 0);
    CHECK_STR_EQ(a, b);
}

static void test_small_submit_is_itself(void)
{
    struct qcmd c = make_submit("5", 10, "small"), *cmds;
    size_t n;
    CHECK_INT_EQ(qcmd_split(&c, PAYLOAD, 77, &cmds, &n), 0);
    CHECK_INT_EQ(n, 1);
    CHECK_INT_EQ(cmds[0].type, QCMD_SUBMIT);
    CHECK_INT_EQ(cmds[0].upload_id, 0);
    CHECK_INT_EQ(encoded_len(&cmds[0]), encoded_len(&c));
    free_split(cmds, n);
    /* Too big and not splittable without an upload id. */
    struct qcmd big = big_list(2000);
    CHECK_INT_EQ(qcmd_split(&big, PAYLOAD, 0, &cmds, &n), -1);
    CHECK_INT_EQ(qcmd_split(&big, 100, 5, &cmds, &n), -1);
    qcmd_free(&big);
    qcmd_free(&c);
}

static void test_split_and_assemble(void)
{
    struct qcmd orig = big_list(100000), *cmds;
    size_t n;
    CHECK_INT_EQ(qcmd_split(&orig, PAYLOAD, 0xfeedfacecafebeefULL, &cmds, &n), 0);
    CHECK(n > orig.spec.list_len / PAYLOAD);
    for (size_t i = 0; i < n; i++) {
        CHECK(encoded_len(&cmds[i]) <= PAYLOAD);
        CHECK_INT_EQ(cmds[i].type, i + 1 < n ? QCMD_LIST_PART : QCMD_SUBMIT);
    }
    struct queue *q = queue_new();
    struct queue_outcome out;
    CHECK_INT_EQ(apply_split(q, cmds, n, &out), 0);
    CHECK_INT_EQ(out.batch_id, 1);
    check_same_list(q, 1, &orig);
    /* The upload is consumed: submitting it again is refused. */
    char err[128];
    CHECK_INT_EQ(queue_apply(q, &cmds[n - 1], NULL, err, sizeof err), -1);
    CHECK(strstr(err, "unknown or expired upload") != NULL);
    free_split(cmds, n);
    qcmd_free(&orig);
    queue_free(q);
}

/* A whole-size list (1 MiB payloads as in raft entries) still assembles. */
static void test_split_one_mib_entries(void)
{
    struct qcmd orig = big_list(1000000), *cmds;
    size_t n;
    CHECK_INT_EQ(qcmd_split(&orig, (1 << 20) - 8, 3, &cmds, &n), 0);
    CHECK(n >= 2 + orig.spec.list_len / (1 << 20));
    struct queue *q = queue_new();
    CHECK_INT_EQ(apply_split(q, cmds, n, NULL), 0);
    check_same_list(q, 1, &orig);
    free_split(cmds, n);
    qcmd_free(&orig);
    queue_free(q);
}

static void test_interleaved_uploads_and_snapshot(void)
{
    struct qcmd a = big_list(3000), b = big_list(5000), *ca, *cb;
    size_t na, nb;
    CHECK_INT_EQ(qcmd_split(&a, PAYLOAD, 1, &ca, &na), 0);
    CHECK_INT_EQ(qcmd_split(&b, PAYLOAD, 2, &cb, &nb), 0);
    struct queue *q = queue_new(), *r = queue_new();
    char err[128];
    for (size_t i = 0; i + 1 < nb; i++) {
        if (i + 1 < na)
            CHECK_INT_EQ(queue_apply(q, &ca[i], NULL, err, sizeof err), 0);
        CHECK_INT_EQ(queue_apply(q, &cb[i], NULL, err, sizeof err), 0);
        CHECK_INT_EQ(apply_free(q, make_drain(9, i % 2), NULL, err), 0);
    }
    /* Half-staged uploads travel in the snapshot. */
    uint8_t *snap;
    size_t len;
    CHECK_INT_EQ(queue_snapshot(q, &snap, &len), 0);
    CHECK_INT_EQ(queue_restore(r, snap, len), 0);
    free(snap);
    struct queue *both[] = {q, r};
    for (int k = 0; k < 2; k++) {
        uint64_t id;
        CHECK_INT_EQ(apply_free(both[k], (struct qcmd){0}, NULL, err), -1);  /* type 0 */
        struct queue_outcome out;
        CHECK_INT_EQ(queue_apply(both[k], &cb[nb - 1], &out, err, sizeof err), 0);
        id = out.batch_id;
        CHECK_INT_EQ(queue_apply(both[k], &ca[na - 1], &out, err, sizeof err), 0);
        CHECK_INT_EQ(out.batch_id, id + 1);
    }
    uint8_t *sq, *sr;
    size_t lq, lr;
    CHECK_INT_EQ(queue_snapshot(q, &sq, &lq), 0);
    CHECK_INT_EQ(queue_snapshot(r, &sr, &lr), 0);
    CHECK(lq == lr && memcmp(sq, sr, lq) == 0);
    free(sq);
    free(sr);
    free_split(ca, na);
    free_split(cb, nb);
    qcmd_free(&a);
    qcmd_free(&b);
    queue_free(q);
    queue_free(r);
}

static void test_mismatch_refused_and_dropped(void)
{
    struct qcmd orig = big_list(3000), *cmds;
    size_t n;
    CHECK_INT_EQ(qcmd_split(&orig, PAYLOAD, 8, &cmds, &n), 0);
    struct queue *q = queue_new();
    char err[128];
    /* One part missing: the announced length does not match. (Parts that
     * carry their offset are refused at the gap, test_missing_part_refused;
     * format 2 parts append, and the SUBMIT still checks the whole.) */
    for (size_t i = 1; i + 1 < n; i++) {
        struct qcmd appended = cmds[i];
        appended.part_offset = QCMD_PART_APPEND;
        CHECK_INT_EQ(queue_apply(q, &appended, NULL, err, sizeof err), 0);
    }
    CHECK_INT_EQ(queue_apply(q, &cmds[n - 1], NULL, err, sizeof err), -1);
    CHECK(strstr(err, "announced") != NULL);
    CHECK_INT_EQ(queue_batch_count(q), 0);
    CHECK_INT_EQ(queue_next_batch_id(q), 1);  /* a refused SUBMIT takes no id */
    /* Same length, wrong count: the list is checked when assembled. */
    for (size_t i = 0; i + 1 < n; i++)
        CHECK_INT_EQ(queue_apply(q, &cmds[i], NULL, err, sizeof err), 0);
    cmds[n - 1].spec.count--;
    CHECK_INT_EQ(queue_apply(q, &cmds[n - 1], NULL, err, sizeof err), -1);
    CHECK(strstr(err, "malformed number list") != NULL);
    CHECK_INT_EQ(queue_apply(q, &cmds[n - 1], NULL, err, sizeof err), -1);
    CHECK(strstr(err, "unknown or expired") != NULL);
    free_split(cmds, n);
    qcmd_free(&orig);
    queue_free(q);
}

static struct qcmd part(uint64_t upload_id, const char *bytes, size_t len)
{
    struct qcmd c = {.type = QCMD_LIST_PART, .upload_id = upload_id, .part_len = len};
    c.part = malloc(len);
    memcpy(c.part, bytes, len);
    return c;
}

static struct qcmd submit_upload(uint64_t upload_id, uint64_t count, size_t len)
{
    struct qcmd c = {.type = QCMD_SUBMIT, .upload_id = upload_id};
    c.spec = (struct batch_spec){.kind = BATCH_LIST, .count = count, .list_len = len};
    return c;
}

/* An abandoned upload goes after UPLOAD_IDLE_LIMIT commands, on every
 * replica at the same command. */
static void test_idle_upload_expires(void)
{
    struct queue *q = queue_new();
    char err[128];
    CHECK_INT_EQ(apply_free(q, part(5, "15\0", 3), NULL, err), 0);
    CHECK_INT_EQ(apply_free(q, part(6, "21\0", 3), NULL, err), 0);
    for (int i = 0; i < UPLOAD_IDLE_LIMIT - 1; i++)
        CHECK_INT_EQ(apply_free(q, make_drain(1, true), NULL, err), 0);
    /* upload 5 was touched LIMIT + 1 commands ago: gone; 6 just in time. */
    CHECK_INT_EQ(apply_free(q, submit_upload(6, 1, 3), NULL, err), 0);
    CHECK_INT_EQ(apply_free(q, submit_upload(5, 1, 3), NULL, err), -1);
    CHECK(strstr(err, "unknown or expired") != NULL);
    queue_free(q);
}

static void test_eviction_keeps_the_recent(void)
{
    struct queue *q = queue_new();
    char err[128];
    for (uint64_t id = 1; id <= UPLOAD_MAX_ACTIVE + 1; id++)
        CHECK_INT_EQ(apply_free(q, part(id, "7\0", 2), NULL, err), 0);
    CHECK_INT_EQ(apply_free(q, submit_upload(1, 1, 2), NULL, err), -1);  /* evicted */
    CHECK_INT_EQ(apply_free(q, submit_upload(2, 1, 2), NULL, err), 0);
    CHECK_INT_EQ(apply_free(q, submit_upload(UPLOAD_MAX_ACTIVE + 1, 1, 2), NULL, err), 0);
    queue_free(q);
}

static void test_part_codec_is_strict(void)
{
    struct qcmd bad[] = {part(0, "7\0", 2), part(1, "07\0", 3), part(1, "7", 1),
                         part(1, "7\0\0", 3)};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t *buf;
        size_t len;
        CHECK_INT_EQ(qcmd_encode(&bad[i], &buf, &len), -1);
        struct queue *q = queue_new();
        char err[128];
        CHECK_INT_EQ(queue_apply(q, &bad[i], NULL, err, sizeof err), -1);
        queue_free(q);
        qcmd_free(&bad[i]);
    }
    struct qcmd good = part(1, "7\0" "123\0", 6), d;
    uint8_t *buf;
    size_t len;
    CHECK_INT_EQ(qcmd_encode(&good, &buf, &len), 0);
    CHECK_INT_EQ(qcmd_decode(buf, len, &d), 0);
    CHECK(d.part_len == 6 && memcmp(d.part, good.part, 6) == 0 && d.upload_id == 1);
    qcmd_free(&d);
    buf[5] = 'x';  /* the first digit of the part */
    CHECK_INT_EQ(qcmd_decode(buf, len, &d), -1);
    free(buf);
    qcmd_free(&good);
}

/* A leader change can leave a writer unsure whether its command went in,
 * so it sends it again: a resent part is skipped, a resent SUBMIT (same
 * write token) is the batch already made, also across a snapshot. */
static void test_resent_parts_and_submit_are_recognised(void)
{
    struct qcmd orig = big_list(3000), *cmds;
    orig.token = 0x5eed5eed5eedULL;
    size_t n;
    CHECK_INT_EQ(qcmd_split(&orig, PAYLOAD, 41, &cmds, &n), 0);
    CHECK(n >= 4);
    CHECK_INT_EQ(cmds[n - 1].token, orig.token);
    struct queue *q = queue_new();
    char err[128];
    for (size_t i = 0; i + 1 < n; i++)
        for (int twice = 0; twice < 2; twice++)
            CHECK_INT_EQ(queue_apply(q, &cmds[i], NULL, err, sizeof err), 0);
    struct queue_outcome out;
    CHECK_INT_EQ(queue_apply(q, &cmds[n - 1], &out, err, sizeof err), 0);
    uint64_t id = out.batch_id;
    check_same_list(q, id, &orig);
    CHECK_INT_EQ(queue_apply(q, &cmds[n - 1], &out, err, sizeof err), 0);
    CHECK_INT_EQ(out.batch_id, id);
    CHECK_INT_EQ(queue_batch_count(q), 1);
    uint8_t *snap;
    size_t len;
    CHECK_INT_EQ(queue_snapshot(q, &snap, &len), 0);
    struct queue *r = queue_new();
    CHECK_INT_EQ(queue_restore(r, snap, len), 0);
    CHECK_INT_EQ(queue_apply(r, &cmds[n - 1], &out, err, sizeof err), 0);
    CHECK_INT_EQ(out.batch_id, id);
    CHECK_INT_EQ(queue_batch_count(r), 1);
    /* Another write (another token) of the same list is a new batch. */
    cmds[n - 1].token++;
    for (size_t i = 0; i + 1 < n; i++)
        CHECK_INT_EQ(queue_apply(r, &cmds[i], NULL, err, sizeof err), 0);
    CHECK_INT_EQ(queue_apply(r, &cmds[n - 1], &out, err, sizeof err), 0);
    CHECK(out.batch_id != id);
    CHECK_INT_EQ(queue_batch_count(r), 2);
    free(snap);
    queue_free(r);
    queue_free(q);
    free_split(cmds, n);
    qcmd_free(&orig);
}

/* A part past the staged end (one went missing) cannot make a whole list. */
static void test_missing_part_refused(void)
{
    struct qcmd orig = big_list(3000), *cmds;
    size_t n;
    CHECK_INT_EQ(qcmd_split(&orig, PAYLOAD, 42, &cmds, &n), 0);
    CHECK(n >= 4);
    struct queue *q = queue_new();
    char err[128];
    CHECK_INT_EQ(queue_apply(q, &cmds[0], NULL, err, sizeof err), 0);
    CHECK_INT_EQ(queue_apply(q, &cmds[2], NULL, err, sizeof err), -1);
    CHECK(strstr(err, "does not follow") != NULL);
    /* The upload is dropped: its SUBMIT finds nothing to make a batch of. */
    CHECK_INT_EQ(queue_apply(q, &cmds[n - 1], NULL, err, sizeof err), -1);
    CHECK(strstr(err, "unknown or expired upload") != NULL);
    queue_free(q);
    free_split(cmds, n);
    qcmd_free(&orig);
}

int main(void)
{
    test_resent_parts_and_submit_are_recognised();
    test_missing_part_refused();
    test_small_submit_is_itself();
    test_split_and_assemble();
    test_split_one_mib_entries();
    test_interleaved_uploads_and_snapshot();
    test_mismatch_refused_and_dropped();
    test_idle_upload_expires();
    test_eviction_keeps_the_recent();
    test_part_codec_is_strict();
    return 0;
}
