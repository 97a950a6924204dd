/* ui_demo.c - test fixture: runs the dashboard on a uv loop with fake
 * actions and canned snapshots, for the tmux layout tests.
 *
 *   ui_demo ACTIONS_FILE [--nodes N] [--batches N] [--done-batches N]
 *           [--hostile 1] [--retained 1|full] [--events 1] [--async 1]
 *
 * Every action is appended to ACTIONS_FILE as one line ("submit classic",
 * "submit range 1000 50 1", "cancel 2", "forget 1", "drain beta 1", "quit").
 * --done-batches N adds N finished batches after the running one (ids 3..);
 * --retained 1 gives the header a results budget, "full" one that running
 * batches fill; --events 1 adds 16 folded requeues and a long event line;
 * --async 1 answers a submit as the real node does (0: the id comes later,
 * in a snapshot two ticks on).
 * Snapshots (3 nodes, the third one down; 2 batches, one running) are fed
 * every 250 ms; submitted batches are added to them; 100-bit semiprime
 * submissions fail (to show errors); submitting the file "/crash" aborts
 * (the terminal must still be restored). `q` `y` stops the dashboard and
 * the program exits 0. --hostile 1 puts terminal escape sequences and invalid
 * UTF-8 into a peer name and an event. */
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
    struct mesh_view snap;
    uint64_t next_id;
    unsigned ticks;
    bool draining[64];
    bool async;
    struct view_batch queued;   /* --async: the submitted batch, not yet seen */
    unsigned queued_at;
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

static void add_event(struct demo *d, const char *time, const char *kind, const char *node,
                      const char *text)
{
    struct mesh_view *s = &d->snap;
    if (s->n_events == VIEW_EVENTS) {
        memmove(&s->events[0], &s->events[1], sizeof s->events[0] * (VIEW_EVENTS - 1));
        s->n_events--;
    }
    struct view_event *e = &s->events[s->n_events++];
    snprintf(e->time, sizeof e->time, "%s", time);
    snprintf(e->kind, sizeof e->kind, "%s", kind);
    snprintf(e->node, sizeof e->node, "%s", node);
    snprintf(e->text, sizeof e->text, "%s", text);
}

static void add_batch(struct demo *d, uint64_t id, const char *name, const char *state,
                      uint64_t total, uint64_t done, uint64_t unfactored)
{
    struct mesh_view *s = &d->snap;
    if (s->n_batches == VIEW_MAX_BATCHES)
        return;
    struct view_batch *b = &s->batches[s->n_batches++];
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
    struct mesh_view *s = &d->snap;
    if (s->n_nodes == VIEW_MAX_NODES)
        return;
    struct view_node *n = &s->nodes[s->n_nodes++];
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
    add_event(d, "19:20:09", "error", "evil\x1b[2J",
              "peer says \x1b[31mred\x1b[0m \x1b]2;pwned\x07 \xc3\x28 bye");
}

static void canned(struct demo *d, unsigned extra_nodes, unsigned extra_batches)
{
    struct mesh_view *s = &d->snap;
    memset(s, 0, sizeof *s);
    snprintf(s->leader, sizeof s->leader, "a1b2c3d4e5f60718");
    s->mdns_enabled = true;
    s->mdns_running = true;
    s->foreign_meshes = 1;
    s->term = 7;
    s->voters = 3;
    s->reachable = 2;
    s->quorum_ok = true;
    add_node(d, "a1b2c3d4e5f60718", "alpha", "leader", true, true, 4, 3, 1234.5, 0);
    add_node(d, "b2c3d4e5f6071829", "beta", "voter", false, true, 2, 2, 812, 0.3);
    add_node(d, "c3d4e5f60718293a", "gamma", "voter", false, false, 8, 0, 0, 42);
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
    add_event(d, "19:20:01", "join", "alpha", "node alpha (a1b2c3d4) started, 4 workers");
    add_event(d, "19:20:02", "join", "alpha", "node beta (b2c3d4e5) joined");
    add_event(d, "19:20:05", "leave", "alpha", "node gamma (c3d4e5f6) is down");
}

/* What --retained, --events and --done-batches add to the canned view. */
static void extras(struct demo *d, unsigned done_batches, const char *retained, bool events)
{
    struct mesh_view *s = &d->snap;
    for (unsigned i = 0; i < done_batches; i++) {
        char name[32];
        snprintf(name, sizeof name, "old-%02u", i);
        add_batch(d, d->next_id++, name, "done", 10, 10, 0);
    }
    if (retained != NULL) {
        bool full = strcmp(retained, "full") == 0;
        s->retained.budget = 512u << 20;
        s->retained.bytes = full ? 600u << 20 : 12u << 20;
        s->retained.running_bytes = full ? 530u << 20 : 0;
        s->retained.batches = s->n_batches;
        s->retained.full = full;
    }
    if (events) {
        add_event(d, "19:20:07", "requeue", "alpha",
                  "lease of batch 2 [645,688) on beta expired: requeued");
        s->events[s->n_events - 1].repeat = 16;
        snprintf(s->events[s->n_events - 1].first_time, 9, "19:20:06");
        add_event(d, "19:20:08", "warning", "alpha",
                  "a long line: link to gamma at 10.1.2.3:4567 failed its handshake three "
                  "times in a row; retrying with backoff, THE-END-OF-THE-LINE");
    }
}

/* --hard 1: two long numbers of batch 2, one sieving on beta (its count
 * grows every tick, then the matrix), one in ECM on alpha; a third sieved
 * by the whole mesh. */
static void add_hard(struct demo *d)
{
    struct mesh_view *s = &d->snap;
    s->hard[0] = (struct view_hard){.node = "b2c3d4e5f6071829", .batch = 2, .index = 17,
                                    .worker = 1, .phase = "sieving", .bits = 206,
                                    .found = 1000, .needed = 5901, .rate = 566.2,
                                    .eta_known = true, .eta_s = 9};
    s->hard[1] = (struct view_hard){.node = "a1b2c3d4e5f60718", .batch = 2, .index = 18,
                                    .worker = 0, .phase = "ecm", .bits = 400, .b1 = 50000,
                                    .found = 3, .needed = 214, .rate = 1.5};
    s->n_hard = 2;
    /* #40 of batch 2 sieved by the whole mesh (spread batch 9), on both */
    s->spread[0] = (struct view_spread){.batch = 9, .for_batch = 2, .index = 40,
                                        .node = "a1b2c3d4e5f60718", .phase = "sieving",
                                        .bits = 196, .found = 300, .needed = 1200,
                                        .rate = 150, .eta_known = true, .eta_s = 6,
                                        .n_nodes = 2,
                                        .nodes = {"a1b2c3d4e5f60718", "b2c3d4e5f6071829"}};
    s->n_spread = 1;
}

static void tick_hard(struct demo *d)
{
    struct view_hard *h = &d->snap.hard[0];
    if (d->snap.n_hard == 0 || strcmp(h->phase, "sieving") != 0)
        return;
    h->found += 100;
    if (h->found >= h->needed) {
        snprintf(h->phase, sizeof h->phase, "matrix");
        h->found = h->needed = 0;
        h->eta_known = false;
    } else {
        h->eta_s = (h->needed - h->found) / 566;
    }
}

static void tick(uv_timer_t *t)
{
    struct demo *d = t->data;
    d->ticks++;
    tick_hard(d);
    if (d->queued.id != 0 && d->ticks >= d->queued_at + 2) {   /* --async: seen now */
        d->snap.batches[d->snap.n_batches++] = d->queued;
        d->queued.id = 0;
    }
    struct view_batch *b = &d->snap.batches[1];
    if (strcmp(b->state, "running") == 0 && b->done < b->total) {
        b->done += 25;
        if (b->done >= b->total) {
            b->done = b->total;
            snprintf(b->state, sizeof b->state, "done");
        }
    }
    /* submitted batches complete within a few ticks */
    for (size_t i = 2; i < d->snap.n_batches; i++) {
        struct view_batch *x = &d->snap.batches[i];
        if (x->id >= 100 || strcmp(x->state, "running") != 0)
            continue;
        x->done += x->total / 4;
        if (x->done >= x->total) {
            x->done = x->total;
            snprintf(x->state, sizeof x->state, "done");
        }
    }
    d->snap.pending = d->snap.in_flight = d->snap.done = 0;
    for (size_t i = 0; i < d->snap.n_batches; i++) {
        const struct view_batch *x = &d->snap.batches[i];
        d->snap.done += x->done;
        if (strcmp(x->state, "running") == 0)
            d->snap.pending += x->total - x->done;
    }
    d->snap.in_flight = d->snap.pending < 5 ? d->snap.pending : 5;
    d->snap.pending -= d->snap.in_flight;
    for (size_t i = 0; i < d->snap.n_nodes && i < 64; i++)
        snprintf(d->snap.nodes[i].state, sizeof d->snap.nodes[i].state, "%s",
                 !d->draining[i] ? "active" : d->ticks % 8 < 4 ? "draining" : "drained");
    ui_update(d->ui, &d->snap);
}

static int demo_submit(void *ud, const struct ui_submit *r, char *err, size_t errlen)
{
    struct demo *d = ud;
    uint64_t total = 999;
    switch (r->kind) {
    case UI_SUBMIT_RANGE:
        record(d, "submit range %s %" PRIu64 " %" PRIu64, r->start, r->count, r->step);
        total = r->count;
        break;
    case UI_SUBMIT_SEMIPRIMES:
        record(d, "submit semiprimes %u %" PRIu64 " %" PRIu64, r->bits, r->count, r->seed);
        total = r->count;
        break;
    case UI_SUBMIT_FILE:
        record(d, "submit file %s", r->path);
        if (strcmp(r->path, "/crash") == 0)   /* a fatal signal mid-dashboard */
            abort();
        break;
    default:
        record(d, "submit classic");
    }
    if (r->kind == UI_SUBMIT_SEMIPRIMES && r->bits == 100) {
        snprintf(err, errlen, "no leader (demo)");
        return -1;
    }
    uint64_t id = d->next_id++;
    if (d->async && d->snap.n_batches < VIEW_MAX_BATCHES) {
        d->queued = (struct view_batch){.id = id, .total = total};
        snprintf(d->queued.name, sizeof d->queued.name, "%s", r->name);
        snprintf(d->queued.state, sizeof d->queued.state, "running");
        d->queued_at = d->ticks;
        return 0;
    }
    add_batch(d, id, r->name, "running", total, 0, 0);
    return (int)id;
}

static int demo_forget(void *ud, uint64_t id, char *err, size_t errlen)
{
    struct demo *d = ud;
    record(d, "forget %" PRIu64, id);
    struct mesh_view *s = &d->snap;
    for (size_t i = 0; i < s->n_batches; i++) {
        if (s->batches[i].id != id)
            continue;
        memmove(&s->batches[i], &s->batches[i + 1],
                (s->n_batches - i - 1) * sizeof s->batches[0]);
        s->n_batches--;
        return 0;
    }
    snprintf(err, errlen, "no batch %" PRIu64, id);
    return -1;
}

static int demo_cancel(void *ud, uint64_t id, char *err, size_t errlen)
{
    struct demo *d = ud;
    record(d, "cancel %" PRIu64, id);
    for (size_t i = 0; i < d->snap.n_batches; i++) {
        struct view_batch *b = &d->snap.batches[i];
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

static int demo_set_drain(void *ud, const char *id, bool drain, char *err, size_t errlen)
{
    struct demo *d = ud;
    for (size_t i = 0; i < d->snap.n_nodes && i < 64; i++)
        if (strcmp(d->snap.nodes[i].id, id) == 0) {
            record(d, "drain %s %d", d->snap.nodes[i].name, drain ? 1 : 0);
            d->draining[i] = drain;
            return 0;
        }
    snprintf(err, errlen, "no node %s", id);
    return -1;
}

static void demo_details(void *ud, uint64_t id, char *out, size_t outlen)
{
    (void)ud;
    snprintf(out, outlen, "  demo result of batch %" PRIu64 "\n", id);
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
    unsigned extra_nodes = 0, extra_batches = 0, done_batches = 0;
    bool hostile = false, events = false, async = false, hard = false;
    const char *retained = NULL;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--nodes") == 0)
            extra_nodes = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--batches") == 0)
            extra_batches = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--hostile") == 0)
            hostile = atoi(argv[i + 1]) != 0;
        else if (strcmp(argv[i], "--done-batches") == 0)
            done_batches = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--retained") == 0)
            retained = argv[i + 1];
        else if (strcmp(argv[i], "--events") == 0)
            events = atoi(argv[i + 1]) != 0;
        else if (strcmp(argv[i], "--async") == 0)
            async = atoi(argv[i + 1]) != 0;
        else if (strcmp(argv[i], "--hard") == 0)
            hard = atoi(argv[i + 1]) != 0;
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
    extras(d, done_batches, retained, events);
    d->async = async;
    if (hostile)
        make_hostile(d);
    if (hard)
        add_hard(d);
    struct ui_actions a = {.ud = d, .submit = demo_submit, .cancel = demo_cancel,
                           .forget = demo_forget,
                           .set_drain = demo_set_drain, .batch_details = demo_details,
                           .quit = demo_quit};
    struct ui_options o = {.no_color = getenv("DEMO_NO_COLOR") != NULL};
    int rc = ui_start(&d->ui, &d->loop, &a, &o);
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
