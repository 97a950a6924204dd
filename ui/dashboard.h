/* dashboard.h - the live ncurses dashboard of a node (the ui_lib library).
 *
 * The dashboard draws what the node hands it in a struct ui_snapshot
 * (ui/snapshot.h) and acts only through struct ui_actions, the same
 * operations the CLI uses. It runs on the node's uv loop and never blocks
 * it: keys are read from fd 0 through a uv_poll_t, SIGWINCH through a
 * uv_signal_t.
 *
 * Usage from the node (all on the loop thread):
 *     struct ui_actions a = { .ud = node, .submit = ..., .cancel = ...,
 *                             .set_drain = ..., .quit = ... };
 *     struct ui *ui;
 *     if (ui_start(&ui, loop, &a) != 0) -> run headless (no terminal)
 *     every ~250 ms: ui_update(ui, &snapshot);
 *     on shutdown:   ui_stop(ui, done_cb, ud);  -> done_cb runs once the
 *                    uv handles are closed and the ui is freed.
 * The user's `q` calls actions->quit(); the node then stops itself and
 * calls ui_stop() (from inside quit() or later, both are fine). */
#ifndef MESH_UI_DASHBOARD_H
#define MESH_UI_DASHBOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "snapshot.h"

struct ui;

struct ui_actions {
    void *ud;
    /* kind: "classic" | "semiprimes64" | "semiprimes100". Returns the new
     * batch id (> 0) or -1 with a message in err. */
    int (*submit)(void *ud, const char *kind, char *err, size_t errlen);
    /* Returns 0 or -1 with a message in err. */
    int (*cancel)(void *ud, uint64_t batch_id, char *err, size_t errlen);
    void (*set_drain)(void *ud, bool drain);
    /* The user pressed q: stop the node gracefully (and call ui_stop). */
    void (*quit)(void *ud);
};

/* Takes over the controlling terminal (stdin/stdout) and draws an empty
 * dashboard. `actions` is copied. Returns 0, or a negative errno-style
 * code (-ENOTTY: stdin/stdout is not a terminal or TERM is unusable) with
 * the terminal left untouched: run headless then. */
int ui_start(struct ui **out, uv_loop_t *loop, const struct ui_actions *actions);

/* Copies the snapshot and redraws. Cheap; call it ~4 times a second. */
void ui_update(struct ui *ui, const struct ui_snapshot *snap);

/* Restores the terminal at once (endwin), closes the uv handles and frees
 * the ui; done(ud) is called (may be NULL) when that is complete. The ui
 * must not be used after ui_stop. */
void ui_stop(struct ui *ui, void (*done)(void *ud), void *ud);

#endif
