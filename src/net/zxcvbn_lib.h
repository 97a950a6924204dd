/* zxcvbn_lib.h - Dropbox's zxcvbn password estimator (Debian's libzxcvbn0),
 * opened at run time.
 *
 * zxcvbn knows what a hand-made key is made of (dictionaries, names,
 * keyboard walks, repeats, sequences, dates, l33t) far better than a
 * character-class count; it is opened only when a node judges its key, so
 * `mesh factor` and the CLI never load it, and a machine without it still
 * runs (the node's own estimate stands alone). */
#ifndef MESH_NET_ZXCVBN_LIB_H
#define MESH_NET_ZXCVBN_LIB_H

#include <stddef.h>

#define ZXCVBN_LIB_SONAME "libzxcvbn.so.0"

/* zxcvbn's estimate of key[0..len) in bits (log2 of the guesses it expects
 * an attacker to need), or a negative number when the library is missing. */
double zxcvbn_lib_bits(const char *key, size_t len);

#endif
