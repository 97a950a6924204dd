/* terminal.c - the node's side of the dashboard: start it when the node has
 * a terminal (and no --headless), feed it snapshots, and carry out its
 * actions through the same calls the control API (the CLI) uses: a submit
 * is the JSON request `mesh submit` sends, a drain the same replicated
 * write as `mesh drain NODE`. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dashboard.h"
#include "node.h"
#include "terminal.h"
#include "dispatch.h"
#include "api.h"
#include "event_log.h"
#include "snapshot.h"
#include "write.h"

enum { UI_REFRESH_MS = 250, DETAILS_RESULTS = 8 };

/* Writes from the dashboard travel the same path as the CLI's; the answer
 * comes later (from the leader) and lands in the event log. */
static void on_ui_write(void *ud, int rc, uint64_t batch_id, const char *err)
{
    struct node *n = ud;
    if (rc == 0 && batch_id != 0)
        mlog(&n->log, LOG_INFO, "dashboard: batch %" PRIu64 " accepted", batch_id);
    else if (rc != 0 && rc != NODE_WRITE_GONE)
        node_event(n, MESH_EV_ERROR, "dashboard: %s", err);
}

/* The form's file: read here (the node runs as the user, on this machine)
 * and checked like `mesh submit --file`. */
static int file_spec(const char *path, struct batch_spec *spec, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    char *text = malloc(BATCH_MAX_LIST_INPUT + 1);
    size_t len = text ? fread(text, 1, BATCH_MAX_LIST_INPUT + 1, f) : 0;
    bool bad = ferror(f) != 0;
    fclose(f);
    int rc = -1;
    if (text == NULL || bad)
        snprintf(err, errlen, "cannot read %s", path);
    else if (len > BATCH_MAX_LIST_INPUT)
        snprintf(err, errlen, "%s is larger than %zu bytes", path,
                 (size_t)BATCH_MAX_LIST_INPUT);
    else
        rc = batch_list_parse(spec, text, len, err, errlen);
    free(text);
    return rc;
}

/* The form's request as the JSON `mesh submit` sends. */
static json_t *submit_json(const struct ui_submit *r)
{
    switch (r->kind) {
    case UI_SUBMIT_RANGE:
        return json_pack("{s:s, s:s, s:I, s:I, s:s}", "kind", "range", "start", r->start,
                         "count", (json_int_t)r->count, "step", (json_int_t)r->step,
                         "name", r->name);
    case UI_SUBMIT_SEMIPRIMES: {
        /* no seed: the node draws a fresh one, as for `mesh submit` */
        json_t *j = json_pack("{s:s, s:I, s:I, s:s}", "kind", "semiprimes",
                              "bits", (json_int_t)r->bits, "count", (json_int_t)r->count,
                              "name", r->name);
        if (j != NULL && !r->fresh_seed)
            json_object_set_new(j, "seed", json_integer((json_int_t)r->seed));
        return j;
    }
    default:
        return json_pack("{s:s}", "name", "classic");
    }
}

static int ui_submit(void *ud, const struct ui_submit *req, char *err, size_t errlen)
{
    struct node *n = ud;
    struct qcmd cmd = {.type = QCMD_SUBMIT};
    int rc;
    if (req->kind == UI_SUBMIT_FILE) {
        rc = file_spec(req->path, &cmd.spec, err, errlen);
        snprintf(cmd.name, sizeof cmd.name, "%s", req->name);
    } else {
        json_t *j = submit_json(req);
        rc = j ? api_submit_command(&cmd, j, err, errlen) : -1;
        json_decref(j);
    }
    if (rc != 0)
        return -1;
    node_write(n, &cmd, on_ui_write, n, NULL);
    qcmd_free(&cmd);
    return 0;
}

static int ui_cancel(void *ud, uint64_t batch_id, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct qcmd cmd = {.type = QCMD_CANCEL, .batch_id = batch_id};
    node_write(ud, &cmd, on_ui_write, ud, NULL);
    return 0;
}

/* The same FORGET `mesh forget BATCH` proposes (api.c api_forget). */
static int ui_forget(void *ud, uint64_t batch_id, char *err, size_t errlen)
{
    struct qcmd cmd = {.type = QCMD_FORGET, .forget_reason = FORGET_BY_USER, .n_forget = 1};
    cmd.forget = malloc(sizeof *cmd.forget);
    if (cmd.forget == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    cmd.forget[0] = batch_id;
    node_write(ud, &cmd, on_ui_write, ud, NULL);
    qcmd_free(&cmd);
    return 0;
}

static int ui_set_drain(void *ud, const char *node_id, bool drain, char *err, size_t errlen)
{
    struct node *n = ud;
    struct qcmd cmd = {.type = QCMD_DRAIN, .drained = drain};
    if (api_resolve_node(n, node_id, &cmd.node_id) != 0) {
        snprintf(err, errlen, "node %s is not in the mesh any more", node_id);
        return -1;
    }
    node_write(n, &cmd, on_ui_write, n, NULL);
    return 0;
}

/* The first results of a batch, "N: factors" lines like `mesh results`. */
static void ui_batch_details(void *ud, uint64_t batch_id, char *out, size_t outlen)
{
    struct node *n = ud;
    struct batch_info info;
    out[0] = '\0';
    if (queue_batch_get(n->queue, batch_id, &info) != 0) {
        snprintf(out, outlen, "(not in this node's replica: ask a voter)\n");
        return;
    }
    size_t len = 0;
    char num[MESH_MAX_DIGITS + 2];
    for (uint64_t i = 0, shown = 0; i < info.total && shown < DETAILS_RESULTS; i++) {
        const char *r = queue_result(n->queue, batch_id, i);
        if (r == NULL || batch_number(info.spec, i, num, sizeof num) != 0)
            continue;
        int k = snprintf(out + len, outlen - len, "  %.40s%s: %.60s\n", num,
                         strlen(num) > 40 ? "..." : "", r);
        if (k < 0 || (size_t)k >= outlen - len)
            break;
        len += (size_t)k;
        shown++;
    }
}

static void ui_quit(void *ud)
{
    dispatch_stop(ud);
}

static void on_ui_timer(uv_timer_t *t)
{
    struct node *n = t->data;
    node_snapshot(n, &n->snapshot);
    ui_update(n->ui, &n->snapshot);
}

bool node_wants_ui(const struct node_config *cfg)
{
    return !cfg->headless && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
}

/* While the dashboard owns the terminal, whatever writes to stderr (a
 * library, a failed assertion) goes to the log file, never over the
 * screen. */
static void stderr_to_log(struct node *n)
{
    n->saved_stderr = -1;
    if (n->log_out == NULL)
        return;
    fflush(stderr);
    n->saved_stderr = dup(STDERR_FILENO);
    if (n->saved_stderr >= 0)
        dup2(fileno(n->log_out), STDERR_FILENO);
}

static void stderr_back(struct node *n)
{
    if (n->saved_stderr < 0)
        return;
    fflush(stderr);
    dup2(n->saved_stderr, STDERR_FILENO);
    close(n->saved_stderr);
    n->saved_stderr = -1;
}

int node_ui_start(struct node *n)
{
    struct ui_actions actions = {
        .ud = n, .submit = ui_submit, .cancel = ui_cancel, .forget = ui_forget,
        .set_drain = ui_set_drain,
        .batch_details = ui_batch_details, .quit = ui_quit,
    };
    struct ui_options options = {.no_color = n->cfg->no_color};
    if (ui_start(&n->ui, &n->loop, &actions, &options) != 0) {
        n->ui = NULL;
        mlog(&n->log, LOG_WARN, "no usable terminal: running headless");
        return 0;
    }
    stderr_to_log(n);
    uv_timer_init(&n->loop, &n->ui_timer);
    n->ui_timer.data = n;
    uv_timer_start(&n->ui_timer, on_ui_timer, 0, UI_REFRESH_MS);
    return 0;
}

unsigned node_ui_stop(struct node *n, void (*on_closed)(void *ud))
{
    if (n->ui == NULL)
        return 0;
    uv_close((uv_handle_t *)&n->ui_timer, NULL);
    ui_stop(n->ui, on_closed, n);
    n->ui = NULL;
    stderr_back(n);
    return 1;
}
