/* view_text.h - how the mesh's view words its events, the same for the
 * dashboard (node/snapshot.c builds struct mesh_view with it) and for
 * `mesh events` (src/cmd/events.c): node ids named, and repeats folded.
 * Pure: no node, no I/O (tests/node/test_view.c). */
#ifndef MESH_VIEW_TEXT_H
#define MESH_VIEW_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* True when event b repeats event a: the same kind and text, or, for the
 * kinds that come in bursts (requeue, warning, error, refused), the same
 * text but for its numbers ("lease of batch 5 [645,688) on beta expired"
 * and "... [688,731) ..."). Such a run is shown as one line with a count. */
bool view_events_alike(const char *kind_a, const char *text_a, const char *kind_b,
                       const char *text_b);

/* Replaces each 16-hex-digit node id in text (a whole word) by the name
 * name_of returns for it (NULL: left as it is), within size bytes. */
void view_name_ids(char *text, size_t size, const char *(*name_of)(void *ud, const char *id),
                   void *ud);

#endif
