/* test_codec.c - handshake and frame codecs, link-layer messages and the
 * per-address limiter, all without sockets. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "addr_limit.h"
#include "check.h"
#include "frame.h"
#include "handshake.h"
#include "netmsg.h"

static struct mesh_keys make_keys(const uint8_t K[32])
{
    struct mesh_keys k = {0};
    crypto_box_keypair(k.pk, k.sk);
    memcpy(k.K, K, 32);
    k.node_id = mesh_node_id_of(k.pk);
    return k;
}

struct wire {
    uint8_t m0[HS_MSG0_BYTES], m1[HS_MSG1_BYTES], m2[HS_MSG2_BYTES];
};

/* Full handshake; returns the first failing status or HS_OK. */
static int handshake(const struct mesh_keys *ik, const struct mesh_keys *rk,
                     const uint8_t *expected, struct hs_session *is,
                     struct hs_session *rs, struct wire *w)
{
    struct handshake i, r;
    hs_responder_start(&r, rk, w->m0);
    hs_initiator_start(&i, ik, expected);
    CHECK_INT_EQ(hs_next_msg_size(&i), HS_MSG0_BYTES);
    int rc = hs_initiator_read_msg0(&i, w->m0, w->m1);
    if (rc != HS_OK)
        return rc;
    CHECK_INT_EQ(hs_next_msg_size(&i), HS_MSG2_BYTES);
    CHECK_INT_EQ(hs_next_msg_size(&r), HS_MSG1_BYTES);
    if ((rc = hs_responder_read_msg1(&r, w->m1, w->m2)) != HS_OK)
        return rc;
    CHECK(hs_done(&r));
    if ((rc = hs_initiator_read_msg2(&i, w->m2)) != HS_OK)
        return rc;
    CHECK(hs_done(&i));
    CHECK(hs_finish(&i, is) == HS_OK);
    CHECK(hs_finish(&r, rs) == HS_OK);
    return HS_OK;
}

static void test_handshake_ok(const uint8_t K[32])
{
    struct mesh_keys a = make_keys(K), b = make_keys(K);
    struct hs_session sa, sb;
    struct wire w;
    CHECK_INT_EQ(handshake(&a, &b, NULL, &sa, &sb, &w), HS_OK);
    CHECK(memcmp(sa.tx_key, sb.rx_key, 32) == 0);
    CHECK(memcmp(sa.rx_key, sb.tx_key, 32) == 0);
    CHECK(memcmp(sa.tx_key, sa.rx_key, 32) != 0);
    CHECK(memcmp(sa.peer_pk, b.pk, 32) == 0);
    CHECK(memcmp(sb.peer_pk, a.pk, 32) == 0);
    /* Pinned key that matches. */
    struct hs_session sa2, sb2;
    CHECK_INT_EQ(handshake(&a, &b, b.pk, &sa2, &sb2, &w), HS_OK);
    /* Fresh ephemerals: a new session never reuses keys. */
    CHECK(memcmp(sa.tx_key, sa2.tx_key, 32) != 0);
    /* Neither K nor a secret key travels in any handshake message. */
    CHECK(memmem(&w, sizeof w, K, 32) == NULL);
    CHECK(memmem(&w, sizeof w, a.sk, 32) == NULL);
    CHECK(memmem(&w, sizeof w, b.sk, 32) == NULL);
    /* The initiator's identity is hidden inside the sealed box. */
    CHECK(memmem(&w, sizeof w, a.pk, 32) == NULL);
}

static void test_handshake_failures(const uint8_t K[32])
{
    uint8_t K2[32];
    memcpy(K2, K, 32);
    K2[0] ^= 1;
    struct mesh_keys a = make_keys(K), b = make_keys(K), c = make_keys(K2);
    struct hs_session s1, s2;
    struct wire w;
    /* Wrong authkey on either side. */
    CHECK_INT_EQ(handshake(&c, &b, NULL, &s1, &s2, &w), HS_ERR_AUTH);
    CHECK_INT_EQ(handshake(&a, &c, NULL, &s1, &s2, &w), HS_ERR_AUTH);
    /* Pinned key differs from the one the responder announces. */
    CHECK_INT_EQ(handshake(&a, &b, c.pk, &s1, &s2, &w), HS_ERR_PEER_KEY);

    /* Replay: a captured msg1 played to a later responder session fails. */
    CHECK_INT_EQ(handshake(&a, &b, NULL, &s1, &s2, &w), HS_OK);
    struct handshake r;
    uint8_t m0[HS_MSG0_BYTES], m2[HS_MSG2_BYTES];
    hs_responder_start(&r, &b, m0);
    CHECK_INT_EQ(hs_responder_read_msg1(&r, w.m1, m2), HS_ERR_REPLAY);
    /* ...and msg1 for another responder does not open. */
    hs_responder_start(&r, &c, m0);
    CHECK_INT_EQ(hs_responder_read_msg1(&r, w.m1, m2), HS_ERR_SEALED);

    /* Tampered msg0 / msg1 / msg2. */
    struct handshake i;
    uint8_t m1[HS_MSG1_BYTES];
    hs_responder_start(&r, &b, m0);
    m0[0] = 'X';
    hs_initiator_start(&i, &a, NULL);
    CHECK_INT_EQ(hs_initiator_read_msg0(&i, m0, m1), HS_ERR_MAGIC);
    m0[0] = 'M';
    m0[4] = 9;
    hs_initiator_start(&i, &a, NULL);
    CHECK_INT_EQ(hs_initiator_read_msg0(&i, m0, m1), HS_ERR_VERSION);
    m0[4] = HS_VERSION;
    m0[60] ^= 1; /* the nonce: the responder notices the mismatch */
    hs_initiator_start(&i, &a, NULL);
    CHECK_INT_EQ(hs_initiator_read_msg0(&i, m0, m1), HS_OK);
    CHECK_INT_EQ(hs_responder_read_msg1(&r, m1, m2), HS_ERR_REPLAY);

    hs_responder_start(&r, &b, m0);
    hs_initiator_start(&i, &a, NULL);
    CHECK_INT_EQ(hs_initiator_read_msg0(&i, m0, m1), HS_OK);
    m1[100] ^= 0x80;
    CHECK_INT_EQ(hs_responder_read_msg1(&r, m1, m2), HS_ERR_SEALED);

    hs_responder_start(&r, &b, m0);
    hs_initiator_start(&i, &a, NULL);
    CHECK_INT_EQ(hs_initiator_read_msg0(&i, m0, m1), HS_OK);
    CHECK_INT_EQ(hs_responder_read_msg1(&r, m1, m2), HS_OK);
    m2[40] ^= 1;
    CHECK_INT_EQ(hs_initiator_read_msg2(&i, m2), HS_ERR_AUTH);

    /* A low-order responder key is refused (all-zero DH). */
    hs_responder_start(&r, &b, m0);
    memset(m0 + 8, 0, 32);
    hs_initiator_start(&i, &a, NULL);
    CHECK_INT_EQ(hs_initiator_read_msg0(&i, m0, m1), HS_ERR_WEAK_KEY);

    /* Out of order calls. */
    hs_initiator_start(&i, &a, NULL);
    CHECK_INT_EQ(hs_initiator_read_msg2(&i, m2), HS_ERR_STATE);
    CHECK_INT_EQ(hs_responder_read_msg1(&i, m1, m2), HS_ERR_STATE);
    CHECK_INT_EQ(hs_finish(&i, &s1), HS_ERR_STATE);
    CHECK(strcmp(hs_strerror(HS_ERR_AUTH), "unknown handshake error") != 0);
}

static void test_frames(void)
{
    uint8_t key[32];
    randombytes_buf(key, sizeof key);
    struct frame_key tx, rx;
    frame_key_init(&tx, key);
    frame_key_init(&rx, key);
    static uint8_t wire[3][FRAME_MAX_WIRE];
    const char *msgs[3] = {"", "hello", "third message"};
    size_t lens[3];
    for (int i = 0; i < 3; i++) {
        lens[i] = frame_wire_size(strlen(msgs[i]));
        CHECK_INT_EQ(frame_seal(&tx, (uint8_t)(20 + i), msgs[i], strlen(msgs[i]), wire[i]), FRAME_OK);
        CHECK(memmem(wire[i], lens[i], "hello", 5) == NULL || i != 1);
    }
    static uint8_t buf[FRAME_MAX_WIRE];
    uint8_t type;
    const uint8_t *payload;
    size_t plen, used;
    /* Truncated: every prefix needs more, and says how much. */
    memcpy(buf, wire[1], lens[1]);
    for (size_t cut = 0; cut < lens[1]; cut++) {
        CHECK_INT_EQ(frame_next(&rx, buf, cut, &used, &type, &payload, &plen), FRAME_NEED_MORE);
        CHECK_INT_EQ(used, cut < 4 ? 4 : lens[1]);
    }
    /* Reordered: frame 1 before frame 0 fails. */
    CHECK_INT_EQ(frame_next(&rx, buf, lens[1], &used, &type, &payload, &plen), FRAME_ERR_AUTH);
    /* In order works (a failed attempt does not advance the counter). */
    memcpy(buf, wire[0], lens[0]);
    CHECK_INT_EQ(frame_next(&rx, buf, lens[0], &used, &type, &payload, &plen), FRAME_OK);
    CHECK_INT_EQ(type, 20);
    CHECK_INT_EQ(plen, 0);
    CHECK_INT_EQ(used, lens[0]);
    /* Replayed frame 0 fails. */
    memcpy(buf, wire[0], lens[0]);
    CHECK_INT_EQ(frame_next(&rx, buf, lens[0], &used, &type, &payload, &plen), FRAME_ERR_AUTH);
    /* Two frames back to back in one buffer. */
    memcpy(buf, wire[1], lens[1]);
    memcpy(buf + lens[1], wire[2], lens[2]);
    CHECK_INT_EQ(frame_next(&rx, buf, lens[1] + lens[2], &used, &type, &payload, &plen), FRAME_OK);
    CHECK(plen == 5 && memcmp(payload, "hello", 5) == 0 && type == 21);
    struct frame_key rx_copy = rx;
    /* Tampered: any flipped bit (header, body or tag) fails. */
    for (size_t bit = 0; bit < lens[2] * 8; bit += 7) {
        uint8_t t[64];
        memcpy(t, wire[2], lens[2]);
        t[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        struct frame_key k = rx_copy;
        int rc = frame_next(&k, t, lens[2], &used, &type, &payload, &plen);
        CHECK(rc != FRAME_OK);
    }
    CHECK_INT_EQ(frame_next(&rx, buf + lens[1], lens[2], &used, &type, &payload, &plen), FRAME_OK);
    CHECK(plen == strlen(msgs[2]) && memcmp(payload, msgs[2], plen) == 0);

    /* Oversize and undersize length prefixes are refused from the header. */
    uint8_t hdr[4] = {0xff, 0xff, 0xff, 0xff};
    CHECK_INT_EQ(frame_next(&rx, hdr, 4, &used, &type, &payload, &plen), FRAME_ERR_OVERSIZE);
    uint32_t over = FRAME_MAX_BODY + 1;
    uint8_t hdr2[4] = {(uint8_t)(over >> 24), (uint8_t)(over >> 16), (uint8_t)(over >> 8), (uint8_t)over};
    CHECK_INT_EQ(frame_next(&rx, hdr2, 4, &used, &type, &payload, &plen), FRAME_ERR_OVERSIZE);
    uint8_t hdr3[4] = {0, 0, 0, 16};
    CHECK_INT_EQ(frame_next(&rx, hdr3, 4, &used, &type, &payload, &plen), FRAME_ERR_UNDERSIZE);

    /* The largest payload round-trips; one byte more is refused. */
    static uint8_t big[FRAME_MAX_PAYLOAD + 1];
    memset(big, 0xab, sizeof big);
    CHECK_INT_EQ(frame_seal(&tx, 99, big, FRAME_MAX_PAYLOAD + 1, buf), FRAME_ERR_TOO_BIG);
    CHECK_INT_EQ(frame_seal(&tx, 99, big, FRAME_MAX_PAYLOAD, buf), FRAME_OK);
    CHECK_INT_EQ(frame_next(&rx, buf, FRAME_MAX_WIRE, &used, &type, &payload, &plen), FRAME_OK);
    CHECK(plen == FRAME_MAX_PAYLOAD && payload[plen - 1] == 0xab && type == 99);

    /* Wrong key (other direction or other session) fails. */
    uint8_t other[32];
    randombytes_buf(other, sizeof other);
    struct frame_key wrong;
    frame_key_init(&wrong, other);
    memcpy(buf, wire[0], lens[0]);
    CHECK_INT_EQ(frame_next(&wrong, buf, lens[0], &used, &type, &payload, &plen), FRAME_ERR_AUTH);
}

static void test_messages(void)
{
    struct net_hello h = {.id = 0x0123456789abcdefULL, .version = 7, .workers = 8,
                          .listen_port = 47110};
    snprintf(h.name, sizeof h.name, "alpha\x01");
    uint8_t buf[NET_HELLO_MAX_BYTES];
    size_t len = net_hello_encode(&h, buf);
    struct net_hello d;
    CHECK(net_hello_decode(&d, buf, len) == 0);
    CHECK(d.id == h.id && d.version == 7 && d.workers == 8 && d.listen_port == 47110);
    CHECK_STR_EQ(d.name, "alpha?");
    for (size_t cut = 0; cut < len; cut++)
        CHECK(net_hello_decode(&d, buf, cut) != 0);
    buf[len] = 0;
    CHECK(net_hello_decode(&d, buf, len + 1) != 0);

    struct net_stats s = {.rate = 1234.5, .busy = 3, .done = 1ULL << 40, .draining = true};
    uint8_t sb[NET_STATS_BYTES];
    CHECK_INT_EQ(net_stats_encode(&s, sb), NET_STATS_BYTES);
    struct net_stats t;
    CHECK(net_stats_decode(&t, sb, sizeof sb) == 0);
    CHECK(t.rate == 1234.5 && t.busy == 3 && t.done == 1ULL << 40 && t.draining);
    CHECK(net_stats_decode(&t, sb, sizeof sb - 1) != 0);
    sb[20] = 2;
    CHECK(net_stats_decode(&t, sb, sizeof sb) != 0);
    s.rate = -1;
    net_stats_encode(&s, sb);
    CHECK(net_stats_decode(&t, sb, sizeof sb) != 0);
}

static void test_addr_limit(void)
{
    static struct addr_limiter al;
    addr_limiter_init(&al, 3, 2);
    for (int i = 0; i < 3; i++)
        CHECK(addr_limiter_allow(&al, "10.0.0.1", 1000));
    CHECK(!addr_limiter_allow(&al, "10.0.0.1", 1000));
    CHECK(addr_limiter_allow(&al, "10.0.0.2", 1000)); /* others unaffected */
    CHECK(addr_limiter_allow(&al, "10.0.0.1", 1500)); /* 2/s refills one */
    CHECK(!addr_limiter_allow(&al, "10.0.0.1", 1500));
    /* Many addresses: the table stays fixed and still limits the latest. */
    char ip[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(ip, sizeof ip, "10.1.%d.%d", i / 256, i % 256);
        CHECK(addr_limiter_allow(&al, ip, 2000));
    }
    for (int i = 0; i < 3; i++)
        CHECK(addr_limiter_allow(&al, "10.9.9.9", 3000));
    CHECK(!addr_limiter_allow(&al, "10.9.9.9", 3000));
}

int main(void)
{
    CHECK(sodium_init() >= 0);
    uint8_t K[32];
    randombytes_buf(K, sizeof K);
    test_handshake_ok(K);
    test_handshake_failures(K);
    test_frames();
    test_messages();
    test_addr_limit();
    printf("codec: ok\n");
    return 0;
}
