/* target_addrs.c - see target_addrs.h. */
#include "target_addrs.h"

#include <stdio.h>
#include <string.h>

static struct target_addr *find(struct target_addrs *t, const char *host, uint16_t port)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->a[i].port == port && strcmp(t->a[i].host, host) == 0)
            return &t->a[i];
    return NULL;
}

/* The unproven entry to give up for a new address, or NULL. */
static struct target_addr *victim(struct target_addrs *t)
{
    struct target_addr *v = NULL;
    for (size_t i = 0; i < t->n; i++) {
        struct target_addr *a = &t->a[i];
        if (a->proven)
            continue;
        if (v == NULL || a->failures > v->failures ||
            (a->failures == v->failures && a->seen_ms < v->seen_ms))
            v = a;
    }
    return v;
}

enum taddr_add taddrs_add(struct target_addrs *t, const char *host, uint16_t port,
                          uint64_t now_ms)
{
    if (strlen(host) >= TARGET_HOST_MAX || host[0] == '\0')
        return TADDR_INVALID;
    struct target_addr *a = find(t, host, port);
    if (a != NULL) {
        a->seen_ms = now_ms;
        return TADDR_KNOWN;
    }
    a = t->n < TARGET_ADDRS_MAX ? &t->a[t->n++] : victim(t);
    if (a == NULL)
        return TADDR_FULL;
    memset(a, 0, sizeof *a);
    snprintf(a->host, sizeof a->host, "%s", host);
    a->port = port;
    a->seen_ms = now_ms;
    return TADDR_ADDED;
}

static void remove_at(struct target_addrs *t, size_t i)
{
    memmove(&t->a[i], &t->a[i + 1], (t->n - i - 1) * sizeof t->a[0]);
    t->n--;
    if (t->cur > i)
        t->cur--;
    if (t->cur >= t->n)
        t->cur = 0;
}

bool taddrs_remove(struct target_addrs *t, const char *host, uint16_t port)
{
    struct target_addr *a = find(t, host, port);
    if (a == NULL)
        return false;
    remove_at(t, (size_t)(a - t->a));
    return true;
}

const struct target_addr *taddrs_current(const struct target_addrs *t)
{
    return t->n > 0 ? &t->a[t->cur] : NULL;
}

void taddrs_failed(struct target_addrs *t, unsigned fail_limit)
{
    if (t->n == 0)
        return;
    struct target_addr *a = &t->a[t->cur];
    a->failures++;
    if (fail_limit != 0 && a->failures >= fail_limit) {
        remove_at(t, t->cur);
        return;
    }
    t->cur = (t->cur + 1) % t->n;
}

void taddrs_linked(struct target_addrs *t)
{
    if (t->n == 0)
        return;
    t->a[t->cur].proven = true;
    t->a[t->cur].failures = 0;
}

bool taddrs_has_host(const struct target_addrs *t, const char *host)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->a[i].host, host) == 0)
            return true;
    return false;
}
