/* keys.h - a node's long-term identity and the mesh secret.
 *
 * Identity: a static X25519 keypair kept in DATA_DIR/node.key (mode 0600,
 * created on first start). The node id is the first 8 bytes of
 * BLAKE2b-256(pk), read big-endian, so it is stable across restarts and
 * anyone holding the public key can recompute it.
 *
 * Mesh secret: K = Argon2id(authkey) with a fixed protocol salt. K proves
 * membership in handshakes; the authkey itself is dropped after derivation
 * and neither ever crosses the wire. The mesh tag (keyed BLAKE2b of a fixed
 * label under K, 8 bytes) is public: discovery publishes it so meshes with
 * different authkeys on one LAN ignore each other. */
#ifndef MESH_NET_KEYS_H
#define MESH_NET_KEYS_H

#include <stddef.h>
#include <stdint.h>

enum {
    MESH_KEY_BYTES = 32,
    MESH_ID_HEX_LEN = 16,
};

struct mesh_keys {
    uint8_t pk[MESH_KEY_BYTES];  /* static X25519 public key */
    uint8_t sk[MESH_KEY_BYTES];  /* static X25519 secret key */
    uint8_t K[MESH_KEY_BYTES];   /* Argon2id(authkey); all zero until derived */
    uint64_t node_id;
    char id_hex[MESH_ID_HEX_LEN + 1];
    char tag_hex[MESH_ID_HEX_LEN + 1]; /* empty until K is derived */
};

/* Loads DATA_DIR/node.key, or creates it (0600, atomically) when missing.
 * Refuses a key file that group or others can read. Returns 0, or -1 with
 * a human-readable reason in err. Fills pk, sk, node_id, id_hex. */
int mesh_keys_load_or_create(struct mesh_keys *keys, const char *data_dir,
                             char *err, size_t errlen);

/* Derives K and tag_hex from the authkey (slow on purpose: ~0.5 s, 128 MiB;
 * call once at start-up). Returns 0, or -1 when out of memory. */
int mesh_keys_derive_authkey(struct mesh_keys *keys, const char *authkey,
                             size_t len);

/* Node id of any public key (same rule as for our own). */
uint64_t mesh_node_id_of(const uint8_t pk[MESH_KEY_BYTES]);

/* Writes the 16-lowercase-hex form of an id into out[17]. */
void mesh_id_to_hex(uint64_t id, char out[MESH_ID_HEX_LEN + 1]);

/* Wipes the secrets (sk, K) from memory. */
void mesh_keys_wipe(struct mesh_keys *keys);

#endif
