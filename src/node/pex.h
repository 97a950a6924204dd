/* pex.h - the interface of src/node/pex.c (see that file for why). */
#ifndef MESH_NODE_PEX_H
#define MESH_NODE_PEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct node;

/* pex.c: peer exchange. */
void node_pex_send(struct node *n, uint64_t to);
void node_pex_tick(struct node *n);
void node_pex_on_message(struct node *n, uint64_t peer, const uint8_t *data, size_t len);

#endif
