/* spread_progress.h - progress of a hard number sieved by the whole mesh
 * (doc/DESIGN.md, "Progress of a spread job").
 *
 * Two kinds of rows ride the long numbers' PROGRESS messages (hard.h), so
 * every node sees them with no message of their own: each node's workers
 * on a range job (phase sieving, the range's index, no counts: a range is
 * a tenth of a second), and the leader's coordinator of each spread batch
 * (worker SPREAD_COORD_WORKER: relation sets mesh-wide of those the
 * combine wants, the rate since this leader counts, the ETA; phase matrix
 * while a combine runs). A node's view turns the coordinator rows into
 * view_spread entries, each with the number's own batch and index (a
 * routed one's, from its "route:P:I" name) and the nodes whose workers
 * sieve it now; the worker rows stay in the hard list. */
#ifndef MESH_NODE_SPREAD_PROGRESS_H
#define MESH_NODE_SPREAD_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#include "meshmsg.h"

/* The worker number of a coordinator row (no worker has it: pools are
 * far smaller). */
enum { SPREAD_COORD_WORKER = 65535 };

struct node;
struct mesh_view;

/* This node's rows: its workers on range jobs, then (the leader) its
 * coordinators; up to max into out, returns how many. */
size_t spread_progress_rows(const struct node *n, struct msg_hard *out, size_t max);
/* A coordinator row of node `node` (hex id) into s->spread. */
void spread_progress_put(const struct node *n, struct mesh_view *s, const char *node,
                         const struct msg_hard *h);
/* Fills each view_spread's nodes from s->hard (call once both are full). */
void spread_progress_nodes(struct mesh_view *s);

#endif
