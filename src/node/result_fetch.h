/* result_fetch.h - the interface of src/node/result_fetch.c (see that file
 * for why). */
#ifndef MESH_NODE_RESULT_FETCH_H
#define MESH_NODE_RESULT_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "queue.h"

struct node;

/* DATA_DIR/results, made if need be; NULL when it cannot be. */
const char *node_results_dir(struct node *n);
/* Each tick, and when a snapshot replaced the replica: sweep, load, fetch. */
void node_results_tick(struct node *n);
void node_results_on_restored(struct node *n);
/* FILE_GET: a peer asks for a chunk of a result file; FILE_PART: one
 * comes back. */
void node_results_on_get(struct node *n, uint64_t peer, const uint8_t *data, size_t len);
void node_results_on_part(struct node *n, uint64_t peer, const uint8_t *data, size_t len);
void node_results_stop(struct node *n);

/* A batch whose results file is not here, since the node first looked
 * for it: missing once every linked peer said "not here" in 3 rounds in a
 * row (asked: how many peers were linked then), until a peer has it. */
struct results_wait {
    uint64_t batch_id;
    uint8_t hash[QUEUE_FILE_HASH_BYTES];
    uint64_t since_ms;        /* wall clock (Unix ms) */
    uint64_t retry_ms;        /* loop time: asked for again after, if missing */
    unsigned rounds, asked;
    bool missing, told;
};
/* false when the node is not looking for batch_id's file. */
bool node_results_waiting(const struct node *n, uint64_t batch_id, struct results_wait *out);

#endif
