/* dashboard.h - the live ncurses dashboard of a node (the ui_lib library).
 *
 * The dashboard draws what the node hands it in a struct mesh_view
 * (src/view.h) and acts only through struct ui_actions, the same
 * operations the CLI uses. It runs on the node's uv loop and never blocks
 * it: keys are read from fd 0 through a uv_poll_t, SIGWINCH through a
 * uv_signal_t.
 *
 * Usage from the node (all on the loop thread):
 *     struct ui_actions a = { .ud = node, .submit = ..., .cancel = ...,
 *                             .set_drain = ..., .details = ..., .quit = ... };
 *     struct ui_options o = { .no_color = ... };
 *     struct ui *ui;
 *     if (ui_start(&ui, loop, &a, &o) != 0) -> run headless (no terminal)
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

#include "view.h"

struct ui;

/* What the submit form (key s) asks for; the numbers are checked by the
 * form (ui_submit_parse) before the node sees them. */
enum ui_submit_kind { UI_SUBMIT_CLASSIC, UI_SUBMIT_RANGE, UI_SUBMIT_SEMIPRIMES,
                      UI_SUBMIT_FILE, UI_SUBMIT_KINDS };
struct ui_submit {
    enum ui_submit_kind kind;
    char start[400];         /* range: decimal start (below 2^1024) */
    uint64_t count, step;    /* range, semiprimes (count) */
    unsigned bits;           /* semiprimes */
    uint64_t seed;
    bool fresh_seed;         /* semiprimes: no seed given, the node draws one */
    char path[1024];         /* file: one number per line */
    char name[64];           /* label shown in the batches panel */
};

struct ui_actions {
    void *ud;
    /* Returns the new batch id (> 0), 0 when sent (the id comes later, in
     * the event log), or -1 with a message in err. */
    int (*submit)(void *ud, const struct ui_submit *req, char *err, size_t errlen);
    /* Returns 0 or -1 with a message in err. */
    int (*cancel)(void *ud, uint64_t batch_id, char *err, size_t errlen);
    /* Forgets a finished or cancelled batch and its results, mesh-wide:
     * the control request `forget` that `mesh forget` sends. Returns 0
     * (the outcome comes later, in the event log) or -1 with a message. */
    int (*forget)(void *ud, uint64_t batch_id, char *err, size_t errlen);
    /* node_id: the hex id of any node of the mesh (view_node.id). */
    int (*set_drain)(void *ud, const char *node_id, bool drain, char *err, size_t errlen);
    /* Details of a batch for the Enter key: a few lines of text (its first
     * results). May be NULL. */
    void (*batch_details)(void *ud, uint64_t batch_id, char *out, size_t outlen);
    /* The user confirmed q: stop the node gracefully (and call ui_stop). */
    void (*quit)(void *ud);
};

struct ui_options {
    bool no_color;           /* --no-color; NO_COLOR in the environment also counts */
};

/* Takes over the controlling terminal (stdin/stdout) and draws an empty
 * dashboard. `actions` is copied. Returns 0, or a negative errno-style
 * code (-ENOTTY: stdin/stdout is not a terminal or TERM is unusable) with
 * the terminal left untouched: run headless then. */
int ui_start(struct ui **out, uv_loop_t *loop, const struct ui_actions *actions,
             const struct ui_options *options);

/* Checks the form's fields (texts as typed) and fills req; returns 0, or
 * -1 with what is wrong in err. Pure (tests/ui/test_layout.c). */
int ui_submit_parse(enum ui_submit_kind kind, const char *const fields[4],
                    struct ui_submit *req, char *err, size_t errlen);

/* Copies the snapshot and redraws. Cheap; call it ~4 times a second. */
void ui_update(struct ui *ui, const struct mesh_view *snap);

/* Restores the terminal at once (endwin), closes the uv handles and frees
 * the ui; done(ud) is called (may be NULL) when that is complete. The ui
 * must not be used after ui_stop. */
void ui_stop(struct ui *ui, void (*done)(void *ud), void *ud);

#endif
