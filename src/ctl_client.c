/* ctl_client.c - see ctl_client.h. */
#include "ctl_client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cmd.h"
#include "datadir.h"

/* "mesh CMD: " before every message of a command: one prefix, whichever
 * side (the CLI or the node) found the fault. */
static void say(const struct ctl_client *cl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(const struct ctl_client *cl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "mesh %s: ", cl->cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int ctl_open(struct ctl_client *cl, const char *data_dir, const char *cmd)
{
    memset(cl, 0, sizeof *cl);
    cl->fd = -1;
    snprintf(cl->cmd, sizeof cl->cmd, "%s", cmd);
    char dir[4096], path[4200];
    if (data_dir == NULL) {
        if (datadir_default(dir, sizeof dir) != 0) {
            say(cl, "no default data dir (set HOME or use --data-dir)");
            return -1;
        }
        data_dir = dir;
    }
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (datadir_control_path(data_dir, path, sizeof path) != 0 ||
        strlen(path) >= sizeof addr.sun_path) {
        say(cl, "data dir path too long for a unix socket: %s", data_dir);
        return -1;
    }
    memcpy(addr.sun_path, path, strlen(path) + 1);
    cl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (cl->fd < 0 || connect(cl->fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        say(cl, "no node running on data dir %s (%s: %s)", data_dir, path, strerror(errno));
        ctl_close(cl);
        return -1;
    }
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads up to and including the next newline; returns its length or -1. */
static ssize_t read_line(struct ctl_client *cl)
{
    for (;;) {
        char *nl = cl->len > 0 ? memchr(cl->buf, '\n', cl->len) : NULL;
        if (nl != NULL)
            return nl - cl->buf;
        if (cl->cap - cl->len < 65536) {
            size_t cap = cl->cap ? cl->cap * 2 : 131072;
            char *nb = realloc(cl->buf, cap);
            if (nb == NULL)
                return -1;
            cl->buf = nb;
            cl->cap = cap;
        }
        ssize_t r = read(cl->fd, cl->buf + cl->len, cl->cap - cl->len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        cl->len += (size_t)r;
    }
}

/* The answer a raw call handed out is dropped when the next call starts. */
static void drop_answer(struct ctl_client *cl)
{
    if (cl->answered == 0)
        return; /* nothing yet: buf may not even exist */
    memmove(cl->buf, cl->buf + cl->answered, cl->len - cl->answered);
    cl->len -= cl->answered;
    cl->answered = 0;
}

/* Sends req (stolen) and reads the answer's line: its length, or -1. */
static ssize_t send_and_read(struct ctl_client *cl, json_t *req)
{
    drop_answer(cl);
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (text == NULL)
        return -1;
    size_t n = strlen(text);
    text[n] = '\n';
    int rc = write_all(cl->fd, text, n + 1);
    free(text);
    ssize_t linelen = rc == 0 ? read_line(cl) : -1;
    if (linelen < 0)
        say(cl, "lost the connection to the node");
    else
        cl->answered = (size_t)linelen + 1;
    return linelen;
}

static json_t *answer(struct ctl_client *cl, size_t linelen, int *node_error);

static const char ok_prefix[] = "{\"ok\":true,";

char *ctl_call_raw(struct ctl_client *cl, json_t *req, size_t *len, int *node_error)
{
    *node_error = 0;
    ssize_t linelen = send_and_read(cl, req);
    if (linelen < 0)
        return NULL;
    if ((size_t)linelen >= sizeof ok_prefix - 1 &&
        memcmp(cl->buf, ok_prefix, sizeof ok_prefix - 1) == 0) {
        *len = (size_t)linelen;
        return cl->buf;
    }
    json_t *resp = answer(cl, (size_t)linelen, node_error);
    json_decref(resp); /* an "ok" answer of another shape: not raw */
    if (resp != NULL)
        say(cl, "unexpected answer from the node");
    return NULL;
}

json_t *ctl_call(struct ctl_client *cl, json_t *req, int *node_error)
{
    *node_error = 0;
    ssize_t linelen = send_and_read(cl, req);
    if (linelen < 0)
        return NULL;
    return answer(cl, (size_t)linelen, node_error);
}

/* The answer line parsed; NULL (said why) when malformed or "ok": false. */
static json_t *answer(struct ctl_client *cl, size_t linelen, int *node_error)
{
    json_error_t jerr;
    json_t *resp = json_loadb(cl->buf, linelen, 0, &jerr);
    if (resp == NULL) {
        say(cl, "malformed answer from the node: %s", jerr.text);
        return NULL;
    }
    if (!json_is_true(json_object_get(resp, "ok"))) {
        const char *msg = json_string_value(json_object_get(resp, "error"));
        say(cl, "%s", msg ? msg : "request failed");
        json_decref(resp);
        *node_error = 1;
        return NULL;
    }
    return resp;
}

void ctl_close(struct ctl_client *cl)
{
    if (cl->fd >= 0)
        close(cl->fd);
    free(cl->buf);
    memset(cl, 0, sizeof *cl);
    cl->fd = -1;
}

json_t *ctl_request(const char *data_dir, json_t *req, int *exit_code)
{
    struct ctl_client cl;
    const char *cmd = json_string_value(json_object_get(req, "cmd"));
    if (ctl_open(&cl, data_dir, cmd != NULL ? cmd : "request") != 0) {
        json_decref(req);
        *exit_code = EXIT_NO_NODE;
        return NULL;
    }
    int node_error;
    json_t *resp = ctl_call(&cl, req, &node_error);
    ctl_close(&cl);
    if (resp == NULL)
        *exit_code = node_error ? EXIT_FAIL : EXIT_NO_NODE;
    return resp;
}
