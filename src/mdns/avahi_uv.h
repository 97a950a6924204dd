/* avahi_uv.h - an AvahiPoll that runs avahi-client on a libuv loop.
 *
 * avahi-client needs an event loop abstraction (AvahiPoll) for its D-Bus
 * connection. This adapter maps Avahi watches onto uv_poll_t (one per fd,
 * several watches may share it) and Avahi timeouts onto uv_timer_t, so the
 * node's single uv loop drives discovery with no extra thread.
 *
 * Lifetime: create with avahi_uv_new(); hand avahi_uv_poll() to
 * avahi_client_new(); after avahi_client_free() (which frees every watch and
 * timeout) call avahi_uv_close(), which closes any handle still open and
 * frees the adapter once libuv has finished with all of them. */
#ifndef MESH_AVAHI_UV_H
#define MESH_AVAHI_UV_H

#include <avahi-common/watch.h>
#include <uv.h>

struct avahi_uv;

/* Returns NULL when out of memory. */
struct avahi_uv *avahi_uv_new(uv_loop_t *loop);

/* The AvahiPoll vtable to pass to avahi_client_new(); valid until close. */
const AvahiPoll *avahi_uv_poll(struct avahi_uv *au);

/* Closes remaining handles; `done(ud)` runs (from a uv callback) once the
 * adapter is freed. `done` may be NULL. Do not use `au` afterwards. */
void avahi_uv_close(struct avahi_uv *au, void (*done)(void *ud), void *ud);

#endif
