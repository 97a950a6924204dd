/* write.h - the interface of src/node/write.c (see that file for why). */
#ifndef MESH_NODE_WRITE_H
#define MESH_NODE_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "queue.h"

struct node;
struct qcmd;

/* write.c: every write (submit, cancel, drain) goes through the
 * leader's log. done runs once: rc 0 when THIS node's replica has applied
 * the entry (so a read that follows sees it), -1 refused or failed (err). */
typedef void (*node_write_cb)(void *ud, int rc, uint64_t batch_id, const char *err);
/* tag: what node_write_forget() matches (the client connection). */
void node_write(struct node *n, const struct qcmd *cmd, node_write_cb done, void *ud,
                void *tag);
/* Leader side of a forwarded write. */
/* Reads the test fault MESH_FAULT_DROP_REPLIES=N (this node, as leader,
 * loses the next N REPLY messages it would send). */
void node_write_start(struct node *n);
void node_write_on_forward(struct node *n, uint64_t peer, const uint8_t *data, size_t len);
void node_write_on_reply(struct node *n, uint64_t peer, const uint8_t *data, size_t len);
/* Applied index advanced, or the leader changed: finish what can be. */
void node_write_progress(struct node *n);
void node_write_fail_all(struct node *n, const char *why);
/* A client went away: its waiting writes still call done, with rc
 * NODE_WRITE_GONE, so the caller frees what it must and answers nobody. */
enum { NODE_WRITE_GONE = -3 };
void node_write_forget(struct node *n, void *tag);
/* "no quorum: 1 of 3 voters reachable" (or "no leader elected yet"). */
void node_quorum_text(const struct node *n, char *buf, size_t len);
void node_set_drain(struct node *n, bool drain);

#endif
