/* authkey.c - see authkey.h.
 *
 * The estimate is deliberately pessimistic about what people type: a run
 * of letters that looks like a word (all lower, all upper or Capitalised)
 * is priced like a dictionary word rather than like random letters, since
 * guessing tools try dictionaries and their variants first. Random keys
 * (mixed case inside runs, digits, symbols) keep close to their charset
 * entropy, so `mesh keygen` output and `openssl rand -hex 16` pass. */
#include "authkey.h"

#include <ctype.h>
#include <sodium.h>
#include <string.h>

#include "zxcvbn_lib.h"

/* Bits per character by class, and the price of one dictionary word. */
#define BITS_LETTER 4.7   /* log2(26) */
#define BITS_MIXED 5.7    /* log2(52): case varies inside the run */
#define BITS_DIGIT 3.3    /* log2(10) */
#define BITS_SYMBOL 5.0   /* log2(~33 printable symbols) */
#define BITS_SEPARATOR 1.0 /* a space or dash between words */
#define BITS_WORD 16.0    /* log2 of a large dictionary with variants */
#define BITS_WORD_PER_CHAR 1.5 /* concatenated words: longer costs a bit more */
#define BITS_PREDICTABLE 1.0 /* a repeat or +/-1 step of the previous char */

int authkey_generate(char out[AUTHKEY_TEXT_MAX + 1])
{
    if (sodium_init() < 0)
        return -1;
    unsigned char raw[AUTHKEY_RANDOM_BYTES];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, AUTHKEY_TEXT_MAX + 1, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    return 0;
}

/* Length of the word-like chunk at s: "Word", "word" or "WORD", so
 * "MySecretPassword" reads as three words (camelCase is no protection). */
static size_t chunk_len(const char *s, size_t n)
{
    size_t i = 1;
    bool up = isupper((unsigned char)s[0]);
    if (up && n > 1 && islower((unsigned char)s[1]))
        up = false;
    while (i < n && isalpha((unsigned char)s[i]) &&
           (up ? isupper((unsigned char)s[i]) : islower((unsigned char)s[i])) != 0)
        i++;
    return i;
}

/* Short chunks are priced as random letters (case-mixed runs of them as
 * 52-letter ones), longer ones as a dictionary word. */
static double chunk_bits(size_t n, bool mixed_run)
{
    double random = (double)n * (mixed_run ? BITS_MIXED : BITS_LETTER);
    double word = BITS_WORD > (double)n * BITS_WORD_PER_CHAR
                      ? BITS_WORD : (double)n * BITS_WORD_PER_CHAR;
    return n < 4 || random < word ? random : word;
}

/* Bits for a run of letters s[0..n). */
static double letter_run_bits(const char *s, size_t n)
{
    size_t upper = 0;
    for (size_t i = 0; i < n; i++)
        upper += isupper((unsigned char)s[i]) != 0;
    bool mixed = upper != 0 && upper != n;
    double bits = 0;
    for (size_t i = 0; i < n;) {
        size_t len = chunk_len(s + i, n - i);
        bits += chunk_bits(len, mixed);
        i += len;
    }
    return bits;
}

static bool predictable(unsigned char prev, unsigned char c)
{
    return c == prev || c == prev + 1 || c + 1 == prev;
}

static double char_bits(unsigned char c)
{
    if (isdigit(c))
        return BITS_DIGIT;
    if (c == ' ' || c == '-' || c == '_' || c == '.')
        return BITS_SEPARATOR;
    return BITS_SYMBOL;
}

/* The node's own estimate: character classes, word-like runs, repeats. */
static unsigned pattern_bits(const char *key, size_t len)
{
    double bits = 0;
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)key[i];
        if (isalpha(c)) {
            size_t j = i;
            while (j < len && isalpha((unsigned char)key[j]))
                j++;
            bits += letter_run_bits(key + i, j - i);
            i = j;
            continue;
        }
        bool repeat = i > 0 && !isalpha((unsigned char)key[i - 1]) &&
                      predictable((unsigned char)key[i - 1], c);
        bits += repeat ? BITS_PREDICTABLE : char_bits(c);
        i++;
    }
    return bits > 4096 ? 4096u : (unsigned)bits;
}

/* The lower of the two estimates: each catches what the other misses (the
 * pattern count prices long word runs; zxcvbn knows repeats, keyboard walks
 * and dictionaries: 64 'a's, "Password1!" four times, "qwertyuiop..."). */
unsigned authkey_strength_bits(const char *key, size_t len)
{
    unsigned own = pattern_bits(key, len);
    double z = zxcvbn_lib_bits(key, len);
    return z >= 0 && z < (double)own ? (unsigned)z : own;
}

bool authkey_is_weak(const char *key, size_t len)
{
    return authkey_strength_bits(key, len) < AUTHKEY_STRONG_BITS;
}
