/* test_discovery.c - discovery instances in one process, on a private
 * avahi-daemon (started by run_avahi_test.sh, which exports the bus).
 *
 *   test_discovery basic      A, B same mesh; C other mesh; D same name as A.
 *                             With MDNS_TEST_AVAHI_STOP / _START set, also
 *                             restarts the daemon and expects rediscovery.
 *   test_discovery nodaemon   no daemon/bus: start succeeds, says so once. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "check.h"
#include "discovery.h"

#define DEADLINE_MS 15000
#define MAX_SEEN 16
#define TAG_A "a1a2a3a4a5a6a7a8"
#define TAG_B "b1b2b3b4b5b6b7b8"

struct seen {
    char name[64], id[65], address[64];
    uint8_t pk[32];
    uint16_t port;
};

struct inst {
    const char *label;
    struct discovery *d;
    char id[65], pk_hex[65];
    uint16_t port;
    struct seen seen[MAX_SEEN];
    unsigned nseen;
    bool stopped;
};

static void on_peer(void *ud, const struct discovery_peer *p)
{
    struct inst *in = ud;
    fprintf(stderr, "[%s] peer %s id=%s %s:%u\n", in->label, p->name,
            p->id_hex, p->address, p->port);
    CHECK(in->nseen < MAX_SEEN);
    struct seen *s = &in->seen[in->nseen++];
    snprintf(s->name, sizeof s->name, "%s", p->name);
    snprintf(s->id, sizeof s->id, "%s", p->id_hex);
    snprintf(s->address, sizeof s->address, "%s", p->address);
    memcpy(s->pk, p->pk, 32);
    s->port = p->port;
}

static const struct seen *find_seen(const struct inst *in, const char *id)
{
    for (unsigned i = 0; i < in->nseen; i++)
        if (strcmp(in->seen[i].id, id) == 0)
            return &in->seen[i];
    return NULL;
}

static void make_inst(struct inst *in, const char *label, unsigned n,
                      uint16_t port)
{
    memset(in, 0, sizeof *in);
    in->label = label;
    snprintf(in->id, sizeof in->id, "%02x%02x%02x%02x", n, n, n, n);
    for (int i = 0; i < 32; i++)
        snprintf(in->pk_hex + 2 * i, 3, "%02x", (unsigned)(n * 16 + i) & 0xff);
    in->port = port;
}

static void start_inst(struct inst *in, uv_loop_t *loop, struct mesh_log *lg,
                       const char *name, const char *tag)
{
    struct discovery_config cfg = {
        .loop = loop, .log = lg, .name = name, .port = in->port,
        .id_hex = in->id, .pk_hex = in->pk_hex, .tag_hex = tag, .version = 1,
        .ud = in, .on_peer = on_peer,
    };
    CHECK_INT_EQ(discovery_start(&in->d, &cfg), 0);
}

/* ---- running the loop until something holds -------------------------- */

struct waiter {
    bool (*pred)(void *ctx);
    void *ctx;
    bool ok;
};

static void on_poll_pred(uv_timer_t *t)
{
    struct waiter *w = t->data;
    if (w->pred(w->ctx)) {
        w->ok = true;
        uv_stop(t->loop);
    }
}

static void on_deadline(uv_timer_t *t)
{
    uv_stop(t->loop);
}

static bool run_until(uv_loop_t *loop, bool (*pred)(void *), void *ctx,
                      uint64_t ms)
{
    struct waiter w = {pred, ctx, false};
    uv_timer_t poll, deadline;
    uv_timer_init(loop, &poll);
    uv_timer_init(loop, &deadline);
    poll.data = &w;
    uv_timer_start(&poll, on_poll_pred, 0, 50);
    uv_timer_start(&deadline, on_deadline, ms, 0);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&poll, NULL);
    uv_close((uv_handle_t *)&deadline, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return w.ok;
}

static bool never(void *ctx)
{
    (void)ctx;
    return false;
}

/* ---- running a shell command without blocking the loop ---------------- */

static void on_exit_cb(uv_process_t *p, int64_t status, int sig)
{
    (void)sig;
    int *st = p->data;
    *st = (int)status;
    uv_close((uv_handle_t *)p, NULL);
}

static bool is_set(void *ctx)
{
    return *(int *)ctx != -1;
}

static void run_command(uv_loop_t *loop, const char *cmd)
{
    fprintf(stderr, "running: %s\n", cmd);
    int status = -1;
    uv_process_t proc;
    char *args[] = {"/bin/sh", "-c", (char *)cmd, NULL};
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE}, {.flags = UV_INHERIT_FD, .data.fd = 2},
        {.flags = UV_INHERIT_FD, .data.fd = 2}};
    uv_process_options_t opt = {.file = "/bin/sh", .args = args,
                                .exit_cb = on_exit_cb, .stdio_count = 3,
                                .stdio = stdio};
    proc.data = &status;
    CHECK_INT_EQ(uv_spawn(loop, &proc, &opt), 0);
    CHECK(run_until(loop, is_set, &status, 30000));
    CHECK_INT_EQ(status, 0);
}

/* ---- predicates ------------------------------------------------------- */

struct quad {
    struct inst *a, *b, *c, *d;
};

static bool all_published(void *ctx)
{
    struct quad *q = ctx;
    struct inst *all[] = {q->a, q->b, q->c, q->d};
    for (int i = 0; i < 4; i++) {
        struct discovery_status st;
        discovery_status(all[i]->d, &st);
        if (!st.daemon_running || st.published_name[0] == '\0')
            return false;
    }
    return true;
}

static bool mesh_complete(void *ctx)
{
    struct quad *q = ctx;
    struct discovery_status sc;
    discovery_status(q->c->d, &sc);
    return find_seen(q->a, q->b->id) && find_seen(q->a, q->d->id) &&
           find_seen(q->b, q->a->id) && find_seen(q->b, q->d->id) &&
           find_seen(q->d, q->a->id) && find_seen(q->d, q->b->id) &&
           sc.foreign_meshes == 3;
}

static bool all_daemon_down(void *ctx)
{
    struct quad *q = ctx;
    struct inst *all[] = {q->a, q->b, q->c, q->d};
    for (int i = 0; i < 4; i++) {
        struct discovery_status st;
        discovery_status(all[i]->d, &st);
        if (st.daemon_running)
            return false;
    }
    return true;
}

static bool all_stopped(void *ctx)
{
    struct quad *q = ctx;
    return q->a->stopped && q->b->stopped && q->c->stopped && q->d->stopped;
}

static void on_stopped(void *ud)
{
    ((struct inst *)ud)->stopped = true;
}

static bool inst_stopped(void *ctx)
{
    return ((struct inst *)ctx)->stopped;
}

/* ---- checks ----------------------------------------------------------- */

static void check_peer(const struct inst *viewer, const struct inst *peer)
{
    const struct seen *s = find_seen(viewer, peer->id);
    CHECK(s != NULL);
    CHECK_INT_EQ(s->port, peer->port);
    CHECK_STR_EQ(s->address, "127.0.0.1");
    char pk_hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(pk_hex + 2 * i, 3, "%02x", s->pk[i]);
    CHECK_STR_EQ(pk_hex, peer->pk_hex);
}

static void check_state(struct quad *q)
{
    check_peer(q->a, q->b);
    check_peer(q->a, q->d);
    check_peer(q->b, q->a);
    check_peer(q->b, q->d);
    check_peer(q->d, q->a);
    /* other mesh: never reported, and counted */
    CHECK(find_seen(q->a, q->c->id) == NULL);
    CHECK(find_seen(q->b, q->c->id) == NULL);
    CHECK_INT_EQ(q->c->nseen, 0);
    struct discovery_status sa, sb, sc, sd;
    discovery_status(q->a->d, &sa);
    discovery_status(q->b->d, &sb);
    discovery_status(q->c->d, &sc);
    discovery_status(q->d->d, &sd);
    CHECK_INT_EQ(sa.foreign_meshes, 1);
    CHECK_INT_EQ(sb.foreign_meshes, 1);
    CHECK_INT_EQ(sc.foreign_meshes, 3);
    CHECK_INT_EQ(sa.peers_seen, 2);
    /* same wanted name: the collision ended with two distinct names */
    fprintf(stderr, "names: a='%s' d='%s'\n", sa.published_name,
            sd.published_name);
    CHECK(strcmp(sa.published_name, sd.published_name) != 0);
    CHECK(strncmp(sd.published_name, "alpha", 5) == 0);
}

static bool b_seen_on_new_port(void *ctx)
{
    struct quad *q = ctx;
    const struct seen *s = NULL;
    for (unsigned i = 0; i < q->a->nseen; i++)
        if (strcmp(q->a->seen[i].id, q->b->id) == 0)
            s = &q->a->seen[i];     /* the latest report wins */
    return s != NULL && s->port == q->b->port;
}

/* A node that restarts keeps its id but gets a new port: peers must be
 * told again so they re-dial. */
static void restart_b_on_new_port(uv_loop_t *loop, struct mesh_log *lg,
                                  struct quad *q)
{
    discovery_stop(q->b->d, on_stopped);
    CHECK(run_until(loop, inst_stopped, q->b, DEADLINE_MS));
    q->b->stopped = false;
    q->b->port = 4012;
    start_inst(q->b, loop, lg, "beta", TAG_A);
    CHECK(run_until(loop, b_seen_on_new_port, q, DEADLINE_MS));
}

static void restart_daemon(uv_loop_t *loop, struct quad *q)
{
    const char *stop = getenv("MDNS_TEST_AVAHI_STOP");
    const char *start = getenv("MDNS_TEST_AVAHI_START");
    if (stop == NULL || start == NULL)
        return;
    run_command(loop, stop);
    CHECK(run_until(loop, all_daemon_down, q, DEADLINE_MS));
    q->a->nseen = q->b->nseen = q->c->nseen = q->d->nseen = 0;
    run_command(loop, start);
    CHECK(run_until(loop, all_published, q, DEADLINE_MS));
    CHECK(run_until(loop, mesh_complete, q, DEADLINE_MS));
    check_state(q);
}

static int test_basic(void)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct mesh_log lg = {.out = stderr, .level = LOG_DEBUG};
    struct inst a, b, c, d;
    make_inst(&a, "a", 1, 4001);
    make_inst(&b, "b", 2, 4002);
    make_inst(&c, "c", 3, 4003);
    make_inst(&d, "d", 4, 4004);
    start_inst(&a, &loop, &lg, "alpha", TAG_A);
    start_inst(&b, &loop, &lg, "beta", TAG_A);
    start_inst(&c, &loop, &lg, "gamma", TAG_B);
    start_inst(&d, &loop, &lg, "alpha", TAG_A);
    struct quad q = {&a, &b, &c, &d};

    CHECK(run_until(&loop, all_published, &q, DEADLINE_MS));
    CHECK(run_until(&loop, mesh_complete, &q, DEADLINE_MS));
    run_until(&loop, never, NULL, 1500);   /* late wrong reports show up */
    check_state(&q);

    restart_b_on_new_port(&loop, &lg, &q);
    restart_daemon(&loop, &q);

    discovery_stop(a.d, on_stopped);
    discovery_stop(b.d, on_stopped);
    discovery_stop(c.d, on_stopped);
    discovery_stop(d.d, on_stopped);
    CHECK(run_until(&loop, all_stopped, &q, DEADLINE_MS));
    uv_run(&loop, UV_RUN_NOWAIT);
    CHECK_INT_EQ(uv_loop_close(&loop), 0);  /* every handle was closed */
    return 0;
}

/* ---- no daemon -------------------------------------------------------- */

static unsigned count_lines_with(FILE *f, const char *needle)
{
    char line[512];
    unsigned n = 0;
    rewind(f);
    while (fgets(line, sizeof line, f) != NULL)
        if (strstr(line, needle) != NULL)
            n++;
    return n;
}

static int test_nodaemon(void)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    FILE *logf = tmpfile();
    CHECK(logf != NULL);
    struct mesh_log lg = {.out = logf, .level = LOG_DEBUG};
    struct inst a;
    make_inst(&a, "a", 1, 4001);
    start_inst(&a, &loop, &lg, "alone", TAG_A);
    /* long enough for several reconnect attempts */
    run_until(&loop, never, NULL, 5000);
    struct discovery_status st;
    discovery_status(a.d, &st);
    CHECK(!st.daemon_running);
    CHECK_STR_EQ(st.published_name, "");
    CHECK_INT_EQ(count_lines_with(logf, "avahi-daemon not available"), 1);
    discovery_stop(a.d, on_stopped);
    CHECK(run_until(&loop, inst_stopped, &a, DEADLINE_MS));
    CHECK_INT_EQ(uv_loop_close(&loop), 0);
    fclose(logf);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "basic") == 0)
        return test_basic();
    if (argc == 2 && strcmp(argv[1], "nodaemon") == 0)
        return test_nodaemon();
    fprintf(stderr, "usage: %s basic|nodaemon\n", argv[0]);
    return 2;
}
