/* factor.h - the factoring kernel: decimal in, verified prime factors out.
 *
 * Any integer from 0 below 2^1024. Numbers that fit in 64 bits go through
 * the hand-written fast path (factor_u64.h); larger ones have their small
 * factors stripped (trial division, rho), then composites up to 340 bits
 * go to our SIQS (siqs.h) after a short ECM pass (ecm_mp.h, libecm), larger
 * ones to ECM, and only what these cannot take to libpari. Every answer is checked
 * before it is returned: the factors multiply back to N (GMP) and each is
 * proven prime (below 2^64) or a BPSW probable prime. A failed check is an
 * error, never a wrong answer.
 *
 * A per-number budget bounds the time spent: past it the result holds the
 * primes found so far and the composite rest as `unfactored`. */
#ifndef MESH_FACTOR_H
#define MESH_FACTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gmp.h>

enum {
    FACTOR_MAX_BITS = 1024,  /* inputs must be below 2^1024 */
    FACTOR_MAX_DIGITS = 309, /* decimal digits of 2^1024 - 1 */
};

/* Per-process kernel state. PARI keeps its own process-global state (its
 * stack, prime table, error handlers); this context records that it was set
 * up and the stack size used. One per process; not thread-safe. */
struct pari_module;
struct factor_progress_sink;

struct factor_ctx {
    size_t pari_stack_bytes;
    const struct pari_module *pari;   /* opened by the first number that needs it */
    bool pari_unavailable;            /* said once; not looked for again */
    unsigned siqs_jobs;               /* cores for one number past 140 bits (1: this
                                       * process only; more: forked workers, so set it
                                       * only in a single-threaded process) */
    const struct factor_progress_sink *progress; /* told where a long number is
                                       * (progress.h); NULL: nobody */
};

/* A context; PARI is opened and set up by the first number that needs it
 * (once per process: later contexts reuse it). 0 on success. */
int factor_ctx_init(struct factor_ctx *ctx);
/* PARI is left alive until process exit: other contexts may still use it. */
void factor_ctx_free(struct factor_ctx *ctx);

enum factor_status {
    FACTOR_ERROR = -1,   /* invalid input or failed verification: see error */
    FACTOR_DONE = 0,     /* factors hold the complete factorisation */
    FACTOR_PARTIAL = 1,  /* budget exceeded: factors * unfactored == N */
};

struct factor_result {
    char **factors;    /* prime factors, decimal, ascending, with multiplicity */
    size_t count;
    char *unfactored;  /* composite cofactor left when PARTIAL, else NULL */
    char error[64];    /* message when ERROR, else "" */
};

/* Factors the decimal text n (digits, optional leading '+', leading zeros
 * allowed). budget_ms == 0 means unlimited. Fills *res (release it with
 * factor_result_free, whatever the outcome) and returns its status.
 * Budgets are enforced on the PARI path with SIGALRM (setitimer): the
 * handler is installed only while PARI runs and restored afterwards; the
 * SIQS past 140 bits and ECM check the clock themselves; the 64-bit path always
 * completes within microseconds and is not interrupted. */
/* The ECM curves a spread of n runs before (or, past SIQS's range,
 * instead of) its SIQS ranges (doc/DESIGN.md, "ECM across the mesh"):
 * inside SIQS's range the ladder's pass for that size (a tenth of SIQS's
 * expected cost); past it, what fits in budget_ms of estimated work, or,
 * without a budget (0), the levels up to 30-digit factors, as the ladder
 * runs them. */
struct ecm_plan;
void factor_spread_ecm_plan(const mpz_t n, uint64_t budget_ms, struct ecm_plan *plan);

enum factor_status factor_decimal(struct factor_ctx *ctx, const char *n,
                                  uint64_t budget_ms, struct factor_result *res);
void factor_result_free(struct factor_result *res);

enum factor_parse_status {
    FACTOR_PARSE_OK = 0,
    FACTOR_PARSE_INVALID = -1, /* not [+]digits */
    FACTOR_PARSE_TOO_BIG = -2, /* >= 2^FACTOR_MAX_BITS */
};

/* Parses s[0..len) as [+]digits into out (initialised by the caller).
 * Rejects anything else, including whitespace and a sign other than one
 * leading '+'. Checks the size before converting, so huge input is cheap. */
enum factor_parse_status factor_parse(const char *s, size_t len, mpz_t out);
/* "not a valid positive integer" / "number exceeds 1024 bits". */
const char *factor_parse_message(enum factor_parse_status status);

/* The one text form of a result, shared by `mesh factor` and `mesh results`:
 *   "N: f1 f2 ..."                    complete (coreutils `factor` format)
 *   "N: f1 f2 ... unfactored:C"       budget exceeded, C composite
 * n is printed normalised (no '+', no leading zeros). Returns a malloc'd
 * string without newline, or NULL (out of memory, or res is an error). */
char *factor_format_line(const char *n, const struct factor_result *res);

/* Numbers below 2^64 without GMP or allocation (line_u64.c): the hot path
 * of `mesh factor` and of factor_decimal. */
enum {
    FACTOR_U64_FACTORS_MAX = 64,
    /* "N:" + 63 factors of 2, or fewer larger ones: digits of all the
     * factors together exceed N's by at most their count. */
    FACTOR_U64_LINE_MAX = 256,
};
/* [+]digits (leading zeros allowed) whose value fits 64 bits: true and the
 * value in *out; false for anything else (factor_parse decides what). */
bool factor_parse_u64(const char *s, size_t len, uint64_t *out);
/* Factors n into out (ascending, with multiplicity) and checks the answer:
 * the product is n and every factor is prime (see line_u64.c for how each
 * size is checked). Returns the count, or -1 when the check failed. */
int factor_u64_checked(uint64_t n, uint64_t out[FACTOR_U64_FACTORS_MAX]);
/* "N: f1 f2 ...\n" into buf, not NUL-terminated; returns its length. */
size_t factor_format_u64_line(char buf[FACTOR_U64_LINE_MAX], uint64_t n,
                              const uint64_t *factors, int count);
/* The same with N given as text, which must be n's canonical decimal form
 * (no sign, no leading zero, at most 20 digits): copying it is cheaper
 * than formatting n again. */
size_t factor_format_u64_line_text(char buf[FACTOR_U64_LINE_MAX], const char *text,
                                   size_t len, const uint64_t *factors, int count);
/* The worker protocol's "ID done f1 f2 ...\n" (child.h), NUL-terminated;
 * returns its length. */
size_t factor_format_u64_answer(char buf[FACTOR_U64_LINE_MAX], uint64_t id,
                                const uint64_t *factors, int count);

#endif
