/* addr_limit.c - see addr_limit.h. */
#include "addr_limit.h"

#include <stdio.h>
#include <string.h>

void addr_limiter_init(struct addr_limiter *al, double burst, double per_sec)
{
    memset(al, 0, sizeof *al);
    al->burst = burst;
    al->per_sec = per_sec;
}

static struct addr_bucket *find_or_claim(struct addr_limiter *al, const char *ip,
                                         uint64_t now_ms)
{
    struct addr_bucket *victim = NULL;  /* first free slot, else least recent */
    for (int i = 0; i < ADDR_LIMIT_SLOTS; i++) {
        struct addr_bucket *b = &al->slots[i];
        bool free_slot = b->ip[0] == '\0';
        if (!free_slot && strcmp(b->ip, ip) == 0)
            return b;
        bool victim_free = victim != NULL && victim->ip[0] == '\0';
        if (victim == NULL || (free_slot && !victim_free) ||
            (!free_slot && !victim_free && b->last_ms < victim->last_ms))
            victim = b;
    }
    snprintf(victim->ip, sizeof victim->ip, "%s", ip);
    victim->tokens = al->burst;
    victim->last_ms = now_ms;
    return victim;
}

bool addr_limiter_allow(struct addr_limiter *al, const char *ip, uint64_t now_ms)
{
    struct addr_bucket *b = find_or_claim(al, ip, now_ms);
    if (now_ms > b->last_ms) {
        b->tokens += (double)(now_ms - b->last_ms) * al->per_sec / 1000.0;
        if (b->tokens > al->burst)
            b->tokens = al->burst;
    }
    b->last_ms = now_ms;
    if (b->tokens < 1.0)
        return false;
    b->tokens -= 1.0;
    return true;
}
