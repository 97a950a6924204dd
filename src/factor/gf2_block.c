/* gf2_block.c - 64 x 64 and n x 64 products over GF(2) (gf2_block.h). */
#include <string.h>

#include "gf2_block.h"

void gf2_mul_64x64(const uint64_t a[64], const uint64_t b[64], uint64_t out[64])
{
    uint64_t r[64];
    for (int i = 0; i < 64; i++) {
        uint64_t sum = 0;
        for (uint64_t bits = a[i]; bits != 0; bits &= bits - 1)
            sum ^= b[__builtin_ctzll(bits)];
        r[i] = sum;
    }
    memcpy(out, r, sizeof r);
}

/* tab[k][x] = the xor of m's rows 8k + j for the bits j of x. */
static void byte_tables(const uint64_t m[64], uint64_t tab[8][256])
{
    for (int k = 0; k < 8; k++) {
        tab[k][0] = 0;
        for (unsigned x = 1; x < 256; x++)
            tab[k][x] = tab[k][x & (x - 1)] ^ m[8 * k + __builtin_ctz(x)];
    }
}

void gf2_mul_block_acc(const uint64_t *v, const uint64_t m[64], uint64_t *out, size_t n)
{
    uint64_t tab[8][256];
    byte_tables(m, tab);
    for (size_t r = 0; r < n; r++) {
        uint64_t x = v[r];
        out[r] ^= tab[0][x & 255] ^ tab[1][(x >> 8) & 255] ^ tab[2][(x >> 16) & 255] ^
                  tab[3][(x >> 24) & 255] ^ tab[4][(x >> 32) & 255] ^ tab[5][(x >> 40) & 255] ^
                  tab[6][(x >> 48) & 255] ^ tab[7][x >> 56];
    }
}

void gf2_mul_block_t(const uint64_t *v, const uint64_t *w, uint64_t out[64], size_t n)
{
    /* acc[k][x]: the xor of w's rows whose v row has byte k equal to x;
     * row 8k + j of the product is then the xor over the x with bit j. */
    uint64_t acc[8][256];
    memset(acc, 0, sizeof acc);
    for (size_t r = 0; r < n; r++) {
        uint64_t x = v[r], y = w[r];
        for (int k = 0; k < 8; k++)
            acc[k][(x >> (8 * k)) & 255] ^= y;
    }
    for (int k = 0; k < 8; k++)
        for (int j = 0; j < 8; j++) {
            uint64_t sum = 0;
            for (unsigned x = 0; x < 256; x++)
                if ((x >> j) & 1)
                    sum ^= acc[k][x];
            out[8 * k + j] = sum;
        }
}
