/* addr_limit.h - per-source-address token buckets for handshake attempts.
 *
 * A fixed table (no growth however many addresses knock): when it is full
 * the least recently seen address is forgotten, which at worst gives that
 * address a fresh burst. Pure: the caller passes the clock. */
#ifndef MESH_NET_ADDR_LIMIT_H
#define MESH_NET_ADDR_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

enum { ADDR_LIMIT_SLOTS = 256, ADDR_LIMIT_IP_MAX = 64 };

struct addr_bucket {
    char ip[ADDR_LIMIT_IP_MAX];  /* "" = free slot */
    double tokens;
    uint64_t last_ms;
};

struct addr_limiter {
    double burst;     /* attempts allowed at once */
    double per_sec;   /* sustained attempts per second */
    struct addr_bucket slots[ADDR_LIMIT_SLOTS];
};

void addr_limiter_init(struct addr_limiter *al, double burst, double per_sec);

/* Takes one token for ip; false when its bucket is empty. */
bool addr_limiter_allow(struct addr_limiter *al, const char *ip, uint64_t now_ms);

#endif
