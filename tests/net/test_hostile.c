/* test_hostile.c - a node under hostile clients (raw libuv sockets on the
 * same loop): garbage, an oversize length prefix before and after a valid
 * handshake, a stalled handshake, a frame before hello, a flood of 200
 * connections. Each is closed, the log stays short (rate limited), pending
 * handshakes return to zero, memory does not grow, and a good peer can
 * still link afterwards. */
#include <malloc.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "frame.h"
#include "handshake.h"
#include "harness.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

struct fixture {
    uv_loop_t loop;
    struct mesh_keys mesh;
    struct tnode a, good;
    char dir_a[64], dir_good[64];
    struct mesh_log log;
    FILE *log_file;
};

/* ---- a client that completes a real handshake, then misbehaves ---- */

enum after_handshake { SEND_OVERSIZE, SEND_APP_BEFORE_HELLO, SEND_TAMPERED };

struct auth_client {
    uv_tcp_t tcp;
    uv_connect_t req;
    struct handshake hs;
    struct mesh_keys keys;
    enum after_handshake mode;
    uint8_t rx[512];
    size_t rx_len;
    bool closed_by_server, handle_closed;
};

static void free_write(uv_write_t *w, int status)
{
    (void)status;
    free(w);
}

static void ac_send(struct auth_client *c, const void *data, size_t len)
{
    uv_write_t *w = malloc(sizeof *w + len);
    memcpy(w + 1, data, len);
    uv_buf_t buf = uv_buf_init((char *)(w + 1), (unsigned)len);
    uv_write(w, (uv_stream_t *)&c->tcp, &buf, 1, free_write);
}

static void ac_misbehave(struct auth_client *c)
{
    struct hs_session s;
    CHECK(hs_finish(&c->hs, &s) == HS_OK);
    struct frame_key tx;
    frame_key_init(&tx, s.tx_key);
    uint8_t frame[64];
    if (c->mode == SEND_OVERSIZE) {
        static const uint8_t huge[4] = {0x7f, 0xff, 0xff, 0xff};
        ac_send(c, huge, sizeof huge);
        return;
    }
    CHECK(frame_seal(&tx, c->mode == SEND_TAMPERED ? NET_MSG_HELLO : 40, "abc", 3, frame) == FRAME_OK);
    if (c->mode == SEND_TAMPERED)
        frame[6] ^= 0x10;
    ac_send(c, frame, frame_wire_size(3));
}

static void ac_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct auth_client *c = h->data;
    *buf = uv_buf_init((char *)c->rx + c->rx_len, (unsigned)(sizeof c->rx - c->rx_len));
}

static void ac_closed(uv_handle_t *h) { ((struct auth_client *)h->data)->handle_closed = true; }

static void ac_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    struct auth_client *c = s->data;
    if (n < 0) {
        c->closed_by_server = true;
        uv_close((uv_handle_t *)&c->tcp, ac_closed);
        return;
    }
    c->rx_len += (size_t)n;
    if (c->hs.step == 0 && c->rx_len >= HS_MSG0_BYTES) {
        uint8_t m1[HS_MSG1_BYTES];
        CHECK(hs_initiator_read_msg0(&c->hs, c->rx, m1) == HS_OK);
        ac_send(c, m1, sizeof m1);
        memmove(c->rx, c->rx + HS_MSG0_BYTES, c->rx_len - HS_MSG0_BYTES);
        c->rx_len -= HS_MSG0_BYTES;
    }
    if (c->hs.step == 1 && c->rx_len >= HS_MSG2_BYTES) {
        CHECK(hs_initiator_read_msg2(&c->hs, c->rx) == HS_OK);
        ac_misbehave(c);
    }
    if (c->rx_len == sizeof c->rx)
        c->rx_len = 0; /* frames from the node: not interesting here */
}

static void ac_connected(uv_connect_t *req, int status)
{
    struct auth_client *c = req->data;
    CHECK(status == 0);
    uv_read_start((uv_stream_t *)&c->tcp, ac_alloc, ac_read);
}

static void ac_start(struct auth_client *c, struct fixture *f, enum after_handshake mode,
                     const char *dir)
{
    memset(c, 0, sizeof *c);
    harness_keys(&c->keys, dir, &f->mesh);
    c->mode = mode;
    hs_initiator_start(&c->hs, &c->keys, f->a.keys.pk);
    uv_tcp_init(&f->loop, &c->tcp);
    c->tcp.data = c;
    c->req.data = c;
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", net_port(f->a.net), &addr);
    CHECK(uv_tcp_connect(&c->req, &c->tcp, (struct sockaddr *)&addr, ac_connected) == 0);
}

static bool ac_done(void *arg) { return ((struct auth_client *)arg)->handle_closed; }

/* ---- helpers ---- */

static bool node_idle(void *arg)
{
    struct fixture *f = arg;
    return net_pending_handshakes(f->a.net) == 0 && net_link_count(f->a.net) == 0;
}

static bool raw_all_closed(void *arg)
{
    struct raw_client **list = arg;
    for (size_t i = 0; list[i] != NULL; i++)
        if (!list[i]->handle_closed)
            return false;
    return true;
}

static size_t log_lines(struct fixture *f)
{
    fflush(f->log_file);
    long end = ftell(f->log_file);
    rewind(f->log_file);
    size_t lines = 0;
    int ch;
    while ((ch = fgetc(f->log_file)) != EOF)
        lines += ch == '\n';
    fseek(f->log_file, end, SEEK_SET);
    return lines;
}

static bool log_has(struct fixture *f, const char *needle)
{
    fflush(f->log_file);
    long end = ftell(f->log_file);
    rewind(f->log_file);
    char line[1200];
    bool found = false;
    while (!found && fgets(line, sizeof line, f->log_file) != NULL)
        found = strstr(line, needle) != NULL;
    fseek(f->log_file, end, SEEK_SET);
    return found;
}

static void one_raw(struct fixture *f, const void *bytes, size_t len)
{
    struct raw_client c;
    struct raw_client *list[2] = {&c, NULL};
    raw_connect(&c, &f->loop, net_port(f->a.net), bytes, len);
    CHECK(run_until(&f->loop, raw_all_closed, list, 5000));
    CHECK(c.connected && c.closed);
    CHECK(run_until(&f->loop, node_idle, f, 3000));
}

/* ---- the scenarios ---- */

static void test_garbage_and_stall(struct fixture *f)
{
    uint8_t garbage[400];
    randombytes_buf(garbage, sizeof garbage);
    one_raw(f, garbage, sizeof garbage);
    CHECK(log_has(f, "handshake not sealed to our key"));
    /* Oversize length prefix first: it is not a handshake, so it waits for
     * the full message and is cut by the handshake timeout. */
    static const uint8_t huge[4] = {0xff, 0xff, 0xff, 0xff};
    one_raw(f, huge, sizeof huge);
    one_raw(f, NULL, 0);  /* stalled: connect and say nothing */
    CHECK(log_has(f, "handshake timeout"));
}

static void test_authenticated_misbehaviour(struct fixture *f)
{
    const enum after_handshake modes[3] = {SEND_OVERSIZE, SEND_APP_BEFORE_HELLO, SEND_TAMPERED};
    const char *reasons[3] = {"oversize frame", "message before hello", "failed authentication"};
    for (int i = 0; i < 3; i++) {
        char dir[64];
        harness_tmpdir(dir);
        struct auth_client c;
        ac_start(&c, f, modes[i], dir);
        CHECK(run_until(&f->loop, ac_done, &c, 5000));
        CHECK(c.closed_by_server);
        CHECK(run_until(&f->loop, node_idle, f, 3000));
        if (!log_has(f, reasons[i]))
            fprintf(stderr, "missing log reason: %s\n", reasons[i]);
        CHECK(log_has(f, reasons[i]));
        harness_rmdir(dir);
    }
    /* None of them made it into the peer table. */
    CHECK_INT_EQ(net_peer_count(f->a.net), 0);
}

static size_t heap_in_use(void)
{
    return mallinfo2().uordblks;
}

static void flood(struct fixture *f, size_t count)
{
    struct raw_client *clients = calloc(count, sizeof *clients);
    struct raw_client **list = calloc(count + 1, sizeof *list);
    for (size_t i = 0; i < count; i++) {
        list[i] = &clients[i];
        raw_connect(&clients[i], &f->loop, net_port(f->a.net), NULL, 0);
    }
    CHECK(run_until(&f->loop, raw_all_closed, list, 10000));
    CHECK(net_pending_handshakes(f->a.net) <= 64);
    CHECK(run_until(&f->loop, node_idle, f, 3000));
    free(clients);
    free(list);
}

static void test_flood(struct fixture *f)
{
    size_t lines_before = log_lines(f);
    flood(f, 200);  /* warms allocator caches too */
    CHECK(log_has(f, "handshake rate limit"));
    /* 200 closes, but only a handful of lines per cause and window. */
    CHECK(log_lines(f) - lines_before <= 12);
    size_t heap = heap_in_use();
    flood(f, 200);
    flood(f, 200);
#ifndef UNDER_ASAN
    /* Nothing per hostile connection is retained. */
    CHECK(heap_in_use() <= heap + 64 * 1024);
#else
    (void)heap;
#endif
}

static bool good_linked(void *arg)
{
    struct fixture *f = arg;
    return tnode_connected(&f->a) == 1 && tnode_connected(&f->good) == 1;
}

int main(void)
{
    static struct fixture f;
    uv_loop_init(&f.loop);
    harness_derive(&f.mesh, "hostile-test-key");
    harness_tmpdir(f.dir_a);
    harness_tmpdir(f.dir_good);
    f.log_file = tmpfile();
    f.log = (struct mesh_log){.out = f.log_file, .level = LOG_DEBUG};
    snprintf(f.a.name, sizeof f.a.name, "target");
    harness_keys(&f.a.keys, f.dir_a, &f.mesh);
    struct net_config cfg;
    tnode_config(&f.a, &f.loop, &cfg);
    cfg.log = &f.log;
    tnode_start_cfg(&f.a, &cfg);

    test_garbage_and_stall(&f);
    test_authenticated_misbehaviour(&f);
    test_flood(&f);

    /* The node still works: a good peer (same source address) links. */
    tnode_start(&f.good, &f.loop, "good", f.dir_good, &f.mesh);
    net_add_static_peer(f.good.net, "127.0.0.1", net_port(f.a.net));
    CHECK(run_until(&f.loop, good_linked, &f, 10000));

    tnode_stop(&f.good, &f.loop);
    tnode_stop(&f.a, &f.loop);
    harness_rmdir(f.dir_a);
    harness_rmdir(f.dir_good);
    if (getenv("NET_TEST_SHOW_LOG") != NULL) {
        rewind(f.log_file);
        int ch;
        while ((ch = fgetc(f.log_file)) != EOF)
            fputc(ch, stderr);
    }
    fclose(f.log_file);
    CHECK_INT_EQ(uv_loop_close(&f.loop), 0);
    printf("hostile: ok\n");
    return 0;
}
