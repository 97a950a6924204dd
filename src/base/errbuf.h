/* errbuf.h - filling the caller's (char *err, size_t errlen) message buffer,
 * the error convention shared by the pure modules (numtext, batch, queue). */
#ifndef MESH_ERRBUF_H
#define MESH_ERRBUF_H

#include <stddef.h>

/* printf into err; does nothing when err is NULL or errlen is 0. */
void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
