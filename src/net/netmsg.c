/* netmsg.c - see netmsg.h. */
#include "netmsg.h"

#include <math.h>
#include <string.h>

static uint8_t *put_be(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--)
        *p++ = (uint8_t)(v >> (8 * i));
    return p;
}

static uint64_t get_be(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = (v << 8) | p[i];
    return v;
}

size_t net_hello_encode(const struct net_hello *h, uint8_t out[NET_HELLO_MAX_BYTES])
{
    size_t name_len = strnlen(h->name, NET_NAME_MAX);
    uint8_t *p = put_be(out, h->id, 8);
    p = put_be(p, h->version, 4);
    p = put_be(p, h->workers, 4);
    p = put_be(p, h->listen_port, 2);
    *p++ = (uint8_t)name_len;
    memcpy(p, h->name, name_len);
    return (size_t)(p - out) + name_len;
}

int net_hello_decode(struct net_hello *h, const uint8_t *data, size_t len)
{
    enum { FIXED = 8 + 4 + 4 + 2 + 1 };
    if (len < FIXED)
        return -1;
    size_t name_len = data[FIXED - 1];
    if (name_len > NET_NAME_MAX || len != FIXED + name_len)
        return -1;
    h->id = get_be(data, 8);
    h->version = (uint32_t)get_be(data + 8, 4);
    h->workers = (uint32_t)get_be(data + 12, 4);
    h->listen_port = (uint16_t)get_be(data + 16, 2);
    for (size_t i = 0; i < name_len; i++) {
        uint8_t c = data[FIXED + i];
        h->name[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    h->name[name_len] = '\0';
    return 0;
}

size_t net_stats_encode(const struct net_stats *s, uint8_t out[NET_STATS_BYTES])
{
    uint64_t rate_bits;
    memcpy(&rate_bits, &s->rate, sizeof rate_bits);
    uint8_t *p = put_be(out, rate_bits, 8);
    p = put_be(p, s->busy, 4);
    p = put_be(p, s->done, 8);
    *p++ = s->draining ? 1 : 0;
    return (size_t)(p - out);
}

int net_stats_decode(struct net_stats *s, const uint8_t *data, size_t len)
{
    if (len != NET_STATS_BYTES || (data[20] & ~1u) != 0)
        return -1;
    uint64_t rate_bits = get_be(data, 8);
    double rate;
    memcpy(&rate, &rate_bits, sizeof rate);
    if (!isfinite(rate) || rate < 0)
        return -1;
    s->rate = rate;
    s->busy = (uint32_t)get_be(data + 8, 4);
    s->done = get_be(data + 12, 8);
    s->draining = data[20] & 1;
    return 0;
}
