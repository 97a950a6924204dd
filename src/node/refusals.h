/* refusals.h - the interface of src/node/refusals.c (see that file for why). */
#ifndef MESH_NODE_REFUSALS_H
#define MESH_NODE_REFUSALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct node;

/* refusals.c: results the leader refused, per sender. note() counts
 * one, logs it (rate-limited) and, when `wrong` (it failed the check, as
 * opposed to coming without a lease), counts a strike against a member and
 * drains it after a run of them. skip() counts results not read after a
 * wrong one (the rest of its message). */
void node_refusals_note(struct node *n, uint64_t from, uint64_t batch, uint64_t index,
                        const char *why, bool wrong);
void node_refusals_skip(struct node *n, uint64_t from, size_t count);
uint64_t node_refusals_of(const struct node *n, uint64_t id);
void node_refusals_free(struct node *n);

#endif
