/* target_addrs.h - the addresses one dial target is tried at (pure).
 *
 * mDNS is unauthenticated: anyone can announce a known peer's key at an
 * address of their choosing. So a discovered peer keeps several addresses,
 * tried in turn; an address that has carried a link ("proven") is never
 * pushed out by a new announcement, and one whose handshakes keep failing
 * is dropped. No clock reads here: the caller passes now_ms. */
#ifndef MESH_NET_TARGET_ADDRS_H
#define MESH_NET_TARGET_ADDRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    TARGET_ADDRS_MAX = 4,
    TARGET_HOST_MAX = 256,   /* host name or address text, with the NUL */
};

struct target_addr {
    char host[TARGET_HOST_MAX];
    uint16_t port;
    unsigned failures;      /* consecutive connections that did not link */
    bool proven;            /* a link came up through it */
    uint64_t seen_ms;       /* added or announced again */
};

struct target_addrs {
    struct target_addr a[TARGET_ADDRS_MAX];
    size_t n, cur;          /* cur: the one to dial next (< n when n > 0) */
};

enum taddr_add { TADDR_ADDED, TADDR_KNOWN, TADDR_FULL, TADDR_INVALID };

/* Adds host:port (or refreshes seen_ms if present). When full, replaces the
 * unproven address with the most failures (the oldest on ties); TADDR_FULL
 * when all are proven. */
enum taddr_add taddrs_add(struct target_addrs *t, const char *host, uint16_t port,
                          uint64_t now_ms);

/* Removes host:port; false when it was not there. */
bool taddrs_remove(struct target_addrs *t, const char *host, uint16_t port);

/* The address to dial next; NULL when there is none. */
const struct target_addr *taddrs_current(const struct target_addrs *t);

/* The current address failed: counts it, drops it after fail_limit failures
 * in a row (0 = never), and moves on to the next address. */
void taddrs_failed(struct target_addrs *t, unsigned fail_limit);

/* The current address linked: proven, failures reset. */
void taddrs_linked(struct target_addrs *t);

bool taddrs_has_host(const struct target_addrs *t, const char *host);

#endif
