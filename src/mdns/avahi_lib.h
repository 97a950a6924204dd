/* avahi_lib.h - the Avahi client library, opened when discovery starts.
 *
 * Why not linked like the other libraries: libavahi-client brings libdbus,
 * libsystemd, libgcrypt, liblzma, libzstd and libcap with it, and loading
 * them costs every start of the binary about 1.1 ms of CPU, more than all
 * the other libraries together. `mesh factor`, a drop-in for coreutils
 * factor that shell loops run once per number, and every CLI command
 * never use mDNS; only a node's discovery does, once. The functions
 * discovery.c calls are looked up here, by the names and prototypes of
 * Avahi's own headers (which are still used at build time). */
#ifndef MESH_MDNS_AVAHI_LIB_H
#define MESH_MDNS_AVAHI_LIB_H

#include <stddef.h>

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-client/publish.h>
#include <avahi-common/strlst.h>

/* The client library's ABI version since Avahi 0.6 (2005). */
#define AVAHI_LIB_SONAME "libavahi-client.so.3"

struct avahi_lib {
    /* libavahi-client */
    AvahiClient *(*client_new)(const AvahiPoll *poll_api, AvahiClientFlags flags,
                               AvahiClientCallback callback, void *userdata, int *error);
    void (*client_free)(AvahiClient *client);
    int (*client_errno)(AvahiClient *client);
    AvahiEntryGroup *(*entry_group_new)(AvahiClient *c, AvahiEntryGroupCallback callback,
                                        void *userdata);
    int (*entry_group_free)(AvahiEntryGroup *g);
    int (*entry_group_commit)(AvahiEntryGroup *g);
    int (*entry_group_reset)(AvahiEntryGroup *g);
    int (*entry_group_is_empty)(AvahiEntryGroup *g);
    AvahiClient *(*entry_group_get_client)(AvahiEntryGroup *g);
    int (*entry_group_add_service_strlst)(AvahiEntryGroup *group, AvahiIfIndex interface,
                                          AvahiProtocol protocol, AvahiPublishFlags flags,
                                          const char *name, const char *type,
                                          const char *domain, const char *host,
                                          uint16_t port, AvahiStringList *txt);
    AvahiServiceBrowser *(*service_browser_new)(AvahiClient *client, AvahiIfIndex interface,
                                                AvahiProtocol protocol, const char *type,
                                                const char *domain, AvahiLookupFlags flags,
                                                AvahiServiceBrowserCallback callback,
                                                void *userdata);
    int (*service_browser_free)(AvahiServiceBrowser *b);
    AvahiServiceResolver *(*service_resolver_new)(AvahiClient *client, AvahiIfIndex interface,
                                                  AvahiProtocol protocol, const char *name,
                                                  const char *type, const char *domain,
                                                  AvahiProtocol aprotocol, AvahiLookupFlags flags,
                                                  AvahiServiceResolverCallback callback,
                                                  void *userdata);
    int (*service_resolver_free)(AvahiServiceResolver *r);
    /* libavahi-common (a dependency of the client library) */
    const char *(*strerror)(int error);
    void (*free)(void *p);
    char *(*strdup)(const char *s);
    char *(*alternative_service_name)(const char *s);
    char *(*address_snprint)(char *ret_s, size_t length, const AvahiAddress *a);
    AvahiStringList *(*string_list_new)(const char *txt, ...);
    void (*string_list_free)(AvahiStringList *l);
    AvahiStringList *(*string_list_get_next)(AvahiStringList *l);
    uint8_t *(*string_list_get_text)(AvahiStringList *l);
    size_t (*string_list_get_size)(AvahiStringList *l);
};

/* Opens the library and fills *lib: 0, or -1 with a reason in err (the
 * library is not installed, or lacks a function). The library stays
 * loaded for the life of the process: libdbus, which it loads, must not
 * be unloaded under its own threads and atexit handlers. */
int avahi_lib_open(struct avahi_lib *lib, char *err, size_t errlen);

#endif
