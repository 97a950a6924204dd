/* keys.c - what each key does. Actions go through struct ui_actions, the
 * node's own calls (the same the CLI's requests use); the ones that destroy
 * (cancel or forget a batch, quit the node) ask y/n first. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ui.h"

static void move_selection(struct ui *ui, int delta)
{
    bool nodes = ui->focus == FOCUS_NODES;
    int n = !ui->have_snap ? 0 : nodes ? (int)ui->snap.n_nodes : (int)ui->snap.n_batches;
    if (n == 0)
        return;
    int *sel = nodes ? &ui->sel_node : &ui->sel_batch;
    int s = *sel + delta;
    s = s < 0 ? 0 : s >= n ? n - 1 : s;
    *sel = s;
    if (nodes)
        snprintf(ui->sel_node_id, sizeof ui->sel_node_id, "%s", ui->snap.nodes[s].id);
    else
        ui->sel_batch_id = ui->snap.batches[s].id;
}

static const struct view_node *selected_node(const struct ui *ui)
{
    if (!ui->have_snap || ui->sel_node < 0 || ui->sel_node >= (int)ui->snap.n_nodes)
        return NULL;
    return &ui->snap.nodes[ui->sel_node];
}

static const struct view_batch *selected_batch(const struct ui *ui)
{
    if (!ui->have_snap || ui->sel_batch < 0 || ui->sel_batch >= (int)ui->snap.n_batches)
        return NULL;
    return &ui->snap.batches[ui->sel_batch];
}

static void do_drain(struct ui *ui, bool drain)
{
    const struct view_node *nd = selected_node(ui);
    if (nd == NULL) {
        ui_set_status(ui, true, "%s: no node selected", drain ? "drain" : "undrain");
        return;
    }
    char err[256] = "", name[64];
    snprintf(name, sizeof name, "%s", nd->name);
    if (!ui->act.set_drain || ui->act.set_drain(ui->act.ud, nd->id, drain, err, sizeof err)) {
        ui_set_status(ui, true, "%s %s failed: %s", drain ? "drain" : "undrain", name,
                      err[0] ? err : "not available");
        return;
    }
    ui_set_status(ui, false, drain ? "draining %s: it finishes its numbers, takes no new work"
                                   : "undrained %s: it takes work again", name);
}

static void ask_cancel(struct ui *ui)
{
    const struct view_batch *b = selected_batch(ui);
    if (b == NULL) {
        ui_set_status(ui, true, "cancel: no batch selected (Tab to the batches)");
        return;
    }
    if (strcmp(b->state, "running") != 0) {
        ui_set_status(ui, true, "batch %" PRIu64 " is %s already", b->id, b->state);
        return;
    }
    ui->confirm = CONFIRM_CANCEL;
    ui->confirm_batch = b->id;
    ui->modal = MODAL_CONFIRM;
}

/* Only a finished or cancelled batch can be forgotten: a running one is
 * cancelled first (the mesh refuses it anyway; say why here). */
static void ask_forget(struct ui *ui)
{
    const struct view_batch *b = selected_batch(ui);
    if (b == NULL) {
        ui_set_status(ui, true, "forget: no batch selected (Tab to the batches)");
        return;
    }
    if (strcmp(b->state, "running") == 0) {
        ui_set_status(ui, true, "batch %" PRIu64 " is running: cancel it first (c)", b->id);
        return;
    }
    ui->confirm = CONFIRM_FORGET;
    ui->confirm_batch = b->id;
    ui->modal = MODAL_CONFIRM;
}

static void do_forget(struct ui *ui, uint64_t id)
{
    char err[256] = "";
    if (!ui->act.forget)
        ui_set_status(ui, true, "forget: not available");
    else if (ui->act.forget(ui->act.ud, id, err, sizeof err) == 0)
        ui_set_status(ui, false, "forgetting batch %" PRIu64 " and its results", id);
    else
        ui_set_status(ui, true, "forget batch %" PRIu64 " failed: %s", id,
                      err[0] ? err : "unknown error");
}

static void do_cancel(struct ui *ui, uint64_t id)
{
    char err[256] = "";
    if (!ui->act.cancel)
        ui_set_status(ui, true, "cancel: not available");
    else if (ui->act.cancel(ui->act.ud, id, err, sizeof err) == 0)
        ui_set_status(ui, false, "cancelling batch %" PRIu64, id);
    else
        ui_set_status(ui, true, "cancel batch %" PRIu64 " failed: %s", id,
                      err[0] ? err : "unknown error");
}

/* y confirms, anything else declines. Returns false after quitting. */
static bool confirm_key(struct ui *ui, int ch)
{
    ui->modal = MODAL_NONE;
    bool yes = ch == 'y' || ch == 'Y';
    if (ui->confirm == CONFIRM_CANCEL) {
        if (yes)
            do_cancel(ui, ui->confirm_batch);
        else
            ui_set_status(ui, false, "batch %" PRIu64 " not cancelled", ui->confirm_batch);
        return true;
    }
    if (ui->confirm == CONFIRM_FORGET) {
        if (yes)
            do_forget(ui, ui->confirm_batch);
        else
            ui_set_status(ui, false, "batch %" PRIu64 " kept", ui->confirm_batch);
        return true;
    }
    if (!yes) {
        ui_set_status(ui, false, "not quitting");
        return true;
    }
    ui_set_status(ui, false, "quitting: handing back work, stopping the node...");
    ui_redraw(ui);
    if (ui->act.quit)
        ui->act.quit(ui->act.ud);   /* may call ui_stop() */
    return false;
}

static bool modal_key(struct ui *ui, int ch)
{
    switch (ui->modal) {
    case MODAL_FORM:
        form_key(ui, ch);
        return true;
    case MODAL_CONFIRM:
        return confirm_key(ui, ch);
    default:                            /* help, details, events: any key closes */
        ui->modal = MODAL_NONE;
        return true;
    }
}

static bool navigate(struct ui *ui, int ch)
{
    switch (ch) {
    case '\t': case KEY_BTAB:
        ui->focus = ui->focus == FOCUS_NODES ? FOCUS_BATCHES : FOCUS_NODES;
        return true;
    case KEY_UP: case 'k': move_selection(ui, -1); return true;
    case KEY_DOWN: case 'j': move_selection(ui, 1); return true;
    case KEY_PPAGE: move_selection(ui, -10); return true;
    case KEY_NPAGE: move_selection(ui, 10); return true;
    case KEY_HOME: case 'g': move_selection(ui, -VIEW_MAX_BATCHES); return true;
    case KEY_END: case 'G': move_selection(ui, VIEW_MAX_BATCHES); return true;
    default: return false;
    }
}

bool ui_on_key(struct ui *ui, int ch)
{
    if (ch == KEY_RESIZE)
        return true;
    if (ui->modal != MODAL_NONE)
        return modal_key(ui, ch);
    if (navigate(ui, ch))
        return true;
    switch (ch) {
    case 's': form_open(ui); break;
    case 'd': do_drain(ui, true); break;
    case 'u': do_drain(ui, false); break;
    case 'c': ask_cancel(ui); break;
    case 'f': ask_forget(ui); break;
    case 'e': ui->modal = MODAL_EVENTS; break;
    case '\r': case '\n': case KEY_ENTER: details_open(ui); break;
    case '?': case 'h': case KEY_F(1): ui->modal = MODAL_HELP; break;
    case 12: /* ^L */ clearok(curscr, TRUE); break;
    case 'q': case 'Q':
        ui->confirm = CONFIRM_QUIT;
        ui->modal = MODAL_CONFIRM;
        break;
    default: break;
    }
    return true;
}
