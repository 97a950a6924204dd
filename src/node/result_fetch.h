/* result_fetch.h - the interface of src/node/result_fetch.c (see that file
 * for why). */
#ifndef MESH_NODE_RESULT_FETCH_H
#define MESH_NODE_RESULT_FETCH_H

#include <stddef.h>
#include <stdint.h>

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

#endif
