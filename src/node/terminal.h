/* terminal.h - the interface of src/node/terminal.c (see that file for why). */
#ifndef MESH_NODE_TERMINAL_H
#define MESH_NODE_TERMINAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h"

struct node;

/* terminal.c: the dashboard, when the node has a terminal. */
bool node_wants_ui(const struct node_config *cfg);
int node_ui_start(struct node *n);
unsigned node_ui_stop(struct node *n, void (*on_closed)(void *ud));

#endif
