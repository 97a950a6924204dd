/* numtext.h - validation and normalisation of decimal number text.
 *
 * Every number that enters the mesh (command line, list file, control
 * socket, replicated queue) passes through here, so the rest of the code can
 * assume "a normalised decimal below 2^1024" and never re-check. */
#ifndef MESH_NUMTEXT_H
#define MESH_NUMTEXT_H

#include <stdbool.h>
#include <stddef.h>

/* 2^1024 - 1 has 309 decimal digits; buffers need one more for the NUL and
 * callers conventionally use MESH_MAX_DIGITS + 2. */
enum { MESH_MAX_BITS = 1024, MESH_MAX_DIGITS = 309 };

/* Validates a decimal integer token: digits only, optional single leading
 * '+', leading zeros allowed (normalised away: "007" -> "7", "+0" -> "0"),
 * value < 2^1024. On success writes the normalised decimal into out
 * (outlen >= MESH_MAX_DIGITS + 2) and returns 0; on failure returns -1 and a
 * human message in err ("not a valid non-negative integer", "number exceeds
 * 1024 bits", "empty"). err may be NULL. */
int numtext_normalize(const char *tok, size_t len, char *out, size_t outlen,
                      char *err, size_t errlen);

/* True when s[0..len) is already in normal form: non-empty digits, no
 * leading zero unless the number is "0", value < 2^1024. Decoders use it to
 * reject anything the encoder could not have produced. */
bool numtext_is_normal(const char *s, size_t len);

#endif
