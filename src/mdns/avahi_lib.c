/* avahi_lib.c - opens the Avahi client library at run time (why: see
 * avahi_lib.h). */
#include "avahi_lib.h"

#include <avahi-common/address.h>
#include <avahi-common/alternative.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

/* Each slot of struct avahi_lib and the Avahi function it holds. The
 * build checks every slot's type against the function's prototype in
 * Avahi's headers, so a call through the table is as checked as a direct
 * one. */
#define AVAHI_LIB_FUNCTIONS(X)                                                             \
    X(client_new, avahi_client_new)                                                        \
    X(client_free, avahi_client_free)                                                      \
    X(client_errno, avahi_client_errno)                                                    \
    X(entry_group_new, avahi_entry_group_new)                                              \
    X(entry_group_free, avahi_entry_group_free)                                            \
    X(entry_group_commit, avahi_entry_group_commit)                                        \
    X(entry_group_reset, avahi_entry_group_reset)                                          \
    X(entry_group_is_empty, avahi_entry_group_is_empty)                                    \
    X(entry_group_get_client, avahi_entry_group_get_client)                                \
    X(entry_group_add_service_strlst, avahi_entry_group_add_service_strlst)                \
    X(service_browser_new, avahi_service_browser_new)                                      \
    X(service_browser_free, avahi_service_browser_free)                                    \
    X(service_resolver_new, avahi_service_resolver_new)                                    \
    X(service_resolver_free, avahi_service_resolver_free)                                  \
    X(strerror, avahi_strerror)                                                            \
    X(free, avahi_free)                                                                    \
    X(strdup, avahi_strdup)                                                                \
    X(alternative_service_name, avahi_alternative_service_name)                            \
    X(address_snprint, avahi_address_snprint)                                              \
    X(string_list_new, avahi_string_list_new)                                              \
    X(string_list_free, avahi_string_list_free)                                            \
    X(string_list_get_next, avahi_string_list_get_next)                                    \
    X(string_list_get_text, avahi_string_list_get_text)                                    \
    X(string_list_get_size, avahi_string_list_get_size)

#define CHECK_PROTOTYPE(slot, function)                                                    \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&function),                     \
                                                __typeof__(((struct avahi_lib *)0)->slot)), \
                   #slot " does not match " #function);
AVAHI_LIB_FUNCTIONS(CHECK_PROTOTYPE)

/* dlsym returns an object pointer; POSIX guarantees it converts to the
 * function pointer it names, which memcpy does without a cast that ISO C
 * leaves undefined. */
static int bind_symbol(void *handle, const char *name, void *slot, char *err, size_t errlen)
{
    void *sym = dlsym(handle, name);
    if (sym == NULL) {
        snprintf(err, errlen, "%s has no %s", AVAHI_LIB_SONAME, name);
        return -1;
    }
    memcpy(slot, &sym, sizeof sym);
    return 0;
}

#define BIND(slot, function)                                                              \
    if (bind_symbol(handle, #function, &lib->slot, err, errlen) != 0)                            \
        return -1;

int avahi_lib_open(struct avahi_lib *lib, char *err, size_t errlen)
{
    memset(lib, 0, sizeof *lib);
    /* The symbols stay local to this handle: nothing else in the process
     * should resolve against libdbus or libsystemd by accident. */
    void *handle = dlopen(AVAHI_LIB_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char *why = dlerror();
        snprintf(err, errlen, "%s", why != NULL ? why : AVAHI_LIB_SONAME " not found");
        return -1;
    }
    AVAHI_LIB_FUNCTIONS(BIND)
    return 0;
}
