/* memwatch.h - a node's memory, by holder, in its debug log (memwatch.c). */
#ifndef MESH_NODE_MEMWATCH_H
#define MESH_NODE_MEMWATCH_H

struct node;

/* Once a tick: one debug line (malloc's heap in use and free, raft's log in
 * memory, the results inline in the queue, the outbox, the leader's
 * pending results), so a soak can tell which one grows. */
void node_memwatch_tick(struct node *n);

#endif
