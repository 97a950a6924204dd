/* merge.h - the interface of src/node/merge.c (see that file for why). */
#ifndef MESH_NODE_MERGE_H
#define MESH_NODE_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct node;

/* merge.c: two clusters that meet become one. */
void node_merge_tick(struct node *n);
bool node_merge_active(const struct node *n);
uint64_t node_merge_into(const struct node *n);
void node_merge_on_reply(struct node *n, uint64_t peer, const uint8_t *data, size_t len);
void node_merge_on_dissolved(struct node *n, uint64_t peer, uint64_t cluster_id);
void node_merge_free(struct node *n);

#endif
