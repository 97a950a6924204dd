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

enum factor_verdict {
    FACTOR_VERDICT_OK = 0,
    FACTOR_VERDICT_MALFORMED,       /* not "f1 f2 ... [unfactored:C]" */
    FACTOR_VERDICT_WRONG_PRODUCT,   /* the parts do not multiply back to N */
    FACTOR_VERDICT_NOT_PRIME,       /* a listed factor is not prime */
    FACTOR_VERDICT_REST_NOT_COMPOSITE, /* the unfactored rest is prime or 1 */
};

/* Checks text[0..len), a result in the canonical form, against n, N's
 * normalised decimal text (batch_number's output). *unfactored tells
 * whether the text claims an unfactored rest (set whatever the verdict
 * once the grammar is met). */
enum factor_verdict factor_verify(const char *n, const char *text, size_t len,
                                  bool *unfactored);

/* A short message for logs: "a factor is not prime", ... */
const char *factor_verdict_message(enum factor_verdict v);

#endif
