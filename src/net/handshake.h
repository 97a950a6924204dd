/* handshake.h - the link handshake as a pure state machine (no I/O, no clock).
 *
 * Three fixed-size messages (see doc/PROTOCOL.md for the rationale):
 *   msg0 R->I  "MESH" v1 | R static pk | fresh random nonce Nr
 *   msg1 I->R  crypto_box_seal to R's static pk of
 *              I static pk | I ephemeral pk | Nr | mac1
 *              mac1 = BLAKE2b(key=K, label | msg0 | I pk | I eph | DH(I,R))
 *   msg2 R->I  R ephemeral pk | mac2 (key confirmation under the session)
 * Session keys come from BLAKE2b(key=K, transcript | ss | es | se | ee) and
 * are split per direction with crypto_kdf. The caller moves these bytes over
 * the socket; every function here only checks and produces bytes, which is
 * what makes the parser fuzzable. */
#ifndef MESH_NET_HANDSHAKE_H
#define MESH_NET_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys.h"

enum {
    HS_VERSION = 1,
    HS_NONCE_BYTES = 32,
    HS_MAC_BYTES = 32,
    HS_MSG0_BYTES = 8 + MESH_KEY_BYTES + HS_NONCE_BYTES,                 /* 72 */
    HS_MSG1_PLAIN_BYTES = 2 * MESH_KEY_BYTES + HS_NONCE_BYTES + HS_MAC_BYTES, /* 128 */
    HS_MSG1_BYTES = HS_MSG1_PLAIN_BYTES + 48, /* + crypto_box_SEALBYTES = 176 */
    HS_MSG2_BYTES = MESH_KEY_BYTES + HS_MAC_BYTES,                       /* 64 */
    HS_SESSION_KEY_BYTES = 32,
};

enum hs_status {
    HS_OK = 0,
    HS_ERR_MAGIC = -1,     /* not a mesh peer at all */
    HS_ERR_VERSION = -2,   /* a mesh peer speaking another protocol version */
    HS_ERR_PEER_KEY = -3,  /* responder's static key is not the one expected */
    HS_ERR_SEALED = -4,    /* msg1 does not open with our static key */
    HS_ERR_REPLAY = -5,    /* msg1 answers another nonce: replayed handshake */
    HS_ERR_AUTH = -6,      /* MAC mismatch: wrong authkey (K) or forged */
    HS_ERR_WEAK_KEY = -7,  /* a low-order / all-zero DH result */
    HS_ERR_STATE = -8,     /* called out of order */
    HS_ERR_SELF = -9,      /* the peer's static key is our own: a connection
                            * reflected back to our listener */
};

enum hs_role { HS_INITIATOR, HS_RESPONDER };

struct handshake {
    const struct mesh_keys *keys;
    enum hs_role role;
    int step;                       /* messages processed so far */
    bool expect_pk;                 /* initiator: responder key pinned */
    uint8_t expected_pk[MESH_KEY_BYTES];
    uint8_t msg0[HS_MSG0_BYTES];
    uint8_t msg1_plain[HS_MSG1_PLAIN_BYTES];
    uint8_t eph_pk[MESH_KEY_BYTES], eph_sk[MESH_KEY_BYTES];
    uint8_t peer_pk[MESH_KEY_BYTES], peer_eph[MESH_KEY_BYTES];
    uint8_t ss[MESH_KEY_BYTES];     /* static-static DH, kept for the master */
    uint8_t tx_key[HS_SESSION_KEY_BYTES], rx_key[HS_SESSION_KEY_BYTES];
};

/* The result a finished handshake hands to the frame layer. */
struct hs_session {
    uint8_t tx_key[HS_SESSION_KEY_BYTES];
    uint8_t rx_key[HS_SESSION_KEY_BYTES];
    uint8_t peer_pk[MESH_KEY_BYTES];
};

/* Responder: starts a handshake with a fresh random nonce; writes msg0. */
void hs_responder_start(struct handshake *hs, const struct mesh_keys *keys,
                        uint8_t msg0_out[HS_MSG0_BYTES]);

/* Initiator: expected_pk may be NULL (static --peer: key learned from msg0)
 * or the responder key announced by discovery (then msg0 must carry it). */
void hs_initiator_start(struct handshake *hs, const struct mesh_keys *keys,
                        const uint8_t *expected_pk);

int hs_initiator_read_msg0(struct handshake *hs, const uint8_t msg0[HS_MSG0_BYTES],
                           uint8_t msg1_out[HS_MSG1_BYTES]);
int hs_responder_read_msg1(struct handshake *hs, const uint8_t msg1[HS_MSG1_BYTES],
                           uint8_t msg2_out[HS_MSG2_BYTES]);
int hs_initiator_read_msg2(struct handshake *hs, const uint8_t msg2[HS_MSG2_BYTES]);

/* True once the keys are ready: after msg2 (initiator) or msg1 (responder). */
bool hs_done(const struct handshake *hs);

/* Copies the session out and wipes every secret from hs. hs_done required. */
int hs_finish(struct handshake *hs, struct hs_session *out);

/* Wipes secrets of an abandoned handshake. */
void hs_wipe(struct handshake *hs);

/* A static public key we accept from the wire: X25519 ignores the top bit,
 * so pk and pk|0x80 would be two node ids for one secret key. Keys with
 * that bit set (never produced by crypto_scalarmult_base) are refused. */
bool hs_pk_canonical(const uint8_t pk[MESH_KEY_BYTES]);

/* Number of bytes the next incoming handshake message has (0 when done). */
size_t hs_next_msg_size(const struct handshake *hs);

const char *hs_strerror(int status);

#endif
