/* gen_corpus.c - writes the seed corpora of the core fuzz targets.
 * Run by hand after a format change:
 *   build-core/tests/core/gen_corpus tests/core
 * It writes corpus_qcmd/, corpus_snapshot/ and corpus_list/ (which must
 * exist) from commands built through the public API, so seeds always match
 * the current encoders. The seeds of earlier formats are worth keeping (a
 * data dir of a previous release replays through the same decoders): the
 * formatN_* ones (renamed so when format N + 1 came); so write into a
 * scratch dir and copy only the new seeds over. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue.h"

static void write_file(const char *dir, const char *name, const void *p, size_t n)
{
    char path[4096];
    /* A path that does not fit is refused rather than cut short (and the
     * check is what tells GCC's -Wformat-truncation it was thought of). */
    int len = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (len < 0 || (size_t)len >= sizeof path) {
        fprintf(stderr, "gen_corpus: path too long: %s/%s\n", dir, name);
        exit(1);
    }
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, n, f) != n) {
        perror(path);
        exit(1);
    }
    fclose(f);
}

static void must(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "gen_corpus: %s failed\n", what);
        exit(1);
    }
}

/* Encodes c into dir/name and applies it to q. */
static void emit(struct queue *q, const char *dir, const char *name, struct qcmd *c)
{
    uint8_t *buf;
    size_t len;
    char err[128];
    must(qcmd_encode(c, &buf, &len), name);
    write_file(dir, name, buf, len);
    free(buf);
    queue_apply(q, c, NULL, err, sizeof err);
    qcmd_free(c);
}

static struct qcmd complete(uint64_t id, uint64_t first, size_t n, const char *text)
{
    struct qcmd c = {.type = QCMD_COMPLETE, .batch_id = id, .n_results = n};
    c.results = calloc(n, sizeof *c.results);
    for (size_t i = 0; i < n; i++) {
        c.results[i].index = first + i;
        c.results[i].text = strdup(text);
    }
    return c;
}

/* COMPLETE_BLOCK with every form of item: factors, an empty list, a big
 * factor and an unfactored rest kept as text, a gap in the indexes. */
static void gen_block(struct queue *q, const char *qdir)
{
    const char *texts[] = {"2 2 3", "", "3 340282366920938463463374607431768211457",
                           "2 unfactored:91", "7 7 18446744073709551557"};
    struct qcmd c = complete(4, 10, 5, "");
    c.type = QCMD_COMPLETE_BLOCK;
    for (size_t i = 0; i < 5; i++) {
        free(c.results[i].text);
        c.results[i].text = strdup(texts[i]);
        c.results[i].index = 10 + 2 * i;
    }
    emit(q, qdir, "complete_block", &c);
}

static void snapshot_to(const struct queue *q, const char *dir, const char *name)
{
    uint8_t *buf;
    size_t len;
    must(queue_snapshot(q, &buf, &len), name);
    write_file(dir, name, buf, len);
    free(buf);
}

/* A list uploaded in parts: the parts, a snapshot with the upload half
 * staged, then the SUBMIT that assembles it. */
static void gen_upload(struct queue *q, const char *qdir, const char *sdir)
{
    struct qcmd list = {.type = QCMD_SUBMIT}, *cmds;
    size_t n;
    char err[128], text[4096] = "";
    for (int i = 0; i < 300; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "%d\n", 1000 + i * 7);
    must(batch_list_parse(&list.spec, text, strlen(text), err, sizeof err), "upload list");
    list.spec.budget_ms = 5000;
    must(qcmd_split(&list, 600, 0x5eed, &cmds, &n), "split");
    if (n < 3)
        must(-1, "split into parts");
    for (size_t i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, i + 1 < n ? "upload_part%zu" : "upload_submit", i);
        if (i + 1 == n)
            snapshot_to(q, sdir, "uploading");
        emit(q, qdir, name, &cmds[i]);
    }
    free(cmds);
    qcmd_free(&list);
}

/* corpus_result_file (beside sdir): each spilled batch's file after its
 * manifest's done and unfactored counts (u16 each), what fuzz_result_file
 * reads. */
static void result_file_seeds(const struct queue *q, const char *tmp, const char *sdir)
{
    uint8_t *snap;
    size_t len, at = 0;
    must(queue_snapshot(q, &snap, &len), "snapshot");
    struct queue *r = queue_new();
    must(queue_restore(r, snap, len), "restore");
    char out[4200];
    snprintf(out, sizeof out, "%s/../corpus_result_file", sdir);
    struct queue_file_ref ref;
    while (queue_results_wanted(r, &at, &ref)) {
        struct batch_info info;
        char path[4300], name[64];
        must(queue_batch_get(r, ref.batch_id, &info), "batch");
        queue_file_path(tmp, ref.hash, path, sizeof path);
        FILE *f = fopen(path, "rb");
        uint8_t *buf = malloc(ref.len + 4);
        if (f == NULL || buf == NULL || fread(buf + 4, 1, ref.len, f) != ref.len)
            must(-1, path);
        fclose(f);
        buf[0] = (uint8_t)info.done;
        buf[1] = (uint8_t)(info.done >> 8);
        buf[2] = (uint8_t)info.unfactored;
        buf[3] = (uint8_t)(info.unfactored >> 8);
        snprintf(name, sizeof name, "batch%llu_%s", (unsigned long long)ref.batch_id,
                 info.state == BATCH_DONE ? "done" : "cancelled");
        write_file(out, name, buf, ref.len + 4);
        free(buf);
    }
    queue_free(r);
    free(snap);
}

/* The finished batches spilled to their files (in a directory removed
 * after): a snapshot that names them (format 6's manifest entries). */
static void gen_manifest(struct queue *q, const char *sdir)
{
    char tmp[] = "/tmp/mesh-gen-XXXXXX";
    if (mkdtemp(tmp) == NULL)
        must(-1, "mkdtemp");
    struct queue_spill *s;
    while ((s = queue_spill_start(q, tmp)) != NULL) {
        while (queue_spill_step(s, q, 4) == 1)
            ;
        must(queue_spill_finish(s, q), "spill");
    }
    snapshot_to(q, sdir, "manifest");
    result_file_seeds(q, tmp, sdir);
    struct queue *empty = queue_new();
    queue_results_sweep(empty, tmp, true);
    queue_free(empty);
    rmdir(tmp);
}

/* A running batch whose first 64 pages are in a segment file (in a
 * directory removed after): a snapshot that names the segment and carries
 * the results past it inline (format 6's "where" 2). */
static void gen_segments(const char *sdir)
{
    char tmp[] = "/tmp/mesh-gen-XXXXXX", err[128];
    if (mkdtemp(tmp) == NULL)
        must(-1, "mkdtemp");
    struct queue *q = queue_new();
    struct qcmd c = {.type = QCMD_SUBMIT};
    must(batch_range_init(&c.spec, "1000", 1, 65536 + 100, err, sizeof err), "range");
    must(queue_apply(q, &c, NULL, err, sizeof err), "submit");
    qcmd_free(&c);
    c = complete(1, 0, 65536, "2 2 2 5 5 5");
    c.results[7].text[0] = '\0';
    must(queue_apply(q, &c, NULL, err, sizeof err), "complete");
    qcmd_free(&c);
    c = complete(1, 65540, 2, "2 unfactored:91");
    must(queue_apply(q, &c, NULL, err, sizeof err), "complete past");
    qcmd_free(&c);
    struct queue_spill *s;
    while ((s = queue_spill_start(q, tmp)) != NULL) {
        while (queue_spill_step(s, q, 8) == 1)
            ;
        must(queue_spill_finish(s, q), "spill");
    }
    snapshot_to(q, sdir, "segments");
    queue_free(q);
    struct queue *empty = queue_new();
    queue_results_sweep(empty, tmp, true);
    queue_free(empty);
    rmdir(tmp);
}

/* A spread batch (BATCH_SPREAD) and a range's relations as its result. */
static void gen_spread(struct queue *q, const char *qdir)
{
    char err[128];
    struct qcmd c = {.type = QCMD_SUBMIT};
    must(batch_spread_init(&c.spec, "509210500453231419516077995770618553170047119", 4, 8,
                           err, sizeof err), "spread");
    uint64_t id = queue_next_batch_id(q);
    emit(q, qdir, "submit_spread", &c);
    c = complete(id, 0, 2, "rels:a80g0");
    emit(q, qdir, "complete_relations", &c);
}

/* A spread batch with ECM curve jobs first (kind 5 on the wire: the plan
 * after the step) and a curve job's factor as its result. */
static void gen_spread_ecm(struct queue *q, const char *qdir)
{
    char err[128];
    struct qcmd c = {.type = QCMD_SUBMIT};
    struct ecm_plan plan = {2, 19};
    must(batch_spread_ecm_init(&c.spec,
                               "240723836642399286370151545903302369607974528016651410946994519112763",
                               &plan, 1, 5, err, sizeof err), "spread ecm");
    uint64_t id = queue_next_batch_id(q);
    emit(q, qdir, "submit_spread_ecm", &c);
    c = complete(id, 0, 1, "ecm:4:314159265359279");
    emit(q, qdir, "complete_curves", &c);
}

static void gen_commands_and_snapshots(const char *base)
{
    char qdir[4096], sdir[4096], err[128];
    snprintf(qdir, sizeof qdir, "%s/corpus_qcmd", base);
    snprintf(sdir, sizeof sdir, "%s/corpus_snapshot", base);
    struct queue *q = queue_new();
    snapshot_to(q, sdir, "empty");
    struct qcmd c = {.type = QCMD_SUBMIT};
    must(batch_range_init(&c.spec, "999999999999", 2, 999, err, sizeof err), "range");
    c.spec.chunk = 43;
    snprintf(c.name, sizeof c.name, "odd");
    emit(q, qdir, "submit_range", &c);
    c = (struct qcmd){.type = QCMD_SUBMIT};
    must(batch_semiprimes_init(&c.spec, 100, 20, 7, err, sizeof err), "semiprimes");
    c.spec.budget_ms = 300; /* a batch's own budget (format 5) */
    emit(q, qdir, "submit_semiprimes", &c);
    c = (struct qcmd){.type = QCMD_SUBMIT};
    const char *list = "15\n21\n18446744073709551617\n";
    must(batch_list_parse(&c.spec, list, strlen(list), err, sizeof err), "list");
    c.spec.budget_ms = BATCH_BUDGET_NONE;
    emit(q, qdir, "submit_list", &c);
    c = complete(1, 0, 70, "3 7");
    emit(q, qdir, "complete_many", &c);
    c = complete(3, 0, 3, "3 5");
    c.results[2].text[0] = '\0';
    strcpy(c.results[1].text, "3 7");
    emit(q, qdir, "complete_all", &c);
    c = complete(2, 4, 1, "2 unfactored:91");
    emit(q, qdir, "complete_unfactored", &c);
    snapshot_to(q, sdir, "running");
    c = (struct qcmd){.type = QCMD_CANCEL, .batch_id = 2};
    emit(q, qdir, "cancel", &c);
    snapshot_to(q, sdir, "mixed");
    c = (struct qcmd){.type = QCMD_DRAIN, .node_id = 0x1234567890abcdefULL, .drained = true};
    emit(q, qdir, "drain", &c);
    c = (struct qcmd){.type = QCMD_DRAIN, .node_id = 77, .drained = true};
    emit(q, qdir, "drain_small", &c);
    snapshot_to(q, sdir, "drained");
    c = (struct qcmd){.type = QCMD_DRAIN, .node_id = 77, .drained = false};
    emit(q, qdir, "undrain", &c);
    c = (struct qcmd){.type = QCMD_FORGET, .forget = malloc(sizeof(uint64_t)), .n_forget = 1,
                      .forget_reason = FORGET_BY_USER, .time_ms = 1765000000000ULL};
    c.forget[0] = 3;
    emit(q, qdir, "forget", &c);
    snapshot_to(q, sdir, "forgotten");
    gen_upload(q, qdir, sdir);
    gen_block(q, qdir);
    gen_manifest(q, sdir);
    gen_spread(q, qdir);
    gen_spread_ecm(q, qdir);
    queue_free(q);
    gen_segments(sdir);
}

static void gen_lists(const char *base)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/corpus_list", base);
    const char *seeds[][2] = {
        {"plain", "1\n2\n3\n"},
        {"messy", "# numbers\n\n  +007 \r\n\t42\n# end\n18446744073709551616"},
        {"bad_line", "1\n2\nabc\n"},
        {"big", "17976931348623159077293051907890247336179769789423065727343008115773267"
                "5805500963132708477322407536021120113879871393357658789768814416622492"
                "8474306394741243777678934248654852763022196012460941194530829520850057"
                "6883815068234246288147391311054082723716335051068458629823994724593847"
                "9716304835356329624224137215\n0\n"},
    };
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++)
        write_file(dir, seeds[i][0], seeds[i][1], strlen(seeds[i][1]));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_corpus DIR (tests/core)\n");
        return 2;
    }
    gen_commands_and_snapshots(argv[1]);
    gen_lists(argv[1]);
    return 0;
}
