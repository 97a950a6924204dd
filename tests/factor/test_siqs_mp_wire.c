/* test_siqs_mp_wire.c - the compact form of SIQS relations (siqs_mp_wire.h):
 * relations sieved for n survive the round trip into a second context for
 * n with the same y and the same set count; a second copy adds nothing;
 * tampered relations (x, a slot, a large prime, indices out of range) are
 * dropped and counted; cut or foreign messages are malformed; relations
 * of another n are all dropped; a message of the previous release
 * (version 1, every slot sent; the file named by the argument) decodes. */
#include <stdio.h> /* before gmp.h */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gmp.h>

#include "check.h"
#include "siqs_mp_internal.h"
#include "siqs_mp_wire.h"

/* A 149-bit semiprime (two 75-bit primes) and its sieved relations. */
static const char *const N150 = "509210500453231419516077995770618553170047119";

static void ready_ctx(struct mp_ctx *ctx, const char *digits)
{
    mpz_t n, f;
    mpz_inits(n, f, NULL);
    mpz_set_str(n, digits, 10);
    siqs_mp_ctx_init(ctx, n);
    CHECK(siqs_mp_setup(ctx, f) == 0);
    mpz_clears(n, f, NULL);
}

static struct siqs_wire_stats decode(struct mp_ctx *ctx, const uint8_t *buf, size_t len, bool ok)
{
    struct siqs_wire_stats st = {0};
    bool got = siqs_wire_decode(ctx, buf, len, &st);
    if (got != ok)
        fprintf(stderr, "decode: added %zu repeats %zu dropped %zu malformed %zu\n", st.added,
                st.repeats, st.dropped, st.malformed);
    CHECK(got == ok);
    return st;
}

static void y_of(const struct mp_relations *r, size_t i, mpz_t y)
{
    const struct mp_rel *rel = &r->rel[i];
    mpz_import(y, (size_t)abs(rel->y_size), -1, sizeof(mp_limb_t), 0, 0, r->ylimbs + rel->y_first);
    if (rel->y_size < 0)
        mpz_neg(y, y);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Relation i has the same slots, with multiplicity, in both. */
static bool same_slots(const struct mp_relations *a, const struct mp_relations *b, size_t i)
{
    uint32_t x[512], y[512], n = a->rel[i].nfactors;
    if (n != b->rel[i].nfactors || n > 512)
        return false;
    memcpy(x, a->factors + a->rel[i].first, n * sizeof *x);
    memcpy(y, b->factors + b->rel[i].first, n * sizeof *y);
    qsort(x, n, sizeof *x, cmp_u32);
    qsort(y, n, sizeof *y, cmp_u32);
    return memcmp(x, y, n * sizeof *x) == 0;
}

static void test_round_trip(struct mp_ctx *sender)
{
    uint8_t *buf;
    size_t len, nrel = sender->rels.nrel;
    CHECK(siqs_wire_encode(sender, 0, nrel, &buf, &len));
    fprintf(stderr, "%zu relations (%zu sets) in %zu bytes\n", nrel, siqs_mp_sets(&sender->rels), len);
    struct mp_ctx rx;
    ready_ctx(&rx, N150);
    struct siqs_wire_stats st = decode(&rx, buf, len, true);
    CHECK(st.added == nrel && st.dropped == 0 && st.repeats == 0 && st.malformed == 0);
    CHECK(rx.rels.nrel == nrel);
    CHECK(siqs_mp_sets(&rx.rels) == siqs_mp_sets(&sender->rels));
    mpz_t a, b;
    mpz_inits(a, b, NULL);
    for (size_t i = 0; i < nrel; i++) {
        y_of(&sender->rels, i, a);
        y_of(&rx.rels, i, b);
        CHECK(mpz_cmp(a, b) == 0);
        CHECK(rx.rels.rel[i].nfactors == sender->rels.rel[i].nfactors);
        CHECK(same_slots(&sender->rels, &rx.rels, i)); /* those left out restored */
    }
    mpz_clears(a, b, NULL);
    st = decode(&rx, buf, len, true); /* the same range again: all repeats */
    CHECK(st.added == 0 && st.repeats == nrel && rx.rels.nrel == nrel);
    /* Cut short, trailing bytes, wrong magic: malformed, nothing added. */
    CHECK(decode(&rx, buf, len - 1, false).malformed == 1);
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, buf, len);
    longer[len] = 0;
    CHECK(decode(&rx, longer, len + 1, false).malformed == 1);
    longer[0] ^= 1;
    CHECK(decode(&rx, longer, len, false).malformed == 1);
    CHECK(decode(&rx, NULL, 0, false).malformed == 1);
    free(longer);
    CHECK(rx.rels.nrel == nrel);
    /* Another n: no relation of n holds for it. */
    struct mp_ctx other;
    ready_ctx(&other, "2474169851150970791055006873043"); /* 101 bits, two 51-bit primes */
    st = (struct siqs_wire_stats){0}; /* its factor base is smaller: malformed or dropped */
    siqs_wire_decode(&other, buf, len, &st);
    CHECK(st.added == 0 && st.dropped + st.malformed > 0 && other.rels.nrel == 0);
    siqs_mp_ctx_free(&other);
    siqs_mp_ctx_free(&rx);
    free(buf);
}

/* Relation 0 re-encoded after fiddling one field in the sender's copy:
 * the receiver drops it (or finds the message malformed when the field
 * goes out of the parseable range) and adds nothing. */
static void check_tampered(struct mp_ctx *sender, void (*tamper)(struct mp_ctx *), const char *what)
{
    struct mp_rel saved = sender->rels.rel[0];
    uint32_t saved_slot = sender->rels.factors[saved.first + saved.nfactors - 1];
    tamper(sender);
    uint8_t *buf;
    size_t len;
    CHECK(siqs_wire_encode(sender, 0, 1, &buf, &len));
    sender->rels.rel[0] = saved;
    sender->rels.factors[saved.first + saved.nfactors - 1] = saved_slot;
    struct mp_ctx rx;
    ready_ctx(&rx, N150);
    struct siqs_wire_stats st = {0};
    siqs_wire_decode(&rx, buf, len, &st);
    fprintf(stderr, "tampered %s: added %zu dropped %zu malformed %zu\n", what, st.added,
            st.dropped, st.malformed);
    CHECK(st.added == 0 && st.dropped + st.malformed == 1 && rx.rels.nrel == 0);
    siqs_mp_ctx_free(&rx);
    free(buf);
}

/* The A index changed on the wire (version 2 leaves A's primes out, so
 * the sender itself would not send a relation whose slots lack them): the
 * receiver adds the other A's primes and the product fails. */
static void check_other_a_on_the_wire(struct mp_ctx *sender)
{
    uint8_t *buf;
    size_t len;
    CHECK(sender->rels.rel[0].at.a_index < 32);
    CHECK(siqs_wire_encode(sender, 0, 1, &buf, &len));
    CHECK(len > 4 && buf[0] == 'R' && buf[1] == 2 && buf[2] == 1); /* version 2, one */
    CHECK(buf[3] == 2 * sender->rels.rel[0].at.a_index); /* zigzag step from 0 */
    buf[3] += 2 * 7;                                       /* A index + 7 */
    struct mp_ctx rx;
    ready_ctx(&rx, N150);
    struct siqs_wire_stats st = decode(&rx, buf, len, true);
    CHECK(st.added == 0 && st.dropped == 1 && rx.rels.nrel == 0);
    siqs_mp_ctx_free(&rx);
    free(buf);
}

/* The previous release's seed (tests/factor/siqs_wire_v1.bin: relations
 * 0..2 of N150, version 1): all three check and are added. */
static void check_version_1(const char *path)
{
    uint8_t buf[4096];
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    CHECK(len > 3 && buf[0] == 'R' && buf[1] == 1 && buf[2] == 3);
    struct mp_ctx rx;
    ready_ctx(&rx, N150);
    struct siqs_wire_stats st = decode(&rx, buf, len, true);
    CHECK(st.added == 3 && st.dropped == 0 && st.malformed == 0 && rx.rels.nrel == 3);
    siqs_mp_ctx_free(&rx);
}

static void x_plus_one(struct mp_ctx *c) { c->rels.rel[0].at.x++; }
static void x_past_m(struct mp_ctx *c) { c->rels.rel[0].at.x = (int32_t)c->m; }
static void other_b(struct mp_ctx *c) { c->rels.rel[0].at.b_index ^= 1; }
static void b_past_end(struct mp_ctx *c) { c->rels.rel[0].at.b_index = 1u << 20; }
static void slot_up(struct mp_ctx *c)
{
    struct mp_rel *r = &c->rels.rel[0];
    c->rels.factors[r->first + r->nfactors - 1] += 1; /* the largest slot: still sorted */
}
static void slot_past_fb(struct mp_ctx *c)
{
    struct mp_rel *r = &c->rels.rel[0];
    c->rels.factors[r->first + r->nfactors - 1] = c->fb.count;
}
static void fake_large(struct mp_ctx *c)
{
    c->rels.rel[0].large[1] = (uint32_t)(c->large_bound - 1);
}
static void large_past_bound(struct mp_ctx *c)
{
    c->rels.rel[0].large[0] = c->rels.rel[0].large[1] = (uint32_t)c->large_bound;
}

/* --write-seed FILE: a message of relations 0..2, the fuzz target's seed. */
static void write_seed(struct mp_ctx *sender, const char *path)
{
    uint8_t *buf;
    size_t len;
    CHECK(siqs_wire_encode(sender, 0, 3, &buf, &len));
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL && fwrite(buf, 1, len, f) == len && fclose(f) == 0);
    free(buf);
}

int main(int argc, char **argv)
{
    struct mp_ctx sender;
    ready_ctx(&sender, N150);
    bool timed_out = false;
    CHECK(siqs_mp_sieve_range(&sender, 0, 4, 0, &timed_out));
    CHECK(sender.rels.nrel > 10);
    if (argc == 3 && strcmp(argv[1], "--write-seed") == 0) {
        write_seed(&sender, argv[2]);
        siqs_mp_ctx_free(&sender);
        return 0;
    }
    CHECK(argc == 2); /* the version 1 message */
    check_version_1(argv[1]);
    test_round_trip(&sender);
    check_tampered(&sender, x_plus_one, "x + 1");
    check_tampered(&sender, x_past_m, "x = M");
    check_tampered(&sender, other_b, "B index");
    check_tampered(&sender, b_past_end, "B index past 2^(s-1)");
    check_other_a_on_the_wire(&sender);
    check_tampered(&sender, slot_up, "a slot");
    check_tampered(&sender, slot_past_fb, "slot past the factor base");
    check_tampered(&sender, fake_large, "a large prime");
    check_tampered(&sender, large_past_bound, "large primes past the bound");
    siqs_mp_ctx_free(&sender);
    return 0;
}
