/* ui.h - the dashboard's own state (struct ui) and the internal calls
 * between its files: dashboard.c (life cycle, terminal), keys.c (keys and
 * actions), form.c (the submit form), overlay.c (help, confirmation and
 * details boxes), history.c (rates over time for sparklines and ETAs). */
#ifndef MESH_UI_UI_H
#define MESH_UI_UI_H

#include <curses.h>

#include "dashboard.h"
#include "panels.h"

enum ui_modal { MODAL_NONE, MODAL_FORM, MODAL_CONFIRM, MODAL_HELP, MODAL_DETAILS,
                MODAL_EVENTS };
enum ui_confirm { CONFIRM_CANCEL, CONFIRM_FORGET, CONFIRM_QUIT };
enum { FORM_FIELDS = 3, FORM_TEXT = 400, DETAILS_TEXT = 4096 };

struct ui_form {
    enum ui_submit_kind kind;
    int field;                          /* 0: the kind row; 1..: its fields */
    char text[UI_SUBMIT_KINDS][FORM_FIELDS][FORM_TEXT]; /* as typed, per kind */
    bool replace;       /* the field was just entered: the next character
                           typed replaces its old text (shown selected) */
    char error[200];
};

struct ui {
    uv_loop_t *loop;
    struct ui_actions act;
    SCREEN *screen;
    uv_poll_t keys;          /* fd 0 */
    uv_signal_t winch;
    int open_handles;        /* closing: handles not yet closed */
    bool stopped;
    void (*done)(void *ud);
    void *done_ud;

    bool colors, utf8;
    bool have_snap;
    struct mesh_view snap;            /* nodes sorted by name (stable) */
    struct ui_history hist;

    enum ui_focus focus;
    int sel_node, sel_batch;            /* rows, -1 none */
    char sel_node_id[17];               /* keep the selection on its node */
    uint64_t sel_batch_id;              /* ... and batch across updates */
    uint64_t newest_batch;              /* highest batch id seen: a higher
                                           one is new, the selection follows */
    uint64_t watch_batch;               /* the status line tells its end */
    bool submit_pending;                /* sent to the leader, id not seen */
    char submit_name[64];               /* ... its name, to know it by */

    enum ui_modal modal;
    enum ui_confirm confirm;
    uint64_t confirm_batch;
    struct ui_form form;
    char details[DETAILS_TEXT];
    uint64_t details_batch;             /* the batch the open box shows; 0: a node */

    char status[256];
    bool status_error;
};

void ui_redraw(struct ui *ui);
void ui_set_status(struct ui *ui, bool error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ui_fix_selection(struct ui *ui);

/* The status line after a new snapshot: a submit the leader accepted
 * (its batch appeared), the end of the batch it names. */
void ui_follow_status(struct ui *ui, uint64_t newest_before);

/* keys.c: returns false once the ui must not be touched any more (quit). */
bool ui_on_key(struct ui *ui, int ch);

/* form.c */
void form_open(struct ui *ui);
void form_key(struct ui *ui, int ch);
void form_draw(const struct ui *ui);

/* overlay.c */
void overlay_draw(const struct ui *ui);
/* Fills ui->details for the focused selection and opens the box. */
void details_open(struct ui *ui);
/* A new snapshot: an open batch's details are written again (its long
 * numbers move a few times a second). */
void details_refresh(struct ui *ui);
/* A centred box of h x w with a title; returns its inside. */
struct rect box_draw(int h, int w, bool utf8, bool colors, const char *title);

#endif
