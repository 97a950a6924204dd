/* snapshot.h - the interface of src/node/snapshot.c (see that file for why). */
#ifndef MESH_NODE_SNAPSHOT_H
#define MESH_NODE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "view.h"

struct node;
struct mesh_view;

/* snapshot.c: the one view of the mesh (dashboard and status --json). */
void node_snapshot(const struct node *n, struct mesh_view *s);
/* "active", "draining" (workers still finishing) or "drained". */
const char *node_state_name(const struct node *n);

#endif
