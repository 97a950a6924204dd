/* spread.h - the coordinator of spread batches: one hard number sieved by
 * the whole mesh (doc/DESIGN.md, "One hard number, the whole mesh").
 *
 * A spread batch (src/sm/batch.h, BATCH_SPREAD) is leased, computed,
 * checked for form, committed and retained like any batch; its numbers
 * are range jobs and its results relations. The leader runs the
 * coordinator: on its tick it reads the relations committed since the
 * last (each checked against N by the decoder; a bad one is dropped and
 * counted), combines when there are enough, and on a split hands N's
 * factors to its own result path as the last index's result, then the
 * ranges never sieved an empty result each, so the batch ends DONE. A new
 * leader rebuilds the same state from the committed results. */
#ifndef MESH_NODE_SPREAD_H
#define MESH_NODE_SPREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct node;
struct node_spread;

struct consensus_applied;

/* The cluster tick (routes.c): leader only; frees everything otherwise. */
void node_spread_tick(struct node *n);
/* The applied row (routes.c): a committed range is merged at once, and a
 * spread batch opened at its SUBMIT's commit, not at the next tick. */
void node_spread_on_applied(struct node *n, const struct consensus_applied *a);
/* Where a coordinator is (spread_progress.h shows it): its relation sets,
 * those it waits for, whether it combines now, and the sets it had when
 * it had merged everything committed before it opened (since_ms; rate
 * known from then on): what a new leader or a restarted node merges to
 * catch up was sieved before, and counted in the rate it made a
 * restarted 100-digit run show 8-29 sets/s for minutes where the mesh
 * made 0.5. */
struct spread_count {
    uint64_t batch;
    size_t sets, want_sets;
    bool combining;
    bool rate_known;
    uint64_t since_ms;
    size_t since_sets;
};
size_t node_spread_counts(const struct node *n, struct spread_count *out, size_t max);
/* Frees the coordinators (consensus is stopping). */
void node_spread_stop(struct node *n);

#endif
