/* safe_name.h - network text made safe to log and show (pure).
 *
 * mDNS instance names come from any host on the LAN and end up in log
 * files and on terminals: an escape sequence in one could recolour, move
 * or retitle the user's terminal. Valid UTF-8 letters stay (names like
 * "Büro" are normal); control characters (C0, DEL, C1) and malformed
 * UTF-8 become '?'. */
#ifndef MESH_MDNS_SAFE_NAME_H
#define MESH_MDNS_SAFE_NAME_H

#include <stddef.h>

/* Writes the safe form of in[0..len) into out (NUL-terminated, truncated
 * at a character boundary to fit outsz >= 1). Returns strlen(out). */
size_t safe_name(const char *in, size_t len, char *out, size_t outsz);

#endif
