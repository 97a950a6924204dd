/* events.c - see events.h. */
#include "events.h"

#include <stdio.h>
#include <string.h>

static const char *const kind_names[MESH_EV_KIND_END] = {
    [MESH_EV_JOIN] = "join",         [MESH_EV_LEAVE] = "leave",
    [MESH_EV_ELECTION] = "election", [MESH_EV_DRAIN] = "drain",
    [MESH_EV_UNDRAIN] = "undrain",   [MESH_EV_REQUEUE] = "requeue",
    [MESH_EV_REFUSED] = "refused",   [MESH_EV_MEMBER] = "member",
    [MESH_EV_BATCH] = "batch",       [MESH_EV_ERROR] = "error",
    [MESH_EV_WARNING] = "warning",
};

void events_init(struct events *ev, uint64_t own_seq_base)
{
    memset(ev, 0, sizeof *ev);
    ev->own_seq = own_seq_base;
}

const char *events_kind_name(enum mesh_event_kind kind)
{
    if ((int)kind <= 0 || kind >= MESH_EV_KIND_END)
        return "?";
    return kind_names[kind];
}

int events_kind_parse(const char *name)
{
    for (int k = 1; k < MESH_EV_KIND_END; k++)
        if (strcmp(name, kind_names[k]) == 0)
            return k;
    return -1;
}

void events_sanitize(char *dst, size_t size, const char *src)
{
    size_t i = 0;
    for (; src != NULL && src[i] != '\0' && i + 1 < size; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    dst[i] = '\0';
}

static const struct mesh_event *at(const struct events *ev, size_t i)
{
    size_t first = (ev->next + EVENTS_RING - ev->count) % EVENTS_RING;
    return &ev->ring[(first + i) % EVENTS_RING];
}

/* A linear scan of 256 events: events are rare (a few a second at most). */
static bool seen(const struct events *ev, uint64_t origin, uint64_t origin_seq)
{
    for (size_t i = 0; i < ev->count; i++)
        if (at(ev, i)->origin == origin && at(ev, i)->origin_seq == origin_seq)
            return true;
    return false;
}

const struct mesh_event *events_add(struct events *ev, enum mesh_event_kind kind,
                                    uint64_t origin, uint64_t origin_seq,
                                    uint64_t time_ms, const char *origin_name,
                                    const char *text)
{
    if ((int)kind <= 0 || kind >= MESH_EV_KIND_END)
        kind = MESH_EV_ERROR;
    if (origin_seq == 0)
        origin_seq = ++ev->own_seq;
    else if (seen(ev, origin, origin_seq))
        return NULL;
    struct mesh_event *e = &ev->ring[ev->next];
    *e = (struct mesh_event){
        .seq = ++ev->last_seq, .origin = origin, .origin_seq = origin_seq,
        .time_ms = time_ms, .kind = kind,
    };
    events_sanitize(e->origin_name, sizeof e->origin_name, origin_name);
    events_sanitize(e->text, sizeof e->text, text);
    ev->next = (ev->next + 1) % EVENTS_RING;
    if (ev->count < EVENTS_RING)
        ev->count++;
    ev->by_kind[kind]++;
    return e;
}

size_t events_since(const struct events *ev, uint64_t after, struct mesh_event *out,
                    size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < ev->count && n < max; i++)
        if (at(ev, i)->seq > after)
            out[n++] = *at(ev, i);
    return n;
}

size_t events_latest(const struct events *ev, struct mesh_event *out, size_t max)
{
    size_t n = ev->count < max ? ev->count : max;
    for (size_t i = 0; i < n; i++)
        out[i] = *at(ev, ev->count - n + i);
    return n;
}
