/* avahi_uv.c - AvahiPoll on libuv.
 *
 * Two libuv rules shape this file:
 * - uv_poll_init() on an fd that already has a uv_poll_t fails with
 *   UV_EEXIST, but D-Bus asks for separate read and write watches on the
 *   same socket. So there is one fd_poll per fd, holding the list of Avahi
 *   watches on it, and its poll mask is the union of their wanted events.
 * - Handles are freed only in their uv_close callback, and Avahi frees
 *   watches from inside watch callbacks. A watch freed while its fd is being
 *   dispatched is only marked dead and swept after the dispatch loop. */
#include "avahi_uv.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/time.h>

struct fd_poll {
    uv_poll_t handle;
    struct avahi_uv *au;
    int fd;
    unsigned dispatching;       /* >0 while callbacks of its watches run */
    AvahiWatch *watches;
    struct fd_poll *next;
};

struct AvahiWatch {
    struct fd_poll *fp;
    AvahiWatchEvent events;     /* what Avahi wants */
    AvahiWatchEvent revents;    /* what is being delivered right now */
    AvahiWatchCallback callback;
    void *userdata;
    bool dead;
    AvahiWatch *next;
};

struct AvahiTimeout {
    uv_timer_t timer;
    struct avahi_uv *au;
    AvahiTimeoutCallback callback;
    void *userdata;
    AvahiTimeout *next;
};

struct avahi_uv {
    AvahiPoll api;
    uv_loop_t *loop;
    struct fd_poll *polls;
    AvahiTimeout *timeouts;
    /* Closed last, so `done` always runs from a uv callback. */
    uv_idle_t closer;
    unsigned open_handles;      /* initialised, close not yet completed */
    bool closing;
    void (*done)(void *ud);
    void *done_ud;
};

/* ---- handle accounting ------------------------------------------------ */

static void maybe_finish(struct avahi_uv *au)
{
    if (!au->closing || au->open_handles > 0)
        return;
    void (*done)(void *) = au->done;
    void *ud = au->done_ud;
    free(au);
    if (done != NULL)
        done(ud);
}

static void on_fd_poll_closed(uv_handle_t *h)
{
    struct fd_poll *fp = h->data;
    struct avahi_uv *au = fp->au;
    while (fp->watches != NULL) {
        AvahiWatch *w = fp->watches;
        fp->watches = w->next;
        free(w);
    }
    free(fp);
    au->open_handles--;
    maybe_finish(au);
}

static void on_timeout_closed(uv_handle_t *h)
{
    AvahiTimeout *t = h->data;
    struct avahi_uv *au = t->au;
    free(t);
    au->open_handles--;
    maybe_finish(au);
}

static void on_closer_closed(uv_handle_t *h)
{
    struct avahi_uv *au = h->data;
    au->open_handles--;
    maybe_finish(au);
}

/* ---- watches ---------------------------------------------------------- */

static int uv_events_of(AvahiWatchEvent e)
{
    int ev = 0;
    if (e & AVAHI_WATCH_IN)
        ev |= UV_READABLE;
    if (e & AVAHI_WATCH_OUT)
        ev |= UV_WRITABLE;
    return ev;
}

static AvahiWatchEvent avahi_events_of(int ev)
{
    AvahiWatchEvent e = 0;
    if (ev & UV_READABLE)
        e |= AVAHI_WATCH_IN;
    if (ev & UV_WRITABLE)
        e |= AVAHI_WATCH_OUT;
    if (ev & UV_DISCONNECT)
        e |= AVAHI_WATCH_HUP;
    return e;
}

static void unlink_fd_poll(struct fd_poll *fp)
{
    struct fd_poll **pp = &fp->au->polls;
    while (*pp != NULL && *pp != fp)
        pp = &(*pp)->next;
    if (*pp == fp)
        *pp = fp->next;
}

static void on_poll(uv_poll_t *h, int status, int events);

/* Re-derives the poll mask from the live watches; closes the fd_poll when
 * none is left (not during a dispatch: the loop still walks the list). */
static void refresh_fd_poll(struct fd_poll *fp)
{
    AvahiWatchEvent want = 0;
    bool any_live = false;
    for (AvahiWatch *w = fp->watches; w != NULL; w = w->next) {
        if (!w->dead) {
            any_live = true;
            want |= w->events;
        }
    }
    if (!any_live && fp->dispatching == 0) {
        unlink_fd_poll(fp);
        uv_close((uv_handle_t *)&fp->handle, on_fd_poll_closed);
        return;
    }
    int ev = uv_events_of(want);
    if (ev == 0)
        uv_poll_stop(&fp->handle);
    else
        uv_poll_start(&fp->handle, ev | UV_DISCONNECT, on_poll);
}

static void sweep_dead_watches(struct fd_poll *fp)
{
    AvahiWatch **pp = &fp->watches;
    while (*pp != NULL) {
        AvahiWatch *w = *pp;
        if (w->dead) {
            *pp = w->next;
            free(w);
        } else {
            pp = &w->next;
        }
    }
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct fd_poll *fp = h->data;
    AvahiWatchEvent happened =
        status < 0 ? AVAHI_WATCH_ERR : avahi_events_of(events);
    fp->dispatching++;
    for (AvahiWatch *w = fp->watches; w != NULL; w = w->next) {
        if (w->dead)
            continue;
        AvahiWatchEvent mine =
            happened & (w->events | AVAHI_WATCH_ERR | AVAHI_WATCH_HUP);
        if (mine == 0)
            continue;
        w->revents = mine;
        w->callback(w, fp->fd, mine, w->userdata);
        w->revents = 0;
    }
    fp->dispatching--;
    if (fp->dispatching == 0) {
        sweep_dead_watches(fp);
        refresh_fd_poll(fp);
    }
}

static struct fd_poll *find_or_make_fd_poll(struct avahi_uv *au, int fd)
{
    for (struct fd_poll *fp = au->polls; fp != NULL; fp = fp->next)
        if (fp->fd == fd)
            return fp;
    struct fd_poll *fp = calloc(1, sizeof *fp);
    if (fp == NULL)
        return NULL;
    if (uv_poll_init(au->loop, &fp->handle, fd) != 0) {
        free(fp);
        return NULL;
    }
    fp->handle.data = fp;
    fp->au = au;
    fp->fd = fd;
    fp->next = au->polls;
    au->polls = fp;
    au->open_handles++;
    return fp;
}

static AvahiWatch *watch_new(const AvahiPoll *api, int fd,
                             AvahiWatchEvent event, AvahiWatchCallback cb,
                             void *userdata)
{
    struct avahi_uv *au = api->userdata;
    if (au->closing)
        return NULL;
    AvahiWatch *w = calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    struct fd_poll *fp = find_or_make_fd_poll(au, fd);
    if (fp == NULL) {
        free(w);
        return NULL;
    }
    w->fp = fp;
    w->events = event;
    w->callback = cb;
    w->userdata = userdata;
    w->next = fp->watches;
    fp->watches = w;
    refresh_fd_poll(fp);
    return w;
}

static void watch_update(AvahiWatch *w, AvahiWatchEvent event)
{
    w->events = event;
    refresh_fd_poll(w->fp);
}

static AvahiWatchEvent watch_get_events(AvahiWatch *w)
{
    return w->revents;
}

static void watch_free(AvahiWatch *w)
{
    struct fd_poll *fp = w->fp;
    w->dead = true;
    if (fp->dispatching == 0)
        sweep_dead_watches(fp);
    refresh_fd_poll(fp);
}

/* ---- timeouts --------------------------------------------------------- */

static void on_timer(uv_timer_t *h)
{
    AvahiTimeout *t = h->data;
    t->callback(t, t->userdata);    /* may free t (deferred close) */
}

/* Avahi passes absolute gettimeofday() times; NULL disables the timeout. */
static void arm_timeout(AvahiTimeout *t, const struct timeval *tv)
{
    uv_timer_stop(&t->timer);
    if (tv == NULL)
        return;
    uv_update_time(t->au->loop);
    struct timeval now;
    gettimeofday(&now, NULL);
    int64_t delta_us = (int64_t)(tv->tv_sec - now.tv_sec) * 1000000 +
                       (int64_t)(tv->tv_usec - now.tv_usec);
    uint64_t ms = delta_us <= 0 ? 0 : (uint64_t)(delta_us + 999) / 1000;
    uv_timer_start(&t->timer, on_timer, ms, 0);
}

static AvahiTimeout *timeout_new(const AvahiPoll *api, const struct timeval *tv,
                                 AvahiTimeoutCallback cb, void *userdata)
{
    struct avahi_uv *au = api->userdata;
    if (au->closing)
        return NULL;
    AvahiTimeout *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    uv_timer_init(au->loop, &t->timer);
    t->timer.data = t;
    t->au = au;
    t->callback = cb;
    t->userdata = userdata;
    t->next = au->timeouts;
    au->timeouts = t;
    au->open_handles++;
    arm_timeout(t, tv);
    return t;
}

static void timeout_update(AvahiTimeout *t, const struct timeval *tv)
{
    arm_timeout(t, tv);
}

static void timeout_free(AvahiTimeout *t)
{
    AvahiTimeout **pp = &t->au->timeouts;
    while (*pp != NULL && *pp != t)
        pp = &(*pp)->next;
    if (*pp == t)
        *pp = t->next;
    uv_timer_stop(&t->timer);
    uv_close((uv_handle_t *)&t->timer, on_timeout_closed);
}

/* ---- public ----------------------------------------------------------- */

struct avahi_uv *avahi_uv_new(uv_loop_t *loop)
{
    struct avahi_uv *au = calloc(1, sizeof *au);
    if (au == NULL)
        return NULL;
    au->loop = loop;
    au->api.userdata = au;
    au->api.watch_new = watch_new;
    au->api.watch_update = watch_update;
    au->api.watch_get_events = watch_get_events;
    au->api.watch_free = watch_free;
    au->api.timeout_new = timeout_new;
    au->api.timeout_update = timeout_update;
    au->api.timeout_free = timeout_free;
    uv_idle_init(loop, &au->closer);
    au->closer.data = au;
    au->open_handles = 1;
    return au;
}

const AvahiPoll *avahi_uv_poll(struct avahi_uv *au)
{
    return &au->api;
}

void avahi_uv_close(struct avahi_uv *au, void (*done)(void *ud), void *ud)
{
    au->closing = true;
    au->done = done;
    au->done_ud = ud;
    /* Normally empty: avahi_client_free() released everything. */
    while (au->polls != NULL) {
        struct fd_poll *fp = au->polls;
        au->polls = fp->next;
        uv_close((uv_handle_t *)&fp->handle, on_fd_poll_closed);
    }
    while (au->timeouts != NULL) {
        AvahiTimeout *t = au->timeouts;
        au->timeouts = t->next;
        uv_close((uv_handle_t *)&t->timer, on_timeout_closed);
    }
    uv_close((uv_handle_t *)&au->closer, on_closer_closed);
}
