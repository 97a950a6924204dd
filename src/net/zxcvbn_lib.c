/* zxcvbn_lib.c - see zxcvbn_lib.h. Opened and closed per call: a node
 * judges its key once, at start, and keeps no handle around. */
#include "zxcvbn_lib.h"

#include <dlfcn.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* The two functions used, as zxcvbn.h declares them (the header is not
 * needed to build: the library is optional at run time). */
typedef double zxcvbn_match_fn(const char *passwd, const char *user_dict[], void **info);

double zxcvbn_lib_bits(const char *key, size_t len)
{
    void *handle = dlopen(ZXCVBN_LIB_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL)
        return -1;
    void *sym = dlsym(handle, "ZxcvbnMatch");
    zxcvbn_match_fn *match = NULL;
    memcpy(&match, &sym, sizeof sym); /* object to function pointer: POSIX */
    double bits = -1;
    /* zxcvbn wants a C string: a copy that is wiped, since it is the key. */
    char *copy = match != NULL ? malloc(len + 1) : NULL;
    if (copy != NULL) {
        memcpy(copy, key, len);
        copy[len] = '\0';
        bits = match(copy, NULL, NULL);
        sodium_memzero(copy, len + 1);
        free(copy);
    }
    dlclose(handle);
    return bits;
}
