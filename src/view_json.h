/* view_json.h - the mesh view (ui/snapshot.h) as the JSON of
 * `mesh status --json`: the same facts the dashboard draws. */
#ifndef MESH_VIEW_JSON_H
#define MESH_VIEW_JSON_H

#include <jansson.h>

#include "snapshot.h"

/* Adds nodes, batches, leader, term, quorum, commit_index, applied_index
 * and cluster_id to top. */
void view_to_json(const struct ui_snapshot *s, json_t *top);

#endif
