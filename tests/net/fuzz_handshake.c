/* fuzz_handshake.c - every handshake parser on arbitrary bytes: the input
 * is cut into msg0 (to an initiator), msg1 (to a responder) and msg2 (to an
 * initiator that already read a genuine msg0). None may accept forged
 * input; none may read out of bounds. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "handshake.h"

static void make_keys(struct mesh_keys *k, uint8_t seed_byte)
{
    uint8_t seed[32];
    memset(seed, seed_byte, sizeof seed);
    memset(k, 0, sizeof *k);
    crypto_box_seed_keypair(k->pk, k->sk, seed);
    memset(k->K, 0x4b, sizeof k->K);
}

static void take(const uint8_t **data, size_t *size, uint8_t *out, size_t n)
{
    memset(out, 0, n);
    size_t c = *size < n ? *size : n;
    memcpy(out, *data, c);
    *data += c;
    *size -= c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (sodium_init() < 0)
        abort();
    struct mesh_keys ik, rk;
    make_keys(&ik, 1);
    make_keys(&rk, 2);
    uint8_t m0[HS_MSG0_BYTES], m1[HS_MSG1_BYTES], m2[HS_MSG2_BYTES], out[HS_MSG1_BYTES];
    take(&data, &size, m0, sizeof m0);
    take(&data, &size, m1, sizeof m1);
    take(&data, &size, m2, sizeof m2);

    struct handshake hs;
    hs_initiator_start(&hs, &ik, (m0[5] & 1) ? rk.pk : NULL);
    hs_initiator_read_msg0(&hs, m0, out);

    uint8_t genuine0[HS_MSG0_BYTES];
    hs_responder_start(&hs, &rk, genuine0);
    if (hs_responder_read_msg1(&hs, m1, out) == HS_OK)
        abort();  /* would need the fresh random nonce and K */

    struct handshake init;
    hs_responder_start(&hs, &rk, genuine0);
    hs_initiator_start(&init, &ik, NULL);
    if (hs_initiator_read_msg0(&init, genuine0, out) != HS_OK)
        abort();
    if (hs_initiator_read_msg2(&init, m2) == HS_OK)
        abort();  /* a MAC under the fresh session key cannot be guessed */
    hs_wipe(&init);
    hs_wipe(&hs);
    return 0;
}
