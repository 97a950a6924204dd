/* tally.h - the interface of src/node/tally.c (see that file for why).
 *
 * The first module with a narrow handle instead of the whole node: it gets
 * the data dir and the log, and is told the count and the time. */
#ifndef MESH_NODE_TALLY_H
#define MESH_NODE_TALLY_H

#include <stdbool.h>
#include <stdint.h>

struct mesh_log;

struct tally {
    const char *data_dir;       /* DATA_DIR/factored holds the count */
    struct mesh_log *log;
    uint64_t saved, saved_ms;   /* the count as last saved, and when (ms) */
};

/* Reads the count into *done (unchanged when there is none; a damaged file
 * is logged and counts from 0). */
void node_tally_load(struct tally *n, uint64_t *done);
/* Saves `done` at time `now_ms` when it changed and the last save is 5 s
 * old, or at once with `now`; tmp+rename. */
void node_tally_save(struct tally *n, uint64_t done, uint64_t now_ms, bool now);

#endif
