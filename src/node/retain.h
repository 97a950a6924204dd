/* retain.h - the interface of src/node/retain.c (see that file for why). */
#ifndef MESH_NODE_RETAIN_H
#define MESH_NODE_RETAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct node;

/* retain.c: the leader forgets what --keep-results and
 * --results-budget say (one FORGET at a time, once a second at most). */
void node_retain_tick(struct node *n);
/* Running batches alone fill the budget: new submits are refused (err). */
bool node_retain_full(const struct node *n, char *err, size_t errlen);

#endif
