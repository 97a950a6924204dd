/* view_json.h - the mesh view (src/view.h) as the JSON of
 * `mesh status --json`: the same facts the dashboard draws. */
#ifndef MESH_VIEW_JSON_H
#define MESH_VIEW_JSON_H

#include <jansson.h>

#include "view.h"

/* Adds nodes, batches, leader, term, quorum, commit_index, applied_index
 * and cluster_id to top. */
void view_to_json(const struct mesh_view *s, json_t *top);

#endif
