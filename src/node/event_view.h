/* event_view.h - the interface of src/node/event_view.c. */
#ifndef MESH_NODE_EVENT_VIEW_H
#define MESH_NODE_EVENT_VIEW_H

struct node;

/* Once a second: the leader tells what changed in its view of the mesh. */
void node_events_tick(struct node *n);

#endif
