/* authkey.h - making and judging mesh authkeys.
 *
 * Anyone on the LAN can test authkey guesses offline: the mDNS tag and the
 * handshake's key-derived values are verifiers (doc/PROTOCOL.md, "What a
 * stranger learns"). Argon2id only slows each guess down; the key's own
 * entropy is the defence. So the node generates keys for users
 * (`mesh keygen`) and estimates the strength of keys users typed. */
#ifndef MESH_NET_AUTHKEY_H
#define MESH_NET_AUTHKEY_H

#include <stdbool.h>
#include <stddef.h>

enum {
    AUTHKEY_RANDOM_BYTES = 32,    /* 256 bits from the system CSPRNG */
    AUTHKEY_TEXT_MAX = 64,        /* base64url of 32 bytes is 43 chars */
    AUTHKEY_STRONG_BITS = 96,     /* estimates below this are "weak" */
};

/* The one sentence shown wherever a weak key is reported. */
#define AUTHKEY_WEAK_RISK                                                    \
    "weak authkey: anyone on the LAN can record the mesh tag and guess "     \
    "this key offline; generate a strong one with `mesh keygen`"

/* Writes a fresh random key (base64url, no padding, NUL-terminated).
 * Returns 0, or -1 if libsodium cannot initialise. */
int authkey_generate(char out[AUTHKEY_TEXT_MAX + 1]);

/* A conservative estimate of the key's entropy in bits: character classes,
 * word-like letter runs (dictionary guessing), repeats and sequences. */
unsigned authkey_strength_bits(const char *key, size_t len);

/* authkey_strength_bits(key) < AUTHKEY_STRONG_BITS. */
bool authkey_is_weak(const char *key, size_t len);

#endif
