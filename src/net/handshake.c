/* handshake.c - see handshake.h and doc/PROTOCOL.md. */
#include "handshake.h"

#include <sodium.h>
#include <string.h>

static const uint8_t MSG0_MAGIC[4] = {'M', 'E', 'S', 'H'};
static const char MAC1_LABEL[] = "mesh-hs1";
static const char MASTER_LABEL[] = "mesh-master";
static const char MAC2_LABEL[] = "mesh-hs2";
static const char KDF_CONTEXT[crypto_kdf_CONTEXTBYTES] = {'m', 'e', 's', 'h',
                                                          'l', 'i', 'n', 'k'};
enum { KDF_I2R = 1, KDF_R2I = 2, KDF_CONFIRM = 3 };

/* msg1 plaintext layout */
enum {
    M1_PK = 0,
    M1_EPH = M1_PK + MESH_KEY_BYTES,
    M1_NONCE = M1_EPH + MESH_KEY_BYTES,
    M1_MAC = M1_NONCE + HS_NONCE_BYTES,
};

_Static_assert(HS_MSG1_BYTES == HS_MSG1_PLAIN_BYTES + crypto_box_SEALBYTES,
               "sealed box overhead");
_Static_assert(HS_SESSION_KEY_BYTES == crypto_kdf_KEYBYTES, "kdf key size");

static void hash_str(crypto_generichash_state *st, const char *s)
{
    crypto_generichash_update(st, (const uint8_t *)s, strlen(s));
}

/* mac1 = BLAKE2b(key=K, label | msg0 | I static pk | I ephemeral pk | ss):
 * proves the initiator knows K and (via ss) its static secret, and binds the
 * responder's fresh nonce (inside msg0) so the message cannot be replayed. */
static void compute_mac1(const struct handshake *hs, const uint8_t *init_pk,
                         const uint8_t *init_eph, uint8_t out[HS_MAC_BYTES])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, hs->keys->K, MESH_KEY_BYTES, HS_MAC_BYTES);
    hash_str(&st, MAC1_LABEL);
    crypto_generichash_update(&st, hs->msg0, HS_MSG0_BYTES);
    crypto_generichash_update(&st, init_pk, MESH_KEY_BYTES);
    crypto_generichash_update(&st, init_eph, MESH_KEY_BYTES);
    crypto_generichash_update(&st, hs->ss, MESH_KEY_BYTES);
    crypto_generichash_final(&st, out, HS_MAC_BYTES);
    sodium_memzero(&st, sizeof st);
}

/* The session: K plus all four DH results over the whole transcript. ee gives
 * forward secrecy; es/se tie the ephemerals to the static identities. Both
 * sides feed DH results in the same (initiator-centric) order. Then the
 * direction keys and the confirmation key are split off with crypto_kdf. */
static void derive_session(struct handshake *hs, const uint8_t resp_eph[MESH_KEY_BYTES],
                           const uint8_t es[32], const uint8_t se[32],
                           const uint8_t ee[32], uint8_t mac2_out[HS_MAC_BYTES])
{
    uint8_t master[crypto_kdf_KEYBYTES], confirm[32], i2r[32], r2i[32];
    crypto_generichash_state st;
    crypto_generichash_init(&st, hs->keys->K, MESH_KEY_BYTES, sizeof master);
    hash_str(&st, MASTER_LABEL);
    crypto_generichash_update(&st, hs->msg0, HS_MSG0_BYTES);
    crypto_generichash_update(&st, hs->msg1_plain, HS_MSG1_PLAIN_BYTES);
    crypto_generichash_update(&st, resp_eph, MESH_KEY_BYTES);
    crypto_generichash_update(&st, hs->ss, 32);
    crypto_generichash_update(&st, es, 32);
    crypto_generichash_update(&st, se, 32);
    crypto_generichash_update(&st, ee, 32);
    crypto_generichash_final(&st, master, sizeof master);
    crypto_kdf_derive_from_key(i2r, 32, KDF_I2R, KDF_CONTEXT, master);
    crypto_kdf_derive_from_key(r2i, 32, KDF_R2I, KDF_CONTEXT, master);
    crypto_kdf_derive_from_key(confirm, 32, KDF_CONFIRM, KDF_CONTEXT, master);
    crypto_generichash(mac2_out, HS_MAC_BYTES, (const uint8_t *)MAC2_LABEL,
                       strlen(MAC2_LABEL), confirm, sizeof confirm);
    bool initiator = hs->role == HS_INITIATOR;
    memcpy(hs->tx_key, initiator ? i2r : r2i, 32);
    memcpy(hs->rx_key, initiator ? r2i : i2r, 32);
    sodium_memzero(master, sizeof master);
    sodium_memzero(confirm, sizeof confirm);
    sodium_memzero(i2r, sizeof i2r);
    sodium_memzero(r2i, sizeof r2i);
    sodium_memzero(&st, sizeof st);
}

void hs_responder_start(struct handshake *hs, const struct mesh_keys *keys,
                        uint8_t msg0_out[HS_MSG0_BYTES])
{
    memset(hs, 0, sizeof *hs);
    hs->keys = keys;
    hs->role = HS_RESPONDER;
    memcpy(hs->msg0, MSG0_MAGIC, 4);
    hs->msg0[4] = HS_VERSION;
    memcpy(hs->msg0 + 8, keys->pk, MESH_KEY_BYTES);
    randombytes_buf(hs->msg0 + 8 + MESH_KEY_BYTES, HS_NONCE_BYTES);
    memcpy(msg0_out, hs->msg0, HS_MSG0_BYTES);
}

void hs_initiator_start(struct handshake *hs, const struct mesh_keys *keys,
                        const uint8_t *expected_pk)
{
    memset(hs, 0, sizeof *hs);
    hs->keys = keys;
    hs->role = HS_INITIATOR;
    if (expected_pk != NULL) {
        hs->expect_pk = true;
        memcpy(hs->expected_pk, expected_pk, MESH_KEY_BYTES);
    }
}

int hs_initiator_read_msg0(struct handshake *hs, const uint8_t msg0[HS_MSG0_BYTES],
                           uint8_t msg1_out[HS_MSG1_BYTES])
{
    if (hs->role != HS_INITIATOR || hs->step != 0)
        return HS_ERR_STATE;
    if (memcmp(msg0, MSG0_MAGIC, 4) != 0)
        return HS_ERR_MAGIC;
    if (msg0[4] != HS_VERSION)
        return HS_ERR_VERSION;
    const uint8_t *resp_pk = msg0 + 8;
    /* Before any DH: a reflected connection (our own listener answered)
     * costs the dialer nothing but this compare. */
    if (sodium_memcmp(resp_pk, hs->keys->pk, MESH_KEY_BYTES) == 0)
        return HS_ERR_SELF;
    if (!hs_pk_canonical(resp_pk))
        return HS_ERR_WEAK_KEY;
    if (hs->expect_pk && sodium_memcmp(resp_pk, hs->expected_pk, MESH_KEY_BYTES) != 0)
        return HS_ERR_PEER_KEY;
    memcpy(hs->msg0, msg0, HS_MSG0_BYTES);
    memcpy(hs->peer_pk, resp_pk, MESH_KEY_BYTES);
    if (crypto_scalarmult(hs->ss, hs->keys->sk, hs->peer_pk) != 0)
        return HS_ERR_WEAK_KEY;
    crypto_box_keypair(hs->eph_pk, hs->eph_sk);
    uint8_t *p = hs->msg1_plain;
    memcpy(p + M1_PK, hs->keys->pk, MESH_KEY_BYTES);
    memcpy(p + M1_EPH, hs->eph_pk, MESH_KEY_BYTES);
    memcpy(p + M1_NONCE, msg0 + 8 + MESH_KEY_BYTES, HS_NONCE_BYTES);
    compute_mac1(hs, hs->keys->pk, hs->eph_pk, p + M1_MAC);
    crypto_box_seal(msg1_out, p, HS_MSG1_PLAIN_BYTES, hs->peer_pk);
    hs->step = 1;
    return HS_OK;
}

int hs_responder_read_msg1(struct handshake *hs, const uint8_t msg1[HS_MSG1_BYTES],
                           uint8_t msg2_out[HS_MSG2_BYTES])
{
    if (hs->role != HS_RESPONDER || hs->step != 0)
        return HS_ERR_STATE;
    uint8_t *p = hs->msg1_plain;
    if (crypto_box_seal_open(p, msg1, HS_MSG1_BYTES, hs->keys->pk, hs->keys->sk) != 0)
        return HS_ERR_SEALED;
    if (sodium_memcmp(p + M1_NONCE, hs->msg0 + 8 + MESH_KEY_BYTES, HS_NONCE_BYTES) != 0)
        return HS_ERR_REPLAY;
    if (sodium_memcmp(p + M1_PK, hs->keys->pk, MESH_KEY_BYTES) == 0)
        return HS_ERR_SELF;
    if (!hs_pk_canonical(p + M1_PK))
        return HS_ERR_WEAK_KEY;
    memcpy(hs->peer_pk, p + M1_PK, MESH_KEY_BYTES);
    memcpy(hs->peer_eph, p + M1_EPH, MESH_KEY_BYTES);
    if (crypto_scalarmult(hs->ss, hs->keys->sk, hs->peer_pk) != 0)
        return HS_ERR_WEAK_KEY;
    uint8_t mac1[HS_MAC_BYTES];
    compute_mac1(hs, hs->peer_pk, hs->peer_eph, mac1);
    if (crypto_verify_32(mac1, p + M1_MAC) != 0)
        return HS_ERR_AUTH;
    uint8_t es[32], se[32], ee[32];
    crypto_box_keypair(hs->eph_pk, hs->eph_sk);
    int weak = crypto_scalarmult(es, hs->keys->sk, hs->peer_eph) |
               crypto_scalarmult(se, hs->eph_sk, hs->peer_pk) |
               crypto_scalarmult(ee, hs->eph_sk, hs->peer_eph);
    if (weak == 0) {
        memcpy(msg2_out, hs->eph_pk, MESH_KEY_BYTES);
        derive_session(hs, hs->eph_pk, es, se, ee, msg2_out + MESH_KEY_BYTES);
        hs->step = 1;
    }
    sodium_memzero(es, 32);
    sodium_memzero(se, 32);
    sodium_memzero(ee, 32);
    return weak == 0 ? HS_OK : HS_ERR_WEAK_KEY;
}

int hs_initiator_read_msg2(struct handshake *hs, const uint8_t msg2[HS_MSG2_BYTES])
{
    if (hs->role != HS_INITIATOR || hs->step != 1)
        return HS_ERR_STATE;
    memcpy(hs->peer_eph, msg2, MESH_KEY_BYTES);
    uint8_t es[32], se[32], ee[32], mac2[HS_MAC_BYTES];
    int weak = crypto_scalarmult(es, hs->eph_sk, hs->peer_pk) |
               crypto_scalarmult(se, hs->keys->sk, hs->peer_eph) |
               crypto_scalarmult(ee, hs->eph_sk, hs->peer_eph);
    int rc = HS_ERR_WEAK_KEY;
    if (weak == 0) {
        derive_session(hs, hs->peer_eph, es, se, ee, mac2);
        rc = crypto_verify_32(mac2, msg2 + MESH_KEY_BYTES) == 0 ? HS_OK : HS_ERR_AUTH;
    }
    sodium_memzero(es, 32);
    sodium_memzero(se, 32);
    sodium_memzero(ee, 32);
    if (rc == HS_OK)
        hs->step = 2;
    return rc;
}

bool hs_pk_canonical(const uint8_t pk[MESH_KEY_BYTES])
{
    return (pk[MESH_KEY_BYTES - 1] & 0x80) == 0;
}

bool hs_done(const struct handshake *hs)
{
    return hs->step == (hs->role == HS_INITIATOR ? 2 : 1);
}

size_t hs_next_msg_size(const struct handshake *hs)
{
    if (hs_done(hs))
        return 0;
    if (hs->role == HS_RESPONDER)
        return HS_MSG1_BYTES;
    return hs->step == 0 ? HS_MSG0_BYTES : HS_MSG2_BYTES;
}

int hs_finish(struct handshake *hs, struct hs_session *out)
{
    if (!hs_done(hs))
        return HS_ERR_STATE;
    memcpy(out->tx_key, hs->tx_key, sizeof out->tx_key);
    memcpy(out->rx_key, hs->rx_key, sizeof out->rx_key);
    memcpy(out->peer_pk, hs->peer_pk, sizeof out->peer_pk);
    hs_wipe(hs);
    return HS_OK;
}

void hs_wipe(struct handshake *hs)
{
    sodium_memzero(hs, sizeof *hs);
}

const char *hs_strerror(int status)
{
    switch (status) {
    case HS_OK: return "ok";
    case HS_ERR_MAGIC: return "not a mesh peer";
    case HS_ERR_VERSION: return "unsupported protocol version";
    case HS_ERR_PEER_KEY: return "peer key differs from the announced one";
    case HS_ERR_SEALED: return "handshake not sealed to our key";
    case HS_ERR_REPLAY: return "replayed handshake";
    case HS_ERR_AUTH: return "authentication failed (wrong authkey?)";
    case HS_ERR_WEAK_KEY: return "invalid public key";
    case HS_ERR_STATE: return "handshake message out of order";
    case HS_ERR_SELF: return "connected to ourselves (reflected connection)";
    default: return "unknown handshake error";
    }
}
