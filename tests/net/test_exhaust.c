/* test_exhaust.c - a key holder trying to exhaust a node, with real
 * sockets on loopback:
 *   identities: 1032 fresh identities link once each (from 250 source
 *     addresses) and go away; the peer table stays at its cap and a new
 *     genuine peer still links at once.
 *   never reads: a member that stops reading while the node sends to it is
 *     cut off once its backlog stops draining, the node's link buffers stay
 *     bounded, and a genuine peer keeps its link and its messages. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "harness.h"
#include "member.h"
#include "netmsg.h"

enum { IDENTITIES = NET_MAX_PEERS + 8, WAVE = 32, SOURCES = 250 };

struct fixture {
    uv_loop_t loop;
    struct mesh_keys mesh;
    struct tnode a, good;
    char dir_a[64], dir_good[64];
};

static void source_ip(size_t i, char out[16])
{
    snprintf(out, 16, "127.0.0.%zu", 2 + i % SOURCES);
}

struct wave {
    struct member *m;
    size_t n;
};

/* Every member saw the node's HELLO and STATS (so the node processed our
 * HELLO), or was closed. */
static bool wave_linked(void *arg)
{
    struct wave *w = arg;
    for (size_t i = 0; i < w->n; i++)
        if (!w->m[i].closed && w->m[i].frames_in < 2)
            return false;
    return true;
}

static bool wave_closed(void *arg)
{
    struct wave *w = arg;
    for (size_t i = 0; i < w->n; i++)
        if (!w->m[i].handle_closed)
            return false;
    return true;
}

static bool good_linked(void *arg)
{
    struct fixture *f = arg;
    const struct net_peer *p = tnode_peer(&f->a, &f->good);
    return p != NULL && p->connected && tnode_connected(&f->good) == 1;
}

static void test_identities(struct fixture *f)
{
    struct member *m = calloc(WAVE, sizeof *m);
    for (size_t done = 0; done < IDENTITIES; done += WAVE) {
        struct wave w = {m, WAVE};
        for (size_t i = 0; i < WAVE; i++) {
            char ip[16];
            source_ip(done + i, ip);
            member_connect(&m[i], &f->loop, ip, net_port(f->a.net), &f->mesh, f->a.keys.pk);
        }
        CHECK(run_until(&f->loop, wave_linked, &w, 10000));
        for (size_t i = 0; i < WAVE; i++) {
            CHECK(m[i].frames_in >= 2);
            member_close(&m[i]);
        }
        CHECK(run_until(&f->loop, wave_closed, &w, 5000));
    }
    free(m);
    run_for(&f->loop, 200);
    CHECK_INT_EQ(net_peer_count(f->a.net), NET_MAX_PEERS);
    CHECK_INT_EQ(tnode_connected(&f->a), 0);

    /* A genuine peer the node has never seen: the longest-unseen dead
     * identity makes room for it, at once. */
    tnode_start(&f->good, &f->loop, "good", f->dir_good, &f->mesh);
    net_add_static_peer(f->good.net, "127.0.0.1", net_port(f->a.net));
    uint64_t t0 = uv_now(&f->loop);
    CHECK(run_until(&f->loop, good_linked, f, 3000));
    printf("identities: genuine peer linked in %llu ms with %d dead identities\n",
           (unsigned long long)(uv_now(&f->loop) - t0), IDENTITIES);
    CHECK(net_peer_count(f->a.net) <= NET_MAX_PEERS);
}

/* ---- never reads ---- */

struct noread {
    struct fixture *f;
    struct member m;
    uv_timer_t keepalive;
    uint8_t *blob;
    size_t sent_bytes, max_buffers, max_backlog;
    int refused;
};

enum { BLOB = 256 * 1024 };

static void on_keepalive(uv_timer_t *t)
{
    struct noread *nr = t->data;
    if (nr->m.closed)
        return;
    /* The member keeps talking (so it is not "dead"), it just never reads. */
    uint8_t st[NET_STATS_BYTES];
    struct net_stats s = {0};
    member_send(&nr->m, NET_MSG_STATS, st, net_stats_encode(&s, st));
    /* The node's application keeps sending to it, and to the good peer. */
    struct net *net = nr->f->a.net;
    for (int i = 0; i < 8; i++) {
        int rc = net_send(net, nr->m.keys.node_id, 40, nr->blob, BLOB);
        if (rc == 0)
            nr->sent_bytes += BLOB;
        else
            nr->refused++;
    }
    CHECK(net_send(net, nr->f->good.keys.node_id, 41, "hi", 2) == 0);
    if (net_buffer_bytes(net) > nr->max_buffers)
        nr->max_buffers = net_buffer_bytes(net);
    if (net_backlog(net, nr->m.keys.node_id) > nr->max_backlog)
        nr->max_backlog = net_backlog(net, nr->m.keys.node_id);
}

static bool member_up(void *arg) { return ((struct noread *)arg)->m.frames_in >= 2; }

static bool member_cut(void *arg)
{
    struct noread *nr = arg;
    const struct net_peer *p = net_peer_find(nr->f->a.net, nr->m.keys.node_id);
    return p != NULL && !p->connected;
}

static void test_never_reads(struct fixture *f)
{
    static struct noread nr;
    nr.f = f;
    nr.blob = calloc(1, BLOB);
    member_connect(&nr.m, &f->loop, "127.0.0.77", net_port(f->a.net), &f->mesh, f->a.keys.pk);
    CHECK(run_until(&f->loop, member_up, &nr, 5000));
    member_stop_reading(&nr.m);
    int good_msgs = f->good.msgs;
    uv_timer_init(&f->loop, &nr.keepalive);
    nr.keepalive.data = &nr;
    uv_timer_start(&nr.keepalive, on_keepalive, 50, 50);
    uint64_t t0 = uv_now(&f->loop);
    CHECK(run_until(&f->loop, member_cut, &nr, 8000));
    printf("never reads: cut after %llu ms, %zu bytes accepted, peak backlog %zu, "
           "peak link buffers %zu, %d sends refused\n",
           (unsigned long long)(uv_now(&f->loop) - t0), nr.sent_bytes, nr.max_backlog,
           nr.max_buffers, nr.refused);
    uv_close((uv_handle_t *)&nr.keepalive, NULL);
    CHECK(nr.refused > 0);                          /* backpressure, not growth */
    CHECK(nr.max_backlog <= ((size_t)4 << 20));     /* per-link cap, wire bytes */
    CHECK(nr.max_buffers <= ((size_t)4 << 20) + (1 << 20));
    /* The genuine peer kept its link and got every message meanwhile. */
    CHECK(good_linked(f));
    CHECK(f->good.msgs > good_msgs);
    member_close(&nr.m);
    free(nr.blob);
}

int main(void)
{
    static struct fixture f;
    uv_loop_init(&f.loop);
    harness_derive(&f.mesh, "exhaust-test-key");
    harness_tmpdir(f.dir_a);
    harness_tmpdir(f.dir_good);
    snprintf(f.a.name, sizeof f.a.name, "target");
    harness_keys(&f.a.keys, f.dir_a, &f.mesh);
    struct net_config cfg;
    tnode_config(&f.a, &f.loop, &cfg);
    struct mesh_log quiet = {.level = LOG_ERROR};
    cfg.log = &quiet;
    cfg.stall_ms = 1000;
    cfg.dead_after_ms = 3000;   /* the stall, not silence, must cut the member */
    tnode_start_cfg(&f.a, &cfg);

    test_identities(&f);
    test_never_reads(&f);

    tnode_stop(&f.good, &f.loop);
    tnode_stop(&f.a, &f.loop);
    run_for(&f.loop, 50);
    harness_rmdir(f.dir_a);
    harness_rmdir(f.dir_good);
    CHECK_INT_EQ(uv_loop_close(&f.loop), 0);
    printf("exhaust: ok\n");
    return 0;
}
