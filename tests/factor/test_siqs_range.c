/* test_siqs_range.c - a hard number as range jobs (siqs_range.h) and its
 * coordinator (siqs_coord.h): job texts round-trip and every other
 * spelling is refused; a worker runs real ranges and answers a result
 * text inside a result's charset and size; the coordinator merges those
 * texts (from two workers, out of order, one range twice) and its combine
 * splits n; tampered and foreign relations are dropped and counted, texts
 * that are not results are malformed; a result written by the previous
 * release (wire version 1, the file named by the argument) still merges,
 * the same relations as today's text of that range. With the arguments
 * `seed DIR` it writes the fuzz corpus seeds for fuzz_siqs_range instead. */
#include <stdio.h> /* before gmp.h */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gmp.h>

#include "batch.h"
#include "check.h"
#include "queue.h"
#include "siqs_coord.h"
#include "siqs_range.h"

/* The fuzz target's n: a 149-bit semiprime (test_siqs_mp_wire.c). */
static const char *const N150 = "509210500453231419516077995770618553170047119";

static gmp_randstate_t rng;

static void random_semiprime(mpz_t n, unsigned bits, mpz_t p)
{
    mpz_t q;
    mpz_init(q);
    do {
        mpz_urandomb(p, rng, bits / 2);
        mpz_setbit(p, bits / 2 - 1);
        mpz_nextprime(p, p);
        mpz_urandomb(q, rng, bits - bits / 2);
        mpz_setbit(q, bits - bits / 2 - 1);
        mpz_nextprime(q, q);
        mpz_mul(n, p, q);
    } while (mpz_sizeinbase(n, 2) != bits);
    mpz_clear(q);
}

static bool parses(const char *text)
{
    mpz_t n;
    mpz_init(n);
    uint32_t lo = 0, hi = 0;
    bool ok = siqs_range_job_parse(text, strlen(text), n, &lo, &hi);
    mpz_clear(n);
    return ok;
}

static void test_job_texts(void)
{
    mpz_t n, back;
    mpz_inits(n, back, NULL);
    mpz_set_str(n, N150, 10);
    char buf[SIQS_RANGE_JOB_MAX + 1];
    size_t len = siqs_range_job_format(buf, sizeof buf, n, 12, 16);
    CHECK(len == strlen(buf) && siqs_range_job_is(buf, len));
    CHECK_STR_EQ(buf, "siqs:509210500453231419516077995770618553170047119:12:16");
    uint32_t lo, hi;
    CHECK(siqs_range_job_parse(buf, len, back, &lo, &hi));
    CHECK(mpz_cmp(n, back) == 0 && lo == 12 && hi == 16);
    /* Out of range for the formatter: empty or too wide ranges, even n. */
    CHECK(siqs_range_job_format(buf, sizeof buf, n, 4, 4) == 0);
    CHECK(siqs_range_job_format(buf, sizeof buf, n, 0, SIQS_RANGE_MAX_A + 1) == 0);
    CHECK(siqs_range_job_format(buf, 20, n, 0, 1) == 0);
    mpz_mul_2exp(back, n, 1);
    CHECK(siqs_range_job_format(buf, sizeof buf, back, 0, 1) == 0);
    /* Every other spelling is refused. */
    const char *bad[] = {
        "siqs:509210500453231419516077995770618553170047119:12",
        "siqs:509210500453231419516077995770618553170047119:12:16:",
        "siqs:509210500453231419516077995770618553170047119:12:16 ",
        "siqs:0509210500453231419516077995770618553170047119:12:16",
        "siqs:509210500453231419516077995770618553170047119:012:16",
        "siqs:509210500453231419516077995770618553170047119:+12:16",
        "siqs:509210500453231419516077995770618553170047119:16:12",
        "siqs:509210500453231419516077995770618553170047119:16:16",
        "siqs:509210500453231419516077995770618553170047119:0:65",
        "siqs:509210500453231419516077995770618553170047119:4294967296:4294967297",
        "siqs:509210500453231419516077995770618553170047118:12:16", /* even */
        "siqs:1000000000000000000001:0:1",                           /* < 100 bits */
        "SIQS:509210500453231419516077995770618553170047119:12:16",
        "siqs::12:16",
        "siqs:",
        "509210500453231419516077995770618553170047119",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (parses(bad[i]))
            fprintf(stderr, "accepted: %s\n", bad[i]);
        CHECK(!parses(bad[i]));
    }
    CHECK(parses("siqs:509210500453231419516077995770618553170047119:0:64"));
    mpz_clears(n, back, NULL);
}

/* A result text as a node would carry it: the prefix, then only letters
 * of the base-32 alphabet, within a result's size. */
static void check_result_text(const char *text)
{
    size_t len = strlen(text);
    CHECK(len > 5 && len <= SIQS_RANGE_TEXT_MAX);
    CHECK(memcmp(text, SIQS_RANGE_RESULT_PREFIX, 5) == 0);
    for (size_t i = 5; i < len; i++)
        CHECK((text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'v'));
}

static char *run_range(struct siqs_range_worker *w, const struct siqs_coord *c, uint64_t i)
{
    char job[SIQS_RANGE_JOB_MAX + 1], err[64], *text = NULL;
    size_t len = siqs_coord_job(c, i, job, sizeof job);
    CHECK(len > 0);
    CHECK(siqs_range_run(w, job, len, 0, &text, err, sizeof err));
    check_result_text(text);
    return text;
}

static struct siqs_coord *open_coord(const mpz_t n)
{
    struct siqs_coord *c;
    mpz_t f;
    mpz_init(f);
    CHECK(siqs_coord_open(&c, n, f) == SIQS_COORD_OPENED);
    mpz_clear(f);
    return c;
}

/* Two workers take alternate ranges; their texts come back to the
 * coordinator in reverse pairs, the first range twice. It combines when
 * ready until n splits; every relation checked good. */
static void test_split(unsigned bits)
{
    mpz_t n, p, f;
    mpz_inits(n, p, f, NULL);
    random_semiprime(n, bits, p);
    struct siqs_coord *c = open_coord(n);
    struct siqs_range_worker w[2] = {{0}, {0}};
    char *first = NULL;
    uint64_t i = 0;
    int found = 0;
    while (found == 0) {
        while (!siqs_coord_ready(c)) {
            char *a = run_range(&w[0], c, i), *b = run_range(&w[1], c, i + 1);
            CHECK(siqs_coord_take(c, b, strlen(b)) && siqs_coord_take(c, a, strlen(a)));
            if (first == NULL)
                first = a;
            else
                free(a);
            free(b);
            i += 2;
        }
        found = siqs_coord_combine(c, f);
        CHECK(found >= 0);
    }
    struct siqs_coord_stats st;
    CHECK(siqs_coord_take(c, first, strlen(first))); /* a range sieved twice */
    siqs_coord_stats(c, &st);
    fprintf(stderr, "%u bits: %llu ranges of %u A, %zu results, %zu relations, %zu repeats, "
            "%zu sets of %zu, %d combines\n", bits, (unsigned long long)i, st.width, st.results,
            st.wire.added, st.wire.repeats, st.sets, st.want_sets, st.combines);
    CHECK(st.wire.dropped == 0 && st.wire.malformed == 0 && st.wire.repeats > 0);
    CHECK(st.results == i + 1);
    CHECK(mpz_cmp_ui(f, 1) > 0 && mpz_cmp(f, n) < 0 && mpz_divisible_p(n, f));
    free(first);
    siqs_coord_free(c);
    siqs_range_worker_free(&w[0]);
    siqs_range_worker_free(&w[1]);
    mpz_clears(n, p, f, NULL);
}

/* Relations of a range of n, tampered or sent to another n's coordinator,
 * are dropped and counted; texts that are not results are malformed and
 * add nothing. */
static void test_refusals(void)
{
    mpz_t n, other, p;
    mpz_inits(n, other, p, NULL);
    mpz_set_str(n, N150, 10);
    random_semiprime(other, 150, p);
    struct siqs_coord *c = open_coord(n), *foreign = open_coord(other);
    struct siqs_range_worker w = {0};
    char *text = run_range(&w, c, 3);
    size_t len = strlen(text);
    struct siqs_coord_stats st;

    CHECK(siqs_coord_take(foreign, text, len));
    siqs_coord_stats(foreign, &st);
    CHECK(st.wire.added == 0 && st.wire.dropped > 10);

    /* One letter in the middle changed: the message still parses or not,
     * but nothing false is added (the good ones before it may be). */
    char *bent = strdup(text);
    bent[len / 2] = bent[len / 2] == '7' ? '8' : '7';
    siqs_coord_take(c, bent, len);
    siqs_coord_stats(c, &st);
    CHECK(st.wire.dropped + st.wire.malformed >= 1);
    size_t before = st.wire.added;
    CHECK(siqs_coord_take(c, text, len)); /* the true text: the rest is added */
    siqs_coord_stats(c, &st);
    CHECK(st.wire.added > before && st.wire.added >= 10);

    const char *junk[] = {"", "rels", "rels:", "rels:a8", "rels:a808", "rels:a8081",
                          "rels:A8080", "rels:a808w", "rel:a8080", "2 3 5", "rels:a8080 "};
    /* The leader's check of form: a letter outside the alphabet anywhere,
     * a length no encoder writes, unused bits that are not zero. */
    const char *not_form[] = {"", "rels", "rels:", "rels:A8080", "rels:a808w", "rels:w8080",
                              "rel:a8080", "2 3 5", "rels:a8080 ", "rels:a8081", "rels:a808"};
    for (size_t i = 0; i < sizeof not_form / sizeof *not_form; i++)
        CHECK(!siqs_range_result_form(not_form[i], strlen(not_form[i])));
    for (size_t i = 0; i < sizeof junk / sizeof *junk; i++) {
        siqs_coord_stats(c, &st);
        size_t malformed = st.wire.malformed, added = st.wire.added;
        CHECK(!siqs_coord_take(c, junk[i], strlen(junk[i])));
        siqs_coord_stats(c, &st);
        CHECK(st.wire.malformed == malformed + 1 && st.wire.added == added);
    }
    /* The empty message of version 1 is a result (a range that found none). */
    siqs_coord_stats(c, &st);
    CHECK(siqs_range_result_form("rels:a80g0", 10) && siqs_range_result_form(text, len));
    CHECK(siqs_coord_take(c, "rels:a80g0", 10));
    /* A job that is not one is the worker's error, not an answer. */
    char err[64] = "", *none = NULL;
    CHECK(!siqs_range_run(&w, "siqs:15:0:1", 11, 0, &none, err, sizeof err) && none == NULL);
    CHECK(strlen(err) > 0);
    /* A cube passes the job's checks and a worker answers it (its
     * relations hold mod N); the coordinator refuses it (a power: the
     * combine could not split it), and gives N to one worker. */
    mpz_t cube;
    mpz_init_set_ui(cube, 1099511627791u); /* the prime after 2^40 */
    mpz_pow_ui(cube, cube, 3);
    char job[SIQS_RANGE_JOB_MAX + 1];
    size_t job_len = siqs_range_job_format(job, sizeof job, cube, 0, 1);
    CHECK(job_len > 0);
    CHECK(siqs_range_run(&w, job, job_len, 0, &none, err, sizeof err));
    CHECK(siqs_range_result_form(none, strlen(none)));
    free(none);
    struct siqs_coord *nope;
    mpz_t f;
    mpz_init(f);
    CHECK(siqs_coord_open(&nope, cube, f) == SIQS_COORD_NOT_SIQS && nope == NULL);
    mpz_clears(cube, f, NULL);
    free(bent);
    free(text);
    siqs_range_worker_free(&w);
    siqs_coord_free(c);
    siqs_coord_free(foreign);
    mpz_clears(n, other, p, NULL);
}

/* A spread batch (src/sm/batch.h): its numbers are exactly the job texts
 * siqs_range_job_parse reads, in order, and the last is N; the result
 * grammar every replica checks takes relation texts and nothing like
 * them; specs out of range are refused. */
static void test_spread_batch(void)
{
    char err[128], num[MESH_MAX_DIGITS + 2];
    struct batch_spec spec;
    CHECK(batch_spread_init(&spec, "0509210500453231419516077995770618553170047119", 3, 40,
                            err, sizeof err) == 0);
    CHECK(spec.kind == BATCH_SPREAD && spec.count == 41 && spec.chunk == 1);
    mpz_t n, want;
    mpz_inits(n, want, NULL);
    mpz_set_str(want, N150, 10);
    for (uint64_t i = 0; i < 40; i++) {
        uint32_t lo, hi;
        CHECK(batch_number(&spec, i, num, sizeof num) == 0);
        CHECK(siqs_range_job_parse(num, strlen(num), n, &lo, &hi));
        CHECK(mpz_cmp(n, want) == 0 && lo == i * 3 && hi == lo + 3);
        char again[SIQS_RANGE_JOB_MAX + 1];
        CHECK(siqs_range_job_format(again, sizeof again, n, lo, hi) == strlen(num));
        CHECK_STR_EQ(again, num);
    }
    CHECK(batch_number(&spec, 40, num, sizeof num) == 0);
    CHECK_STR_EQ(num, N150);
    CHECK(batch_number(&spec, 41, num, sizeof num) != 0);
    batch_spec_free(&spec);
    const struct { const char *n; uint32_t width; uint64_t ranges; } bad[] = {
        {"509210500453231419516077995770618553170047118", 3, 40},  /* even */
        {"1000000000000000000001", 3, 40},                         /* < 100 bits */
        {N150, 0, 40}, {N150, 65, 40}, {N150, 3, 0},
        {N150, 64, (uint64_t)UINT32_MAX / 64 + 1},                 /* A past 2^32 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK(batch_spread_init(&spec, bad[i].n, bad[i].width, bad[i].ranges, err,
                                sizeof err) != 0);
        CHECK(spec.start == NULL);
    }
    CHECK(qresult_text_well_formed("rels:a80g0", 10));
    CHECK(qresult_text_valid("rels:a80g0", 10));
    const char *not_results[] = {"rels:", "rels:a80w0", "rels:A80G0", "rels:a80g0 3",
                                 "3 rels:a80g0", "rel:a80g0", "rels::"};
    for (size_t i = 0; i < sizeof not_results / sizeof *not_results; i++)
        CHECK(!qresult_text_well_formed(not_results[i], strlen(not_results[i])));
    mpz_clears(n, want, NULL);
}

/* The jobs a spread batch publishes (siqs_coord_plan): 2048 A up to
 * about 230 bits (66-90 split 196 bits), then a quarter of the factor
 * base's size, so a 100-digit number (which wants thousands of A) does not
 * run out of ranges and fall to one worker. */
static void test_plan(void)
{
    const struct { unsigned bits; uint32_t width; uint64_t min_a, max_a; } sizes[] = {
        {150, 4, 2048, 2048}, {180, 2, 2048, 2048}, {200, 1, 2048, 2048},
        {280, 1, 6000, 8000}, {330, 1, 15000, 18000}, {340, 1, 20000, 20000},
    };
    mpz_t n, p;
    mpz_inits(n, p, NULL);
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        random_semiprime(n, sizes[i].bits, p);
        uint32_t width;
        uint64_t ranges;
        siqs_coord_plan(n, &width, &ranges);
        CHECK(width == sizes[i].width);
        CHECK(ranges * width >= sizes[i].min_a && ranges * width <= sizes[i].max_a);
        struct batch_spec spec;
        char err[128], num[MESH_MAX_DIGITS + 2];
        gmp_snprintf(num, sizeof num, "%Zd", n);
        CHECK(batch_spread_init(&spec, num, width, ranges, err, sizeof err) == 0);
        batch_spec_free(&spec);
    }
    mpz_clears(n, p, NULL);
}

/* siqs_range_v1.txt: the result of job siqs:N150:0:1 as the previous
 * release's worker answered it (wire version 1, every slot sent), the form
 * committed in its data dirs and in results still being stored. It merges
 * with nothing dropped, and today's answer to the same job (version 2)
 * brings exactly those relations again: all repeats. */
static void test_version_1(const char *path)
{
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    static char old[SIQS_RANGE_TEXT_MAX + 1];
    size_t len = fread(old, 1, sizeof old - 1, f);
    fclose(f);
    CHECK(len > 1000 && siqs_range_result_form(old, len));
    mpz_t n;
    mpz_init_set_str(n, N150, 10);
    struct siqs_coord *c = open_coord(n);
    struct siqs_coord_stats st;
    CHECK(siqs_coord_take(c, old, len));
    siqs_coord_stats(c, &st);
    size_t old_rels = st.wire.added;
    CHECK(old_rels > 100 && st.wire.dropped == 0 && st.wire.malformed == 0 && st.wire.repeats == 0);
    char job[SIQS_RANGE_JOB_MAX + 1], err[64], *text = NULL;
    size_t job_len = siqs_range_job_format(job, sizeof job, n, 0, 1);
    struct siqs_range_worker w = {0};
    CHECK(job_len > 0 && siqs_range_run(&w, job, job_len, 0, &text, err, sizeof err));
    fprintf(stderr, "range 0:1 of N150: %zu relations, %zu letters as version 1, %zu now\n",
            old_rels, len, strlen(text));
    CHECK(strlen(text) < len);
    CHECK(siqs_coord_take(c, text, strlen(text)));
    siqs_coord_stats(c, &st);
    CHECK(st.wire.added == old_rels && st.wire.repeats == old_rels && st.wire.dropped == 0);
    free(text);
    siqs_range_worker_free(&w);
    siqs_coord_free(c);
    mpz_clear(n);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL && fwrite(text, 1, strlen(text), f) == strlen(text) && fclose(f) == 0);
}

/* The fuzz corpus: results of two real ranges of N150, and a job text. */
static void write_seeds(const char *dir)
{
    mpz_t n;
    mpz_init_set_str(n, N150, 10);
    struct siqs_coord *c = open_coord(n);
    struct siqs_range_worker w = {0};
    char *a = run_range(&w, c, 0), *b = run_range(&w, c, 1);
    write_file(dir, "range0", a);
    write_file(dir, "range1", b);
    write_file(dir, "empty", "rels:a80g0");
    char job[SIQS_RANGE_JOB_MAX + 1];
    CHECK(siqs_coord_job(c, 5, job, sizeof job) > 0);
    write_file(dir, "job", job);
    free(a);
    free(b);
    siqs_range_worker_free(&w);
    siqs_coord_free(c);
    mpz_clear(n);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "seed") == 0) {
        write_seeds(argv[2]);
        return 0;
    }
    CHECK(argc == 2); /* the version 1 result */
    test_version_1(argv[1]);
    gmp_randinit_default(rng);
    gmp_randseed_ui(rng, 20);
    test_job_texts();
    test_spread_batch();
    test_plan();
    test_refusals();
    test_split(150);
    test_split(180);
    gmp_randclear(rng);
    return 0;
}
