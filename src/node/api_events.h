/* api_events.h - the interface of src/node/api_events.c (see that file for why). */
#ifndef MESH_NODE_API_EVENTS_H
#define MESH_NODE_API_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct node;
struct control_conn;

/* api_events.c: `mesh events` (long polls answered as events arrive). */
struct events_waiter;
void api_events(struct node *n, struct control_conn *c, json_t *req);
void api_events_wake(struct node *n);
void api_events_forget(struct node *n, struct control_conn *c);
void api_events_drop(struct node *n);

#endif
