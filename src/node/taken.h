/* taken.h - the results a leadership took and has not yet seen committed.
 *
 * Between taking a result (lead_rules_on_results) and applying the entry
 * that carries it, the leader's replica does not show it done, so the
 * same result sent again (an outbox resending after seconds without a
 * commit, a range re-leased while its first results wait in the log) was
 * taken and proposed again: mesh-sim seed 135757244343110 committed one
 * result in 14 blocks. This set answers "held already" for those, so a
 * result is proposed once per leadership.
 *
 * Kept as index ranges per batch, sorted: results come back in runs (a
 * lease's numbers in order), so a few ranges per lease in flight, and a
 * lookup is a binary search with a hint for the run being read. No clock
 * of its own and no I/O: its rules run in a C test (tests/node/test_taken.c).
 * doc/DESIGN.md, "A result proposed once per leadership". */
#ifndef MESH_NODE_TAKEN_H
#define MESH_NODE_TAKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "queue.h"

enum {
    /* A range whose first index was not committed for this long is
     * forgotten: the entry carrying it failed (a write error, not a lost
     * leadership, which ends the set), and its results must be taken
     * again when they are resent. Well above a loaded log's commit time,
     * below the lease's settling time (lease_table.h, SETTLE_MS). */
    TAKEN_STALE_MS = 8000,
};

struct taken;

struct taken *taken_new(void);
void taken_free(struct taken *t);

/* Is index `index` of `batch` held (taken, not yet seen committed)? */
bool taken_has(struct taken *t, uint64_t batch, uint64_t index);
/* Holds it from now_ms; false when out of memory (then it is not held:
 * a copy may be proposed, as before this set existed). */
bool taken_add(struct taken *t, uint64_t batch, uint64_t index, uint64_t now_ms);
/* Forgets everything (a proposal failed: its results must be taken again;
 * or nothing is pending or in flight). */
void taken_clear(struct taken *t);
/* Drops what q shows committed, batches no longer running, and ranges
 * whose first index made no progress for TAKEN_STALE_MS. */
void taken_prune(struct taken *t, const struct queue *q, uint64_t now_ms);
size_t taken_ranges(const struct taken *t);

#endif
