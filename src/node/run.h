/* run.h - a node's life: run.c starts every module on the loop, runs it
 * and stops it (node.h is the context they share). */
#ifndef MESH_NODE_RUN_H
#define MESH_NODE_RUN_H

struct node;
struct node_config;

/* Runs a node until SIGINT/SIGTERM (or `q` on the dashboard); returns the
 * process exit code. `routes`: who handles what (node/dispatch.h; the
 * node's own are node_routes). */
struct node_routes;
int node_run(struct node_config *cfg, const struct node_routes *routes);
/* Starts a graceful shutdown: every subsystem closes, then node_run returns. */
void node_stop(struct node *n);

#endif
