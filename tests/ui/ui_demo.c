/* ui_demo.c - test fixture: runs the dashboard on a uv loop with fake
 * actions and canned snapshots, for the tmux layout tests.
 *
 *   ui_demo ACTIONS_FILE [--nodes N] [--batches N] [--hostile 1]
 *
 * Every action is appended to ACTIONS_FILE as one line ("submit classic",
 * "cancel 2", "drain 1", "quit"). Snapshots (3 nodes, the third one down;
 * 2 batches, one running) are fed every 250 ms; submitted batches are
 * added to them; "semiprimes100" submissions fail (to show errors). `q`
 * stops the dashboard and the program exits 0. --hostile 1 puts terminal
 * escape sequences and invalid UTF-8 into a peer name and a log line. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard.h"

struct demo {
    uv_loop_t loop;
    uv_timer_t timer;
    struct ui *ui;
    FILE *actions;
    struct ui_snapshot snap;
    uint64_t next_id;
    unsigned ticks;
    bool draining;
};

static void record(struct demo *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void record(struct demo *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(d->actions, fmt, ap);
    va_end(ap);
    fputc('\n', d->actions);
    fflush(d->actions);
}

static void add_log(struct demo *d, const char *line)
{
    struct ui_snapshot *s = &d->snap;
    if (s->n_log == UI_LOG_LINES) {
        memmove(s->log[0], s->log[1], sizeof s->log[0] * (UI_LOG_LINES - 1));
        s->n_log--;
    }
    snprintf(s->log[s->n_log++], sizeof s->log[0], "%s", line);
}

static void add_batch(struct demo *d, uint64_t id, const char *name, const char *state,
                      uint64_t total, uint64_t done, uint64_t unfactored)
{
    struct ui_snapshot *s = &d->snap;
    if (s->n_batches == UI_MAX_BATCHES)
        return;
    struct ui_batch *b = &s->batches[s->n_batches++];
    b->id = id;
    snprintf(b->name, sizeof b->name, "%s", name);
    snprintf(b->state, sizeof b->state, "%s", state);
    b->total = total;
    b->done = done;
    b->unfactored = unfactored;
}

static void add_node(struct demo *d, const char *id, const char *name, const char *role,
                     bool self, bool connected, unsigned workers, unsigned busy,
                     double rate, double heard)
{
    struct ui_snapshot *s = &d->snap;
    if (s->n_nodes == UI_MAX_NODES)
        return;
    struct ui_node *n = &s->nodes[s->n_nodes++];
    snprintf(n->id, sizeof n->id, "%s", id);
    snprintf(n->name, sizeof n->name, "%s", name);
    snprintf(n->role, sizeof n->role, "%s", role);
    snprintf(n->state, sizeof n->state, "active");
    n->self = self;
    n->connected = connected;
    n->workers = workers;
    n->busy = busy;
    n->rate = rate;
    n->done = (uint64_t)(rate * 10);
    n->last_heard_s = heard;
}

static void make_hostile(struct demo *d)
{
    snprintf(d->snap.nodes[1].name, sizeof d->snap.nodes[1].name,
             "evil\x1b[2J\x1b[Hx\x1b]2;pwned\x07\xff\xfe\r\nend");
    add_log(d, "peer says \x1b[31mred\x1b[0m \x1b]2;pwned\x07 \xc3\x28 bye");
}

static void canned(struct demo *d, unsigned extra_nodes, unsigned extra_batches)
{
    struct ui_snapshot *s = &d->snap;
    memset(s, 0, sizeof *s);
    snprintf(s->leader, sizeof s->leader, "a1b2c3d4e5f60718");
    s->mdns_enabled = true;
    s->mdns_running = true;
    s->foreign_meshes = 1;
    add_node(d, "a1b2c3d4e5f60718", "alpha", "leader", true, true, 4, 3, 1234.5, 0);
    add_node(d, "b2c3d4e5f6071829", "beta", "follower", false, true, 2, 2, 812, 0.3);
    add_node(d, "c3d4e5f60718293a", "gamma", "follower", false, false, 8, 0, 0, 42);
    for (unsigned i = 0; i < extra_nodes; i++) {
        char id[17], name[32];
        snprintf(id, sizeof id, "%016x", 0xd000u + i);
        snprintf(name, sizeof name, "extra-%02u", i);
        add_node(d, id, name, "standby", false, true, 2, i % 3, 100.0 * i, 1.5);
    }
    add_batch(d, 1, "classic", "done", 999, 999, 0);
    add_batch(d, 2, "1000 x 64-bit semiprimes", "running", 1000, 400, 2);
    for (unsigned i = 0; i < extra_batches; i++)
        add_batch(d, 100 + i, "extra", "running", 100, i, 0);
    d->next_id = 3;
    add_log(d, "19:20:01 I node a1b2c3d4 (alpha) started, 4 workers");
    add_log(d, "19:20:02 I link up: beta");
    add_log(d, "19:20:05 W link down: gamma (timeout)");
}

static void tick(uv_timer_t *t)
{
    struct demo *d = t->data;
    d->ticks++;
    struct ui_batch *b = &d->snap.batches[1];
    if (strcmp(b->state, "running") == 0 && b->done < b->total) {
        b->done += 25;
        if (b->done >= b->total) {
            b->done = b->total;
            snprintf(b->state, sizeof b->state, "done");
        }
    }
    /* submitted batches complete within a few ticks */
    for (size_t i = 2; i < d->snap.n_batches; i++) {
        struct ui_batch *x = &d->snap.batches[i];
        if (x->id >= 100 || strcmp(x->state, "running") != 0)
            continue;
        x->done += x->total / 4;
        if (x->done >= x->total) {
            x->done = x->total;
            snprintf(x->state, sizeof x->state, "done");
        }
    }
    snprintf(d->snap.nodes[0].state, sizeof d->snap.nodes[0].state, "%s",
             d->draining ? (d->ticks % 8 < 4 ? "draining" : "drained") : "active");
    ui_update(d->ui, &d->snap);
}

static int demo_submit(void *ud, const char *kind, char *err, size_t errlen)
{
    struct demo *d = ud;
    record(d, "submit %s", kind);
    if (strcmp(kind, "semiprimes100") == 0) {
        snprintf(err, errlen, "no leader (demo)");
        return -1;
    }
    uint64_t id = d->next_id++;
    bool classic = strcmp(kind, "classic") == 0;
    add_batch(d, id, classic ? "classic" : "1000 x 64-bit semiprimes", "running",
              classic ? 999 : 1000, 0, 0);
    return (int)id;
}

static int demo_cancel(void *ud, uint64_t id, char *err, size_t errlen)
{
    struct demo *d = ud;
    record(d, "cancel %" PRIu64, id);
    for (size_t i = 0; i < d->snap.n_batches; i++) {
        struct ui_batch *b = &d->snap.batches[i];
        if (b->id != id)
            continue;
        if (strcmp(b->state, "running") != 0) {
            snprintf(err, errlen, "batch %" PRIu64 " is %s", id, b->state);
            return -1;
        }
        snprintf(b->state, sizeof b->state, "cancelled");
        return 0;
    }
    snprintf(err, errlen, "no batch %" PRIu64, id);
    return -1;
}

static void demo_set_drain(void *ud, bool drain)
{
    struct demo *d = ud;
    record(d, "drain %d", drain ? 1 : 0);
    d->draining = drain;
}

static void on_ui_closed(void *ud)
{
    struct demo *d = ud;
    record(d, "closed");
}

static void demo_quit(void *ud)
{
    struct demo *d = ud;
    record(d, "quit");
    uv_timer_stop(&d->timer);
    uv_close((uv_handle_t *)&d->timer, NULL);
    ui_stop(d->ui, on_ui_closed, d);
    d->ui = NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: ui_demo ACTIONS_FILE [--nodes N] [--batches N] [--hostile 1]\n");
        return 2;
    }
    unsigned extra_nodes = 0, extra_batches = 0;
    bool hostile = false;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--nodes") == 0)
            extra_nodes = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--batches") == 0)
            extra_batches = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--hostile") == 0)
            hostile = atoi(argv[i + 1]) != 0;
    }
    struct demo *d = calloc(1, sizeof *d);   /* large: not on the stack */
    if (!d)
        return 1;
    d->actions = fopen(argv[1], "a");
    if (!d->actions) {
        perror(argv[1]);
        return 1;
    }
    uv_loop_init(&d->loop);
    canned(d, extra_nodes, extra_batches);
    if (hostile)
        make_hostile(d);
    struct ui_actions a = {.ud = d, .submit = demo_submit, .cancel = demo_cancel,
                           .set_drain = demo_set_drain, .quit = demo_quit};
    int rc = ui_start(&d->ui, &d->loop, &a);
    if (rc != 0) {
        fprintf(stderr, "ui_start: %s\n", uv_strerror(rc));
        uv_run(&d->loop, UV_RUN_DEFAULT); /* ui_start's handles finish closing */
        uv_loop_close(&d->loop);
        fclose(d->actions);
        free(d);
        return 1;
    }
    record(d, "started");
    uv_timer_init(&d->loop, &d->timer);
    d->timer.data = d;
    uv_timer_start(&d->timer, tick, 0, 250);
    uv_run(&d->loop, UV_RUN_DEFAULT);
    rc = uv_loop_close(&d->loop);
    record(d, "exit %d", rc);
    fclose(d->actions);
    free(d);
    return rc == 0 ? 0 : 1;
}
