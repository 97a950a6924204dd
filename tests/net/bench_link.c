/* bench_link.c - link benchmark (not a test): prints figures.
 *   1. handshake CPU cost: the pure three-message handshake, in memory;
 *   2. link set-up time over loopback: TCP connect to both peers up;
 *   3. encrypted payload throughput over one loopback link, sender and
 *      receiver in two processes (one core each), for two message sizes.
 * Usage: bench_link [MiB to send per size, default 2048] */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "handshake.h"
#include "harness.h"

enum { MSG_DATA = 40, MSG_DONE = 41 };

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bench_handshake_cpu(const struct mesh_keys *mesh)
{
    struct mesh_keys a = *mesh, b = *mesh;
    crypto_box_keypair(a.pk, a.sk);
    crypto_box_keypair(b.pk, b.sk);
    enum { ROUNDS = 2000 };
    double t0 = now_s();
    for (int i = 0; i < ROUNDS; i++) {
        struct handshake hi, hr;
        struct hs_session si, sr;
        uint8_t m0[HS_MSG0_BYTES], m1[HS_MSG1_BYTES], m2[HS_MSG2_BYTES];
        hs_responder_start(&hr, &b, m0);
        hs_initiator_start(&hi, &a, NULL);
        CHECK(hs_initiator_read_msg0(&hi, m0, m1) == HS_OK);
        CHECK(hs_responder_read_msg1(&hr, m1, m2) == HS_OK);
        CHECK(hs_initiator_read_msg2(&hi, m2) == HS_OK);
        hs_finish(&hi, &si);
        hs_finish(&hr, &sr);
    }
    double per = (now_s() - t0) / ROUNDS;
    printf("handshake (both sides' CPU, in memory): %.3f ms\n", per * 1e3);
}

static bool linked(void *arg)
{
    struct tnode *n = arg;
    return tnode_connected(&n[0]) == 1 && tnode_connected(&n[1]) == 1;
}

static bool unlinked(void *arg)
{
    struct tnode *n = arg;
    return tnode_connected(&n[0]) == 0 && tnode_connected(&n[1]) == 0 &&
           net_link_count(n[0].net) == 0 && net_link_count(n[1].net) == 0;
}

/* Loopback set-up: a fresh pair of nets each round, so every round does a
 * full TCP connect + handshake + hello exchange. */
static void bench_link_setup(const struct mesh_keys *mesh, const char *dir_a,
                             const char *dir_b)
{
    enum { ROUNDS = 50 };
    uv_loop_t loop;
    uv_loop_init(&loop);
    double total = 0;
    for (int i = 0; i < ROUNDS; i++) {
        static struct tnode n[2];
        memset(n, 0, sizeof n);
        tnode_start(&n[0], &loop, "a", dir_a, mesh);
        tnode_start(&n[1], &loop, "b", dir_b, mesh);
        double t0 = now_s();
        net_add_static_peer(n[0].net, "127.0.0.1", net_port(n[1].net));
        CHECK(run_until(&loop, linked, n, 5000));
        total += now_s() - t0;
        tnode_stop(&n[0], &loop);
        tnode_stop(&n[1], &loop);
    }
    (void)unlinked;
    uv_loop_close(&loop);
    printf("link set-up over loopback (connect, handshake, hello both ways): %.3f ms\n",
           total / ROUNDS * 1e3);
}

/* ---- throughput: receiver process ---- */

struct receiver {
    struct tnode node;
    uint64_t expect, got;
    uint64_t from;
    bool done;
};

static void receiver_message(void *ud, const struct net_peer *p, uint8_t type,
                             const uint8_t *data, size_t len)
{
    (void)data;
    struct receiver *r = ud;
    if (type != MSG_DATA)
        return;
    r->got += len;
    if (r->got >= r->expect && !r->done) {
        r->done = true;
        net_send(r->node.net, p->id, MSG_DONE, "", 0);
    }
}

static bool receiver_finished(void *arg)
{
    struct receiver *r = arg;
    return r->done && net_backlog(r->node.net, r->from) == 0;
}

static void run_receiver(const struct mesh_keys *mesh, const char *dir, uint64_t expect,
                         int port_pipe)
{
    static struct receiver r;
    uv_loop_t loop;
    uv_loop_init(&loop);
    r.expect = expect;
    snprintf(r.node.name, sizeof r.node.name, "receiver");
    harness_keys(&r.node.keys, dir, mesh);
    struct net_config cfg;
    tnode_config(&r.node, &loop, &cfg);
    cfg.ud = &r;
    cfg.on_message = receiver_message;
    cfg.fill_stats = NULL;
    cfg.on_peer_up = NULL;
    cfg.on_peer_down = NULL;
    cfg.tick_ms = 1000;
    cfg.dead_after_ms = 30000;
    tnode_start_cfg(&r.node, &cfg);
    uint16_t port = net_port(r.node.net);
    CHECK(write(port_pipe, &port, sizeof port) == sizeof port);
    close(port_pipe);
    run_until(&loop, receiver_finished, &r, 120000);
    run_for(&loop, 200);
    _exit(r.done ? 0 : 1);
}

/* ---- throughput: sender ---- */

struct sender {
    struct tnode node;
    uv_check_t check;
    uint64_t peer, to_send, sent;
    size_t msg_len;
    uint8_t *msg;
    bool done;
};

static void top_up(struct sender *s)
{
    while (s->sent < s->to_send && net_backlog(s->node.net, s->peer) < 8u << 20) {
        if (net_send(s->node.net, s->peer, MSG_DATA, s->msg, s->msg_len) != 0)
            break;
        s->sent += s->msg_len;
    }
}

static void on_check(uv_check_t *c) { top_up(c->data); }

static void sender_message(void *ud, const struct net_peer *p, uint8_t type,
                           const uint8_t *data, size_t len)
{
    (void)p, (void)data, (void)len;
    if (type == MSG_DONE)
        ((struct sender *)ud)->done = true;
}

static bool sender_linked(void *arg)
{
    struct sender *s = arg;
    return net_peer_count(s->node.net) == 1 && net_peer_at(s->node.net, 0)->connected;
}

static bool sender_done(void *arg) { return ((struct sender *)arg)->done; }

static void bench_throughput(const struct mesh_keys *mesh, const char *dir_a,
                             const char *dir_b, size_t msg_len, uint64_t total)
{
    total -= total % msg_len;
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        run_receiver(mesh, dir_b, total, fds[1]);
    }
    close(fds[1]);
    uint16_t port = 0;
    CHECK(read(fds[0], &port, sizeof port) == sizeof port);
    close(fds[0]);

    static struct sender s;
    memset(&s, 0, sizeof s);
    uv_loop_t loop;
    uv_loop_init(&loop);
    snprintf(s.node.name, sizeof s.node.name, "sender");
    harness_keys(&s.node.keys, dir_a, mesh);
    struct net_config cfg;
    tnode_config(&s.node, &loop, &cfg);
    cfg.ud = &s;
    cfg.on_message = sender_message;
    cfg.fill_stats = NULL;
    cfg.on_peer_up = NULL;
    cfg.on_peer_down = NULL;
    cfg.tick_ms = 1000;
    cfg.dead_after_ms = 30000;
    tnode_start_cfg(&s.node, &cfg);
    net_add_static_peer(s.node.net, "127.0.0.1", port);
    CHECK(run_until(&loop, sender_linked, &s, 5000));
    s.peer = net_peer_at(s.node.net, 0)->id;
    s.msg_len = msg_len;
    s.to_send = total;
    s.msg = malloc(msg_len);
    randombytes_buf(s.msg, msg_len);
    uv_check_init(&loop, &s.check);
    s.check.data = &s;
    uv_check_start(&s.check, on_check);
    double t0 = now_s();
    top_up(&s);
    CHECK(run_until(&loop, sender_done, &s, 120000));
    double secs = now_s() - t0;
    uv_close((uv_handle_t *)&s.check, NULL);
    tnode_stop(&s.node, &loop);
    uv_loop_close(&loop);
    free(s.msg);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    printf("throughput, %7zu-byte messages: %.0f MB/s (%.0f MiB in %.2f s)\n", msg_len,
           (double)total / secs / 1e6, (double)total / (1 << 20), secs);
}

int main(int argc, char **argv)
{
    uint64_t mib = argc > 1 ? strtoull(argv[1], NULL, 10) : 2048;
    CHECK(sodium_init() >= 0);
    struct mesh_keys mesh;
    double t0 = now_s();
    harness_derive(&mesh, "bench-authkey");
    printf("one-time key derivation (Argon2id, interactive): %.1f ms\n", (now_s() - t0) * 1e3);
    char dir_a[64], dir_b[64];
    harness_tmpdir(dir_a);
    harness_tmpdir(dir_b);
    bench_handshake_cpu(&mesh);
    bench_link_setup(&mesh, dir_a, dir_b);
    bench_throughput(&mesh, dir_a, dir_b, 64 * 1024, mib << 20);
    bench_throughput(&mesh, dir_a, dir_b, 1 << 20, mib << 20);
    harness_rmdir(dir_a);
    harness_rmdir(dir_b);
    return 0;
}
