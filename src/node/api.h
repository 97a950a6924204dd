/* api.h - the interface of src/node/api.c (see that file for why). */
#ifndef MESH_NODE_API_H
#define MESH_NODE_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "queue.h"

struct node;
struct control_conn;
struct qcmd;

/* api.c: the control-socket request handlers. */

void api_on_request(void *ud, struct control_conn *c, json_t *req);
/* A submit request (the JSON `mesh submit` sends) as a command; 0 or -1
 * with err. The dashboard's form submits through it too. */
int api_submit_command(struct qcmd *cmd, json_t *req, char *err, size_t errlen);
/* NODE by name, hex id or unique id prefix (NULL: this node): 0, -1 none,
 * -2 ambiguous. */
int api_resolve_node(struct node *n, const char *which, uint64_t *id);
void api_on_conn_closed(void *ud, struct control_conn *c);
/* Answers results waiters that can now make progress. */
void api_wake_waiters(struct node *n);
void api_drop_waiters(struct node *n);

#endif
