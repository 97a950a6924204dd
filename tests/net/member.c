/* member.c - see member.h. */
#include "member.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "harness.h"
#include "net.h"
#include "netmsg.h"

void member_keys(struct mesh_keys *out, const struct mesh_keys *mesh)
{
    memset(out, 0, sizeof *out);
    crypto_box_keypair(out->pk, out->sk);
    out->node_id = mesh_node_id_of(out->pk);
    mesh_id_to_hex(out->node_id, out->id_hex);
    memcpy(out->K, mesh->K, sizeof out->K);
    memcpy(out->tag_hex, mesh->tag_hex, sizeof out->tag_hex);
}

static void free_write(uv_write_t *w, int status)
{
    (void)status;
    free(w);
}

static void send_raw(struct member *m, const void *data, size_t len)
{
    if (m->closed)
        return;
    uv_write_t *w = malloc(sizeof *w + len);
    CHECK(w != NULL);
    memcpy(w + 1, data, len);
    uv_buf_t buf = uv_buf_init((char *)(w + 1), (unsigned)len);
    if (uv_write(w, (uv_stream_t *)&m->tcp, &buf, 1, free_write) != 0)
        free(w);
}

void member_send(struct member *m, uint8_t type, const void *data, size_t len)
{
    uint8_t *frame = malloc(frame_wire_size(len));
    CHECK(frame != NULL && frame_seal(&m->tx, type, data, len, frame) == FRAME_OK);
    send_raw(m, frame, frame_wire_size(len));
    free(frame);
}

static void on_closed(uv_handle_t *h) { ((struct member *)h->data)->handle_closed = true; }

void member_close(struct member *m)
{
    m->closed = true;
    if (!uv_is_closing((uv_handle_t *)&m->tcp))
        uv_close((uv_handle_t *)&m->tcp, on_closed);
}

static void go_up(struct member *m)
{
    struct hs_session s;
    CHECK(hs_finish(&m->hs, &s) == HS_OK);
    frame_key_init(&m->tx, s.tx_key);
    frame_key_init(&m->rx, s.rx_key);
    struct net_hello h = {.id = m->keys.node_id, .version = NET_PROTOCOL_VERSION,
                          .workers = 1};
    snprintf(h.name, sizeof h.name, "member");
    uint8_t buf[NET_HELLO_MAX_BYTES];
    member_send(m, NET_MSG_HELLO, buf, net_hello_encode(&h, buf));
    m->up = true;
}

/* Consumes one handshake message or frame from rx_buf; false: need more. */
static bool consume(struct member *m)
{
    size_t used = 0;
    if (!m->up) {
        size_t need = hs_next_msg_size(&m->hs);
        if (m->rx_len < need)
            return false;
        uint8_t m1[HS_MSG1_BYTES];
        if (m->hs.step == 0) {
            CHECK(hs_initiator_read_msg0(&m->hs, m->rx_buf, m1) == HS_OK);
            send_raw(m, m1, sizeof m1);
        } else {
            CHECK(hs_initiator_read_msg2(&m->hs, m->rx_buf) == HS_OK);
            go_up(m);
        }
        used = need;
    } else {
        uint8_t type;
        const uint8_t *payload;
        size_t plen;
        int rc = frame_next(&m->rx, m->rx_buf, m->rx_len, &used, &type, &payload, &plen);
        if (rc == FRAME_NEED_MORE)
            return false;
        CHECK(rc == FRAME_OK);
        m->frames_in++;
    }
    memmove(m->rx_buf, m->rx_buf + used, m->rx_len - used);
    m->rx_len -= used;
    return true;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct member *m = h->data;
    *buf = uv_buf_init((char *)m->rx_buf + m->rx_len,
                       (unsigned)(sizeof m->rx_buf - m->rx_len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    struct member *m = s->data;
    if (n < 0) {
        member_close(m);
        return;
    }
    m->rx_len += (size_t)n;
    while (!m->closed && consume(m))
        ;
    if (m->rx_len == sizeof m->rx_buf)
        member_close(m);    /* a frame larger than a member expects */
}

static void on_connected(uv_connect_t *req, int status)
{
    struct member *m = req->data;
    if (status < 0) {
        member_close(m);
        return;
    }
    uv_read_start((uv_stream_t *)&m->tcp, on_alloc, on_read);
}

void member_stop_reading(struct member *m)
{
    if (!m->closed)
        uv_read_stop((uv_stream_t *)&m->tcp);
}

void member_connect(struct member *m, uv_loop_t *loop, const char *src_ip,
                    uint16_t port, const struct mesh_keys *mesh,
                    const uint8_t server_pk[MESH_KEY_BYTES])
{
    memset(m, 0, sizeof *m);
    member_keys(&m->keys, mesh);
    hs_initiator_start(&m->hs, &m->keys, server_pk);
    uv_tcp_init(loop, &m->tcp);
    m->tcp.data = m;
    m->req.data = m;
    struct sockaddr_in src, dst;
    uv_ip4_addr(src_ip, 0, &src);
    uv_ip4_addr("127.0.0.1", port, &dst);
    CHECK(uv_tcp_bind(&m->tcp, (struct sockaddr *)&src, 0) == 0);
    CHECK(uv_tcp_connect(&m->req, &m->tcp, (struct sockaddr *)&dst, on_connected) == 0);
}

struct member_set {
    struct member *m;
    size_t n;
};

static bool set_linked_or_closed(void *arg)
{
    struct member_set *s = arg;
    for (size_t i = 0; i < s->n; i++)
        if (!s->m[i].closed && s->m[i].frames_in < 2)
            return false;
    return true;
}

static bool set_closed(void *arg)
{
    struct member_set *s = arg;
    for (size_t i = 0; i < s->n; i++)
        if (!s->m[i].handle_closed)
            return false;
    return true;
}

bool members_linked(uv_loop_t *loop, struct member *m, size_t n, uint64_t timeout_ms)
{
    struct member_set s = {m, n};
    return run_until(loop, set_linked_or_closed, &s, timeout_ms);
}

bool members_closed(uv_loop_t *loop, struct member *m, size_t n, uint64_t timeout_ms)
{
    struct member_set s = {m, n};
    return run_until(loop, set_closed, &s, timeout_ms);
}

size_t members_in_waves(uv_loop_t *loop, uint16_t port, const struct mesh_keys *mesh,
                        size_t count, void (*on_linked)(struct member *m, void *arg),
                        void *arg)
{
    enum { WAVE = 32 };
    struct member m[WAVE];
    size_t linked = 0;
    for (size_t done = 0; done < count; done += WAVE) {
        size_t wave = count - done < WAVE ? count - done : WAVE;
        for (size_t i = 0; i < wave; i++) {
            char ip[16];
            snprintf(ip, sizeof ip, "127.0.0.%zu", 2 + (done + i) % 250);
            member_connect(&m[i], loop, ip, port, mesh, NULL);
        }
        CHECK(members_linked(loop, m, wave, 10000));
        for (size_t i = 0; i < wave; i++)
            if (!m[i].closed) {
                linked++;
                if (on_linked != NULL)
                    on_linked(&m[i], arg);
            }
        if (on_linked != NULL)
            run_for(loop, 20); /* the node reads what they sent before they leave */
        for (size_t i = 0; i < wave; i++)
            member_close(&m[i]);
        CHECK(members_closed(loop, m, wave, 5000));
    }
    return linked;
}
