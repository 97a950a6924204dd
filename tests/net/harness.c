/* harness.c - see harness.h. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

void harness_derive(struct mesh_keys *mesh, const char *authkey)
{
    memset(mesh, 0, sizeof *mesh);
    CHECK(mesh_keys_derive_authkey(mesh, authkey, strlen(authkey)) == 0);
}

void harness_keys(struct mesh_keys *out, const char *dir, const struct mesh_keys *mesh)
{
    char err[256];
    if (mesh_keys_load_or_create(out, dir, err, sizeof err) != 0) {
        fprintf(stderr, "keys: %s\n", err);
        exit(1);
    }
    memcpy(out->K, mesh->K, sizeof out->K);
    memcpy(out->tag_hex, mesh->tag_hex, sizeof out->tag_hex);
}

void harness_tmpdir(char out[64])
{
    snprintf(out, 64, "/tmp/mesh-net-test-XXXXXX");
    CHECK(mkdtemp(out) != NULL);
}

void harness_rmdir(const char *dir)
{
    char path[128];
    snprintf(path, sizeof path, "%s/node.key", dir);
    unlink(path);
    CHECK(rmdir(dir) == 0);
}

static void on_up(void *ud, const struct net_peer *p)
{
    (void)p;
    ((struct tnode *)ud)->ups++;
}

static void on_down(void *ud, const struct net_peer *p)
{
    (void)p;
    ((struct tnode *)ud)->downs++;
}

static void on_message(void *ud, const struct net_peer *p, uint8_t type,
                       const uint8_t *data, size_t len)
{
    (void)data;
    struct tnode *n = ud;
    n->msgs++;
    n->last_type = type;
    n->last_len = len;
    n->last_from = p->id;
}

static void fill_stats(void *ud, struct net_stats *out)
{
    *out = ((struct tnode *)ud)->my_stats;
}

void tnode_config(struct tnode *n, uv_loop_t *loop, struct net_config *cfg)
{
    *cfg = (struct net_config){
        .loop = loop,
        .keys = &n->keys,
        .name = n->name,
        .listen_host = "127.0.0.1",
        .workers = 2,
        .ud = n,
        .on_peer_up = on_up,
        .on_peer_down = on_down,
        .on_message = on_message,
        .fill_stats = fill_stats,
        .tick_ms = 100,
        .dead_after_ms = 600,
        .handshake_timeout_ms = 800,
        .reconnect_min_ms = 50,
        .reconnect_max_ms = 400,
    };
}

void tnode_start_cfg(struct tnode *n, const struct net_config *cfg)
{
    n->stopped = false;
    int rc = net_start(&n->net, cfg);
    if (rc != 0) {
        fprintf(stderr, "net_start: %s\n", uv_strerror(rc));
        exit(1);
    }
}

void tnode_start(struct tnode *n, uv_loop_t *loop, const char *name, const char *dir,
                 const struct mesh_keys *mesh)
{
    snprintf(n->name, sizeof n->name, "%s", name);
    snprintf(n->dir, sizeof n->dir, "%s", dir);
    harness_keys(&n->keys, dir, mesh);
    struct net_config cfg;
    tnode_config(n, loop, &cfg);
    tnode_start_cfg(n, &cfg);
}

static void on_stopped(void *ud)
{
    ((struct tnode *)ud)->stopped = true;
}

static bool is_stopped(void *arg) { return ((struct tnode *)arg)->stopped; }

void tnode_stop(struct tnode *n, uv_loop_t *loop)
{
    net_stop(n->net, on_stopped);
    CHECK(run_until(loop, is_stopped, n, 5000));
    n->net = NULL;
}

size_t tnode_connected(const struct tnode *n)
{
    size_t count = 0;
    for (size_t i = 0; i < net_peer_count(n->net); i++)
        count += net_peer_at(n->net, i)->connected;
    return count;
}

const struct net_peer *tnode_peer(const struct tnode *n, const struct tnode *other)
{
    return net_peer_find(n->net, other->keys.node_id);
}

static void on_wait_timeout(uv_timer_t *t)
{
    *(bool *)t->data = true;
}

/* The condition can only change when a callback ran, so testing it after
 * every loop iteration is enough; the timer bounds the wait. */
bool run_until(uv_loop_t *loop, bool (*cond)(void *), void *arg, uint64_t timeout_ms)
{
    bool expired = false;
    uv_timer_t timer;
    uv_timer_init(loop, &timer);
    timer.data = &expired;
    uv_timer_start(&timer, on_wait_timeout, timeout_ms, 0);
    while (!(cond != NULL && cond(arg)) && !expired)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return cond != NULL && cond(arg);
}

void run_for(uv_loop_t *loop, uint64_t ms)
{
    run_until(loop, NULL, NULL, ms);
}

/* ---------- raw clients ---------- */

static void raw_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    buf->base = malloc(suggested);
    buf->len = buf->base != NULL ? suggested : 0;
}

static void raw_handle_closed(uv_handle_t *h)
{
    ((struct raw_client *)h->data)->handle_closed = true;
}

void raw_close(struct raw_client *c)
{
    if (!uv_is_closing((uv_handle_t *)&c->tcp))
        uv_close((uv_handle_t *)&c->tcp, raw_handle_closed);
}

static void raw_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct raw_client *c = s->data;
    free(buf->base);
    if (n < 0) {
        c->closed = true;
        raw_close(c);
    } else {
        c->received += (size_t)n;
    }
}

static void raw_written(uv_write_t *req, int status)
{
    (void)status;
    free(req);
}

static void raw_connected(uv_connect_t *req, int status)
{
    struct raw_client *c = req->data;
    if (status < 0) {
        c->closed = true;
        raw_close(c);
        return;
    }
    c->connected = true;
    uv_read_start((uv_stream_t *)&c->tcp, raw_alloc, raw_read);
    if (c->send_len > 0) {
        uv_write_t *w = malloc(sizeof *w);
        uv_buf_t buf = uv_buf_init((char *)c->send, (unsigned)c->send_len);
        uv_write(w, (uv_stream_t *)&c->tcp, &buf, 1, raw_written);
    }
}

void raw_connect(struct raw_client *c, uv_loop_t *loop, uint16_t port,
                 const void *bytes, size_t len)
{
    memset(c, 0, sizeof *c);
    c->send = (uint8_t *)bytes;
    c->send_len = len;
    uv_tcp_init(loop, &c->tcp);
    c->tcp.data = c;
    c->req.data = c;
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", port, &addr);
    CHECK(uv_tcp_connect(&c->req, &c->tcp, (struct sockaddr *)&addr, raw_connected) == 0);
}
