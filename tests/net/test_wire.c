/* test_wire.c - what crosses the wire. A tee proxy on the loop sits between
 * two nodes and records every byte both ways. Checked: the authkey, K, the
 * node names and application payloads appear nowhere in the capture; when
 * the proxy silently stops forwarding, both nodes see the peer down by
 * keepalive; when it flips one bit, the link is closed and comes back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "harness.h"

#define AUTHKEY "wire-test-authkey-do-not-leak"
#define SECRET_PAYLOAD "application payload that must be encrypted"

struct proxy {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uint16_t target_port;
    bool frozen;         /* drop everything, keep the sockets open */
    bool flip_next;      /* corrupt one byte of the next chunk */
    uint8_t *capture;
    size_t cap_len, cap_size;
    int sessions;
};

struct session;

struct side {
    uv_tcp_t tcp;
    struct side *other;
    struct session *sess;
    bool open;
};

struct session {
    struct proxy *proxy;
    struct side client, server;  /* client: accepted; server: dialed */
    uv_connect_t req;
    int closed_handles;
};

static void capture(struct proxy *p, const uint8_t *data, size_t len)
{
    if (p->cap_len + len > p->cap_size) {
        p->cap_size = (p->cap_len + len) * 2;
        p->capture = realloc(p->capture, p->cap_size);
        CHECK(p->capture != NULL);
    }
    memcpy(p->capture + p->cap_len, data, len);
    p->cap_len += len;
}

static void side_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    buf->base = malloc(suggested);
    buf->len = suggested;
}

static void on_side_closed(uv_handle_t *h)
{
    struct side *s = h->data;
    struct session *sess = s->sess;
    if (++sess->closed_handles == 2) {
        sess->proxy->sessions--;
        free(sess);
    }
}

static void close_session(struct session *sess)
{
    struct side *sides[2] = {&sess->client, &sess->server};
    for (int i = 0; i < 2; i++)
        if (sides[i]->open) {
            sides[i]->open = false;
            uv_close((uv_handle_t *)&sides[i]->tcp, on_side_closed);
        }
}

static void write_done(uv_write_t *w, int status)
{
    (void)status;
    free(w);
}

static void side_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    struct side *s = st->data;
    struct proxy *p = s->sess->proxy;
    if (n < 0) {
        free(buf->base);
        close_session(s->sess);
        return;
    }
    if (n > 0 && !p->frozen && s->other->open) {
        if (p->flip_next) {
            buf->base[n / 2] ^= 0x01;
            p->flip_next = false;
        }
        capture(p, (uint8_t *)buf->base, (size_t)n);
        uv_write_t *w = malloc(sizeof *w + (size_t)n);
        memcpy(w + 1, buf->base, (size_t)n);
        uv_buf_t out = uv_buf_init((char *)(w + 1), (unsigned)n);
        uv_write(w, (uv_stream_t *)&s->other->tcp, &out, 1, write_done);
    }
    free(buf->base);
}

static void server_connected(uv_connect_t *req, int status)
{
    struct session *sess = req->data;
    if (status < 0) {
        close_session(sess);
        return;
    }
    uv_read_start((uv_stream_t *)&sess->client.tcp, side_alloc, side_read);
    uv_read_start((uv_stream_t *)&sess->server.tcp, side_alloc, side_read);
}

static void proxy_accept(uv_stream_t *server, int status)
{
    struct proxy *p = server->data;
    CHECK(status == 0);
    struct session *sess = calloc(1, sizeof *sess);
    sess->proxy = p;
    struct side *sides[2] = {&sess->client, &sess->server};
    for (int i = 0; i < 2; i++) {
        uv_tcp_init(p->loop, &sides[i]->tcp);
        sides[i]->tcp.data = sides[i];
        sides[i]->sess = sess;
        sides[i]->open = true;
        sides[i]->other = sides[1 - i];
    }
    p->sessions++;
    CHECK(uv_accept(server, (uv_stream_t *)&sess->client.tcp) == 0);
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", p->target_port, &addr);
    sess->req.data = sess;
    CHECK(uv_tcp_connect(&sess->req, &sess->server.tcp, (struct sockaddr *)&addr,
                         server_connected) == 0);
}

static uint16_t proxy_start(struct proxy *p, uv_loop_t *loop, uint16_t target_port)
{
    memset(p, 0, sizeof *p);
    p->loop = loop;
    p->target_port = target_port;
    uv_tcp_init(loop, &p->listener);
    p->listener.data = p;
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    CHECK(uv_tcp_bind(&p->listener, (struct sockaddr *)&addr, 0) == 0);
    CHECK(uv_listen((uv_stream_t *)&p->listener, 16, proxy_accept) == 0);
    struct sockaddr_in bound;
    int len = sizeof bound;
    uv_tcp_getsockname(&p->listener, (struct sockaddr *)&bound, &len);
    return ntohs(bound.sin_port);
}

/* ---- the test ---- */

struct world {
    uv_loop_t loop;
    struct mesh_keys mesh;
    struct tnode a, b;
    struct proxy proxy;
};

static bool linked(void *arg)
{
    struct world *w = arg;
    return tnode_connected(&w->a) == 1 && tnode_connected(&w->b) == 1;
}

static bool both_down(void *arg)
{
    struct world *w = arg;
    return tnode_connected(&w->a) == 0 && tnode_connected(&w->b) == 0;
}

static bool b_has_message(void *arg) { return ((struct world *)arg)->b.msgs > 0; }
static bool a_has_stats(void *arg)
{
    const struct net_peer *p = tnode_peer(&((struct world *)arg)->a, &((struct world *)arg)->b);
    return p != NULL && p->stats.done == 777;
}

static bool captured(const struct proxy *p, const void *needle, size_t len)
{
    return memmem(p->capture, p->cap_len, needle, len) != NULL;
}

static void test_nothing_secret_on_the_wire(struct world *w)
{
    w->b.my_stats.done = 777;
    CHECK(run_until(&w->loop, a_has_stats, w, 3000));
    CHECK(net_send(w->a.net, w->b.keys.node_id, 30, SECRET_PAYLOAD, strlen(SECRET_PAYLOAD)) == 0);
    CHECK(run_until(&w->loop, b_has_message, w, 3000));
    CHECK(w->proxy.cap_len > 500);
    CHECK(!captured(&w->proxy, AUTHKEY, strlen(AUTHKEY)));
    CHECK(!captured(&w->proxy, w->mesh.K, sizeof w->mesh.K));
    CHECK(!captured(&w->proxy, w->mesh.K, 8));  /* not even a piece of it */
    CHECK(!captured(&w->proxy, w->a.keys.sk, 32));
    CHECK(!captured(&w->proxy, w->b.keys.sk, 32));
    CHECK(!captured(&w->proxy, SECRET_PAYLOAD, strlen(SECRET_PAYLOAD)));
    CHECK(!captured(&w->proxy, "wire-alpha", 10));
    CHECK(!captured(&w->proxy, "wire-beta", 9));
    /* Sanity of the capture itself: the responder's public key is there. */
    CHECK(captured(&w->proxy, w->b.keys.pk, 32));
}

static void test_keepalive(struct world *w)
{
    int downs = w->a.downs + w->b.downs;
    w->proxy.frozen = true;  /* a silently dead path: no FIN, no RST */
    CHECK(run_until(&w->loop, both_down, w, 5000));
    CHECK_INT_EQ(w->a.downs + w->b.downs, downs + 2);
    w->proxy.frozen = false;
    CHECK(run_until(&w->loop, linked, w, 5000)); /* a reconnects with backoff */
}

static void test_tampering(struct world *w)
{
    int downs = w->a.downs + w->b.downs;
    w->proxy.flip_next = true;
    CHECK(run_until(&w->loop, both_down, w, 3000));
    CHECK(w->a.downs + w->b.downs > downs);
    CHECK(run_until(&w->loop, linked, w, 5000));
}

int main(void)
{
    static struct world w;
    uv_loop_init(&w.loop);
    harness_derive(&w.mesh, AUTHKEY);
    char dir_a[64], dir_b[64];
    harness_tmpdir(dir_a);
    harness_tmpdir(dir_b);
    tnode_start(&w.a, &w.loop, "wire-alpha", dir_a, &w.mesh);
    tnode_start(&w.b, &w.loop, "wire-beta", dir_b, &w.mesh);
    uint16_t via = proxy_start(&w.proxy, &w.loop, net_port(w.b.net));
    net_add_static_peer(w.a.net, "127.0.0.1", via);
    CHECK(run_until(&w.loop, linked, &w, 5000));
    test_nothing_secret_on_the_wire(&w);
    test_keepalive(&w);
    test_tampering(&w);

    tnode_stop(&w.a, &w.loop);
    tnode_stop(&w.b, &w.loop);
    uv_close((uv_handle_t *)&w.proxy.listener, NULL);
    run_for(&w.loop, 100);
    CHECK_INT_EQ(w.proxy.sessions, 0);
    free(w.proxy.capture);
    harness_rmdir(dir_a);
    harness_rmdir(dir_b);
    CHECK_INT_EQ(uv_loop_close(&w.loop), 0);
    printf("wire: ok\n");
    return 0;
}
