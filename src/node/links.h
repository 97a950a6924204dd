/* links.h - the interface of src/node/links.c (see that file for why). */
#ifndef MESH_NODE_LINKS_H
#define MESH_NODE_LINKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct node;

/* links.c: peer links and discovery. */
int node_links_start(struct node *n);
int node_discovery_start(struct node *n);
unsigned node_links_stop(struct node *n, void (*on_closed)(void *ud));
/* Adds "port" and "discovery" to `top`. */
void node_links_status(const struct node *n, json_t *top);

#endif
