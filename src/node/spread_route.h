/* spread_route.h - the end of a routed hard number's link (spread_hold.h
 * makes it): on the leader's cluster tick, a spread batch linked to index
 * I of batch P ("route:P:I") that finished with N's factors has them
 * handed to the leader's own result path as P's result at I (checked by
 * factor_verify against P's number, like any node's); one that runs while
 * P is cancelled, finished or forgotten, or I is done otherwise, is
 * cancelled (its leases end everywhere); one cancelled, or finished
 * without the factors, releases I to one worker. Everything is read from
 * the log each tick, so a new leader carries on where the old one was. */
#ifndef MESH_NODE_SPREAD_ROUTE_H
#define MESH_NODE_SPREAD_ROUTE_H

struct node;

/* The cluster tick (routes.c): leader only. */
void node_route_tick(struct node *n);

#endif
