/* progress.h - what a long factorisation is doing, told as it goes.
 *
 * A number past 140 bits takes seconds to minutes (ECM, SIQS, PARI); the
 * kernel reports where it is through a sink passed down with the work
 * (factor_ctx.progress; no global state). The kernel calls the sink
 * whenever it has counted something (a curve, an A polynomial's
 * relations, a phase begun); the sink decides what to do with it: the
 * worker child (child.c) turns it into a record on its pipe at most a few
 * times a second, with the rate and ETA it measures itself.
 *
 * The pipe record (child.h's protocol, one line, decimal fields):
 *   "<id> progress <phase> <bits> <b1> <found> <needed> <rate_milli> <eta_s>"
 * phase: one of factor_phase_name's words; bits: the size of the composite
 * being split; b1: ECM's stage-1 bound (0 outside ECM); found/needed:
 * curves run of those planned at that bound (ECM) or relation sets of
 * those wanted (sieving), 0 0 when the phase counts nothing; rate_milli:
 * found per second, times 1000; eta_s: seconds left at that rate, or "-"
 * when unknown. factor_progress_parse is the decoder the node runs on it;
 * it refuses anything else (fuzzed: tests/factor/fuzz_progress.c). */
#ifndef MESH_FACTOR_PROGRESS_H
#define MESH_FACTOR_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum factor_phase {
    FACTOR_PHASE_ECM = 0,     /* ECM curves at bound b1 */
    FACTOR_PHASE_SIEVE = 1,   /* SIQS collecting relations */
    FACTOR_PHASE_MATRIX = 2,  /* SIQS linear algebra */
    FACTOR_PHASE_SQRT = 3,    /* SIQS square roots of the dependencies */
    FACTOR_PHASE_PARI = 4,    /* handed to libpari: no counts */
    FACTOR_PHASE_COUNT = 5,
};

/* What the kernel knows. */
struct factor_progress {
    enum factor_phase phase;
    uint32_t bits;
    uint64_t b1;
    uint64_t found, needed;
};

/* The callback and its context; a NULL sink means nobody listens. */
struct factor_progress_sink {
    void (*report)(void *ud, const struct factor_progress *p);
    void *ud;
};

static inline void factor_progress_report(const struct factor_progress_sink *sink,
                                          const struct factor_progress *p)
{
    if (sink != NULL && sink->report != NULL)
        sink->report(sink->ud, p);
}

/* What the record carries: the kernel's counts and the child's clock. */
struct factor_progress_record {
    uint64_t id;
    struct factor_progress p;
    uint64_t rate_milli;
    bool eta_known;
    uint64_t eta_s;
};

enum { FACTOR_PROGRESS_LINE_MAX = 200 };

/* "ecm", "sieving", "matrix", "sqrt", "pari"; NULL when out of range. */
const char *factor_phase_name(enum factor_phase phase);
/* The phase named name[0..len); -1 when none is. */
int factor_phase_parse(const char *name, size_t len);

/* The record with its newline into buf; returns its length. */
size_t factor_progress_format(char buf[FACTOR_PROGRESS_LINE_MAX],
                              const struct factor_progress_record *r);

/* Decodes line[0..len) (no newline): 0 and *r filled, or -1 when it is not
 * exactly a record (every field present, decimal without sign or leading
 * zeros, u64 range, bits 1..1024, one blank between fields, nothing
 * after). */
int factor_progress_parse(const char *line, size_t len, struct factor_progress_record *r);

/* True when line[0..len) is a progress record by its second word, so that
 * a reader can tell it from an answer before parsing it. */
bool factor_progress_is_record(const char *line, size_t len);

#endif
