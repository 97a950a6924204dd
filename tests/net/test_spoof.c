/* test_spoof.c - spoofed mDNS announcements as the link layer sees them
 * (net_dial is what discovery calls for every announcement; the tag is
 * public, so anyone can make these calls happen), with real sockets:
 *   repoint: a real peer's key announced at junk addresses before and after
 *     its real one: the node still links to it.
 *   forever: a key announced at a junk listener is dialed a bounded number
 *     of times, then dropped.
 *   fill: hundreds of fake keys from one host are capped, and a full
 *     target table still takes a genuine new peer, which links. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "harness.h"

struct junk {              /* accepts and hangs up: not a mesh node */
    uv_tcp_t server;
    int accepts;
    uint16_t port;
};

struct fixture {
    uv_loop_t loop;
    struct mesh_keys mesh;
    struct tnode a, b, c;
    char dir_a[64], dir_b[64], dir_c[64];
    struct junk junk;
    struct mesh_log quiet;
};

static void junk_closed(uv_handle_t *h) { free(h); }

static void junk_accept(uv_stream_t *server, int status)
{
    struct junk *j = server->data;
    if (status < 0)
        return;
    uv_tcp_t *c = malloc(sizeof *c);
    uv_tcp_init(server->loop, c);
    if (uv_accept(server, (uv_stream_t *)c) == 0)
        j->accepts++;
    uv_close((uv_handle_t *)c, junk_closed);
}

static void junk_start(struct junk *j, uv_loop_t *loop)
{
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    uv_tcp_init(loop, &j->server);
    j->server.data = j;
    CHECK(uv_tcp_bind(&j->server, (struct sockaddr *)&addr, 0) == 0);
    CHECK(uv_listen((uv_stream_t *)&j->server, 64, junk_accept) == 0);
    int len = sizeof addr;
    uv_tcp_getsockname(&j->server, (struct sockaddr *)&addr, &len);
    j->port = ntohs(addr.sin_port);
}

static void random_pk(uint8_t pk[MESH_KEY_BYTES])
{
    uint8_t sk[MESH_KEY_BYTES];
    crypto_box_keypair(pk, sk);
}

static bool a_linked_b(void *arg)
{
    struct fixture *f = arg;
    const struct net_peer *p = tnode_peer(&f->a, &f->b);
    return p != NULL && p->connected;
}

static bool a_linked_c(void *arg)
{
    struct fixture *f = arg;
    const struct net_peer *p = tnode_peer(&f->a, &f->c);
    return p != NULL && p->connected;
}

static void test_repoint(struct fixture *f)
{
    struct net *a = f->a.net;
    CHECK(net_dial(a, "127.0.0.1", f->junk.port, f->b.keys.pk) == 0);
    CHECK(net_dial(a, "127.0.0.1", net_port(f->b.net), f->b.keys.pk) == 0);
    CHECK(net_dial(a, "127.0.0.1", 9, f->b.keys.pk) == 0);      /* refused */
    CHECK(net_dial(a, "127.0.0.2", f->junk.port, f->b.keys.pk) == 0);
    /* a fifth address pushes out an unproven one, never the table */
    CHECK(net_dial(a, "127.0.0.3", f->junk.port, f->b.keys.pk) == 0);
    CHECK(run_until(&f->loop, a_linked_b, f, 4000));
    /* A key with the top bit set would be a second id for one secret key. */
    uint8_t odd[MESH_KEY_BYTES];
    memcpy(odd, f->b.keys.pk, sizeof odd);
    odd[MESH_KEY_BYTES - 1] |= 0x80;
    CHECK(net_dial(a, "127.0.0.1", net_port(f->b.net), odd) == UV_EINVAL);
}

static bool junk_quiet_since(struct fixture *f, int before, uint64_t ms)
{
    run_for(&f->loop, ms);
    return f->junk.accepts == before;
}

static void test_forever(struct fixture *f)
{
    uint8_t pk[MESH_KEY_BYTES];
    random_pk(pk);
    int before = f->junk.accepts;
    CHECK(net_dial(f->a.net, "127.0.0.1", f->junk.port, pk) == 0);
    run_for(&f->loop, 3000);   /* backoff 50..400 ms: the limit comes quickly */
    int dials = f->junk.accepts - before;
    printf("forever: junk address dialed %d times, then dropped\n", dials);
    CHECK(dials >= 1 && dials <= 5);
    CHECK(junk_quiet_since(f, f->junk.accepts, 1500));
    CHECK(a_linked_b(f));
}

static void test_fill(struct fixture *f)
{
    struct net *a = f->a.net;
    int taken = 0;
    for (int i = 0; i < 300; i++) {
        uint8_t pk[MESH_KEY_BYTES];
        random_pk(pk);
        taken += net_dial(a, "127.0.0.3", 9, pk) == 0;
    }
    printf("fill: one host got %d of 300 fake keys dialed\n", taken);
    CHECK(taken <= 8);
    /* Many hosts: the table fills up (256 targets). */
    for (int i = 0; i < 400; i++) {
        char host[32];
        snprintf(host, sizeof host, "127.0.1.%d", 1 + i % 250);
        uint8_t pk[MESH_KEY_BYTES];
        random_pk(pk);
        net_dial(a, host, 9, pk);
    }
    tnode_start(&f->c, &f->loop, "c", f->dir_c, &f->mesh);
    CHECK(net_dial(a, "127.0.0.1", net_port(f->c.net), f->c.keys.pk) == 0);
    uint64_t t0 = uv_now(&f->loop);
    CHECK(run_until(&f->loop, a_linked_c, f, 3000));
    printf("fill: genuine new peer linked in %llu ms with a full target table\n",
           (unsigned long long)(uv_now(&f->loop) - t0));
    CHECK(a_linked_b(f));
}

int main(void)
{
    static struct fixture f;
    uv_loop_init(&f.loop);
    harness_derive(&f.mesh, "spoof-test-key");
    harness_tmpdir(f.dir_a);
    harness_tmpdir(f.dir_b);
    harness_tmpdir(f.dir_c);
    junk_start(&f.junk, &f.loop);
    f.quiet = (struct mesh_log){.level = LOG_ERROR};
    snprintf(f.a.name, sizeof f.a.name, "a");
    harness_keys(&f.a.keys, f.dir_a, &f.mesh);
    struct net_config cfg;
    tnode_config(&f.a, &f.loop, &cfg);
    cfg.log = &f.quiet;
    tnode_start_cfg(&f.a, &cfg);
    tnode_start(&f.b, &f.loop, "b", f.dir_b, &f.mesh);

    test_repoint(&f);
    test_forever(&f);
    test_fill(&f);

    tnode_stop(&f.c, &f.loop);
    tnode_stop(&f.b, &f.loop);
    tnode_stop(&f.a, &f.loop);
    uv_close((uv_handle_t *)&f.junk.server, NULL);
    run_for(&f.loop, 50);
    harness_rmdir(f.dir_a);
    harness_rmdir(f.dir_b);
    harness_rmdir(f.dir_c);
    CHECK_INT_EQ(uv_loop_close(&f.loop), 0);
    printf("spoof: ok\n");
    return 0;
}
