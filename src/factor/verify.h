/* verify.h - checks a factorisation that someone else claims.
 *
 * The kernel checks its own answers (factor.h); a node's leader receives
 * answers from other nodes, and a key holder can send any text. Before a
 * result is committed the leader checks it here: the text is a result in
 * the canonical form (queue.h, struct qresult), the factors multiply back
 * to N (times the unfactored rest, if any), every factor is prime and the
 * rest is composite. Primality is decided as the kernel decides it: below
 * 2^64 deterministically (u64_is_prime), above by Baillie-PSW (GMP). A
 * base-2 test alone would not do here: the sender chooses the factors, and
 * base-2 strong pseudoprimes (2047 = 23 * 89) are easy to choose.
 *
 * The 64-bit path (N, every factor and the rest below 2^64) uses no GMP and
 * no allocation: the leader checks every result it commits. */
#ifndef MESH_FACTOR_VERIFY_H
#define MESH_FACTOR_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A sieve of the primes below FACTOR_VERIFY_SIEVE_BOUND (odd numbers, one
 * bit each: 256 KiB): a factor below it is looked up, not tested. The
 * factors of everyday numbers are mostly that small, and for them a
 * Miller-Rabin test was most of the check's cost (measured with
 * tests/factor/verify_bench.c). Made once by the node that leads. */
enum { FACTOR_VERIFY_SIEVE_BOUND = 1 << 22 };
struct factor_verifier;
/* NULL when out of memory. */
struct factor_verifier *factor_verifier_new(void);
void factor_verifier_free(struct factor_verifier *v);

enum factor_verdict {
    FACTOR_VERDICT_OK = 0,
    FACTOR_VERDICT_MALFORMED,       /* not "f1 f2 ... [unfactored:C]" */
    FACTOR_VERDICT_WRONG_PRODUCT,   /* the parts do not multiply back to N */
    FACTOR_VERDICT_NOT_PRIME,       /* a listed factor is not prime */
    FACTOR_VERDICT_REST_NOT_COMPOSITE, /* the unfactored rest is prime or 1 */
    FACTOR_VERDICT_NOT_A_DIVISOR,   /* a curve job's factor does not divide N */
};

/* Checks text[0..len), a result in the canonical form, against n, N's
 * normalised decimal text (batch_number's output). *unfactored tells
 * whether the text claims an unfactored rest (set whatever the verdict
 * once the grammar is met). v may be NULL (no sieve: every factor above
 * 2^12 is tested); the verdict is the same. */
enum factor_verdict factor_verify(const struct factor_verifier *v, const char *n,
                                  const char *text, size_t len, bool *unfactored);
/* The parts of a text as factor_verify_u64 read them, in the text's
 * order (the unfactored rest last): read is false when they were not all
 * words (the text went the GMP way, or did not parse). */
enum { FACTOR_VERIFY_WORDS = 65 };
struct factor_words {
    uint64_t v[FACTOR_VERIFY_WORDS];
    size_t count;
    bool read;
};
/* The same for N given as a word (a range batch's numbers: no decimal
 * text made for N only to be read back); the verdict is factor_verify's
 * for N's decimal text. words (may be NULL) receives the parts read. */
enum factor_verdict factor_verify_u64(const struct factor_verifier *v, uint64_t n,
                                      const char *text, size_t len, bool *unfactored,
                                      struct factor_words *words);

/* A short message for logs: "a factor is not prime", ... */
const char *factor_verdict_message(enum factor_verdict v);

#endif
