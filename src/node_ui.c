/* node_ui.c - the node's side of the dashboard: start it when the node has
 * a terminal (and no --headless), feed it snapshots, and carry out its
 * actions through the same node calls the control API uses. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dashboard.h"
#include "node.h"

enum { UI_REFRESH_MS = 250 };

/* What the dashboard's submit keys mean. */
static int make_spec(const char *kind, struct qcmd *cmd, char *err, size_t errlen)
{
    if (strcmp(kind, "classic") == 0) {
        if (batch_classic_init(&cmd->spec, err, errlen) != 0)
            return -1;
        snprintf(cmd->name, sizeof cmd->name, "classic");
        return 0;
    }
    uint32_t bits = strcmp(kind, "semiprimes64") == 0 ? 64 : 100;
    uint64_t count = bits == 64 ? 1000 : 100;
    if (strcmp(kind, "semiprimes64") != 0 && strcmp(kind, "semiprimes100") != 0) {
        snprintf(err, errlen, "unknown batch kind %s", kind);
        return -1;
    }
    snprintf(cmd->name, sizeof cmd->name, "%u x %u-bit semiprimes", (unsigned)count, bits);
    /* A fresh seed per batch, so repeated key presses give new numbers. */
    return batch_semiprimes_init(&cmd->spec, bits, count, (uint64_t)uv_hrtime(), err, errlen);
}

/* Writes from the dashboard travel the same path as the CLI's; the answer
 * comes later (from the leader) and lands in the log panel. */
static void on_ui_write(void *ud, int rc, uint64_t batch_id, const char *err)
{
    struct node *n = ud;
    if (rc == 0 && batch_id != 0)
        mlog(&n->log, LOG_INFO, "dashboard: batch %llu accepted", (unsigned long long)batch_id);
    else if (rc != 0)
        mlog(&n->log, LOG_WARN, "dashboard: %s", err);
}

static int ui_submit(void *ud, const char *kind, char *err, size_t errlen)
{
    struct node *n = ud;
    struct qcmd cmd = {.type = QCMD_SUBMIT};
    if (make_spec(kind, &cmd, err, errlen) != 0)
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

static void ui_set_drain(void *ud, bool drain)
{
    struct node *n = ud;
    struct qcmd cmd = {.type = QCMD_DRAIN, .node_id = n->keys.node_id, .drained = drain};
    node_write(n, &cmd, on_ui_write, n, NULL);
}

static void ui_quit(void *ud)
{
    node_stop(ud);
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

int node_ui_start(struct node *n)
{
    struct ui_actions actions = {
        .ud = n, .submit = ui_submit, .cancel = ui_cancel,
        .set_drain = ui_set_drain, .quit = ui_quit,
    };
    if (ui_start(&n->ui, &n->loop, &actions) != 0) {
        n->ui = NULL;
        mlog(&n->log, LOG_WARN, "no usable terminal: running headless");
        return 0;
    }
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
    return 1;
}
