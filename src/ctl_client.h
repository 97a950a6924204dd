/* ctl_client.h - the CLI's side of the control socket (blocking, simple).
 *
 * A CLI command opens the node's socket in the data dir, sends one JSON
 * request per line and reads one JSON answer per line. */
#ifndef MESH_CTL_CLIENT_H
#define MESH_CTL_CLIENT_H

#include <jansson.h>
#include <stddef.h>

struct ctl_client {
    int fd;
    char *buf;
    size_t len, cap;
    size_t answered;     /* bytes of buf the last answer took (dropped next) */
    char cmd[24];        /* the CLI command: every message says "mesh CMD: " */
};

/* Connects to the node of data_dir (NULL: the default dir) for the CLI
 * command cmd. On failure prints why on stderr and returns -1 (the command
 * exits EXIT_NO_NODE). */
int ctl_open(struct ctl_client *cl, const char *data_dir, const char *cmd);

/* Sends req (reference stolen) and returns the answer, or NULL after
 * printing why on stderr. An answer with "ok": false is printed as
 * "mesh CMD: ERROR" and returned as NULL too; *node_error tells the cases
 * apart (1: the node refused the request, 0: the connection failed). */
json_t *ctl_call(struct ctl_client *cl, json_t *req, int *node_error);

/* The same call, for the one answer that carries millions of items
 * (results): the answer's raw line when it starts {"ok":true, (valid until
 * the next call), so the caller reads the few fields it needs itself;
 * parsing it whole with jansson cost the CLI more CPU than the node spent
 * making it. Otherwise NULL, said as ctl_call says it. */
char *ctl_call_raw(struct ctl_client *cl, json_t *req, size_t *len, int *node_error);

void ctl_close(struct ctl_client *cl);

/* Shorthand: open, one call, close, for the command named by req's "cmd".
 * Sets *exit_code on failure. */
json_t *ctl_request(const char *data_dir, json_t *req, int *exit_code);

#endif
