/* test_mesh.c - net instances on one loop over loopback: three nodes link
 * through static peers, exchange hello/stats/app messages, a fourth with
 * another authkey is refused, a stopped node is shown down, a restarted one
 * keeps its id, duplicate links collapse to one, a link's receive
 * buffer shrinks back after the largest message, and a loop held past the
 * keepalive timeout (a starved CPU) closes no link. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "harness.h"

struct world {
    uv_loop_t loop;
    struct mesh_keys mesh, other_mesh;
    struct tnode n[4];      /* a, b, c share an authkey; d has another */
    char dirs[4][64];
};

static bool all_three_linked(void *arg)
{
    struct world *w = arg;
    for (int i = 0; i < 3; i++)
        if (tnode_connected(&w->n[i]) != 2)
            return false;
    return true;
}

static bool stats_arrived(void *arg)
{
    struct world *w = arg;
    const struct net_peer *p = tnode_peer(&w->n[1], &w->n[0]);
    return p != NULL && p->stats.rate == 42.5 && p->stats.done == 1000 &&
           p->stats.busy == 2 && p->stats.draining;
}

static bool b_got_message(void *arg) { return ((struct world *)arg)->n[1].msgs > 0; }

static void check_hello(struct world *w)
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            if (i == j)
                continue;
            const struct net_peer *p = tnode_peer(&w->n[i], &w->n[j]);
            CHECK(p != NULL && p->connected);
            CHECK_STR_EQ(p->name, w->n[j].name);
            CHECK_STR_EQ(p->id_hex, w->n[j].keys.id_hex);
            CHECK_INT_EQ(p->workers, 2);
            CHECK_INT_EQ(p->version, NET_PROTOCOL_VERSION);
            CHECK(memcmp(p->pk, w->n[j].keys.pk, 32) == 0);
            char want[64];
            snprintf(want, sizeof want, "127.0.0.1:%u", net_port(w->n[j].net));
            CHECK_STR_EQ(p->addr, want);
            CHECK(p->last_heard_ms > 0);
        }
}

static void test_messages(struct world *w)
{
    struct tnode *a = &w->n[0], *b = &w->n[1];
    CHECK_INT_EQ(net_send(a->net, b->keys.node_id, 5, "x", 1), UV_EINVAL);
    CHECK_INT_EQ(net_send(a->net, 12345, 20, "x", 1), UV_ENOTCONN);
    CHECK_INT_EQ(net_send(a->net, b->keys.node_id, 20, "x", NET_MAX_PAYLOAD + 1), UV_E2BIG);
    CHECK_INT_EQ(net_send(a->net, b->keys.node_id, 20, "hi", 2), 0);
    CHECK(run_until(&w->loop, b_got_message, w, 3000));
    CHECK_INT_EQ(b->last_type, 20);
    CHECK_INT_EQ(b->last_len, 2);
    CHECK(b->last_from == a->keys.node_id);
    /* The largest message crosses whole. */
    static uint8_t big[NET_MAX_PAYLOAD];
    memset(big, 7, sizeof big);
    b->msgs = 0;
    CHECK_INT_EQ(net_send(a->net, b->keys.node_id, 200, big, sizeof big), 0);
    CHECK(net_backlog(a->net, b->keys.node_id) > 0);
    CHECK(run_until(&w->loop, b_got_message, w, 3000));
    CHECK_INT_EQ(b->last_type, 200);
    CHECK_INT_EQ(b->last_len, NET_MAX_PAYLOAD);
    /* The receive buffer grown for it is given back once it was consumed:
     * links that met one large frame do not each keep a megabyte. */
    CHECK(net_buffer_bytes(b->net) < NET_MAX_PAYLOAD / 2);
}

static bool d_refused_everywhere(void *arg)
{
    struct world *w = arg;
    /* Several attempts each (reconnects) were made and none got through. */
    return w->n[3].ups == 0 && net_link_count(w->n[3].net) <= 3 && w->n[3].msgs == 0;
}

static void test_wrong_authkey(struct world *w)
{
    struct tnode *d = &w->n[3];
    tnode_start(d, &w->loop, "delta", w->dirs[3], &w->other_mesh);
    for (int i = 0; i < 3; i++)
        CHECK(net_add_static_peer(d->net, "127.0.0.1", net_port(w->n[i].net)) == 0);
    run_for(&w->loop, 1500);
    CHECK(d_refused_everywhere(w));
    CHECK_INT_EQ(net_peer_count(d->net), 0);
    for (int i = 0; i < 3; i++) {
        CHECK_INT_EQ(net_peer_count(w->n[i].net), 2);
        CHECK_INT_EQ(tnode_connected(&w->n[i]), 2);
        CHECK(tnode_peer(&w->n[i], d) == NULL);
    }
    tnode_stop(d, &w->loop);
}

static bool single_link_each(void *arg)
{
    struct world *w = arg;
    for (int i = 0; i < 3; i++)
        if (net_link_count(w->n[i].net) != 2 || tnode_connected(&w->n[i]) != 2)
            return false;
    return true;
}

static void test_duplicates_collapse(struct world *w)
{
    /* b dialed a and c dialed both; now make a and b dial back: each pair
     * then has two links for a moment. */
    int ups_before = w->n[0].ups + w->n[1].ups + w->n[2].ups;
    int downs_before = w->n[0].downs + w->n[1].downs + w->n[2].downs;
    CHECK(net_add_static_peer(w->n[0].net, "127.0.0.1", net_port(w->n[1].net)) == 0);
    CHECK(net_add_static_peer(w->n[0].net, "127.0.0.1", net_port(w->n[2].net)) == 0);
    CHECK(net_add_static_peer(w->n[1].net, "127.0.0.1", net_port(w->n[2].net)) == 0);
    run_for(&w->loop, 1500);
    CHECK(single_link_each(w));
    /* Collapsing swapped links silently: nobody saw a peer go down or up. */
    CHECK_INT_EQ(w->n[0].ups + w->n[1].ups + w->n[2].ups, ups_before);
    CHECK_INT_EQ(w->n[0].downs + w->n[1].downs + w->n[2].downs, downs_before);
    /* And it stays that way: the static targets do not keep redialing. */
    run_for(&w->loop, 1000);
    CHECK(single_link_each(w));
}

static bool c_down_everywhere(void *arg)
{
    struct world *w = arg;
    const struct net_peer *pa = tnode_peer(&w->n[0], &w->n[2]);
    const struct net_peer *pb = tnode_peer(&w->n[1], &w->n[2]);
    return pa != NULL && !pa->connected && pb != NULL && !pb->connected;
}

static void test_stop_and_restart(struct world *w)
{
    struct tnode *c = &w->n[2];
    char id_before[17];
    snprintf(id_before, sizeof id_before, "%s", c->keys.id_hex);
    uint16_t a_port = net_port(w->n[0].net), b_port = net_port(w->n[1].net);
    tnode_stop(c, &w->loop);
    CHECK(run_until(&w->loop, c_down_everywhere, w, 3000));
    CHECK(w->n[0].downs >= 1 && w->n[1].downs >= 1);
    /* Down peers stay listed for `mesh status`. */
    CHECK_INT_EQ(net_peer_count(w->n[0].net), 2);
    CHECK_INT_EQ(tnode_connected(&w->n[0]), 1);

    memset(c, 0, sizeof *c);
    tnode_start(c, &w->loop, "gamma", w->dirs[2], &w->mesh);
    CHECK_STR_EQ(c->keys.id_hex, id_before);
    net_add_static_peer(c->net, "127.0.0.1", a_port);
    net_add_static_peer(c->net, "127.0.0.1", b_port);
    CHECK(run_until(&w->loop, all_three_linked, w, 5000));
    CHECK_INT_EQ(net_peer_count(w->n[0].net), 2);
}

/* The loop held for three keepalive timeouts, as a starved CPU or a long
 * fsync holds a node's: when it runs again its ticks are late and what the
 * peers sent meanwhile is still unread, so no peer may be judged silent
 * (that closed healthy links under load and re-sent everything). */
static void test_held_loop_keeps_links(struct world *w)
{
    unsigned downs = 0;
    for (int i = 0; i < 3; i++)
        downs += w->n[i].downs;
    usleep(3 * 600 * 1000);
    run_for(&w->loop, 1000);
    unsigned after = 0;
    for (int i = 0; i < 3; i++)
        after += w->n[i].downs;
    CHECK_INT_EQ(after, downs);
    CHECK(all_three_linked(w));
}

int main(void)
{
    static struct world w;
    uv_loop_init(&w.loop);
    harness_derive(&w.mesh, "correct horse");
    harness_derive(&w.other_mesh, "battery staple");
    const char *names[3] = {"alpha", "beta", "gamma"};
    for (int i = 0; i < 4; i++)
        harness_tmpdir(w.dirs[i]);
    for (int i = 0; i < 3; i++)
        tnode_start(&w.n[i], &w.loop, names[i], w.dirs[i], &w.mesh);
    uint16_t pa = net_port(w.n[0].net), pb = net_port(w.n[1].net);
    CHECK(pa != 0 && pb != 0 && pa != pb);
    net_add_static_peer(w.n[1].net, "127.0.0.1", pa);
    net_add_static_peer(w.n[2].net, "localhost", pa);  /* by name: resolver path */
    net_add_static_peer(w.n[2].net, "127.0.0.1", pb);
    CHECK(run_until(&w.loop, all_three_linked, &w, 5000));
    check_hello(&w);
    w.n[0].my_stats = (struct net_stats){.rate = 42.5, .busy = 2, .done = 1000, .draining = true};
    CHECK(run_until(&w.loop, stats_arrived, &w, 3000));
    test_messages(&w);
    test_wrong_authkey(&w);
    test_duplicates_collapse(&w);
    test_held_loop_keeps_links(&w);
    test_stop_and_restart(&w);
    for (int i = 0; i < 3; i++)
        tnode_stop(&w.n[i], &w.loop);
    for (int i = 0; i < 4; i++)
        harness_rmdir(w.dirs[i]);
    CHECK_INT_EQ(uv_loop_close(&w.loop), 0);
    printf("mesh: ok\n");
    return 0;
}
