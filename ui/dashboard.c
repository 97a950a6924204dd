/* dashboard.c - lifecycle of the dashboard, keys and actions.
 *
 * ncurses keeps its screen state in globals of its own (unavoidable, and
 * the reason there is one dashboard per process); all of the dashboard's
 * own state lives in struct ui. */
#include <curses.h>
#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <termios.h>

#include "ui.h"

/* The terminal's state before the dashboard, for the fatal-signal
 * handler: a crashing node must not leave the user's terminal raw and in
 * the alternate screen. Signal handlers can reach nothing else, so this is
 * the one file-scope variable (ncurses has its own globals anyway); it is
 * written once in ui_start and only read by the handler. */
static struct {
    bool saved;
    struct termios tio;
} term_before;

static void on_fatal_signal(int sig)
{
    /* async-signal-safe only: leave the alternate screen, show the
     * cursor, reset attributes, restore the tty modes, then die of sig */
    static const char reset[] = "\033[0m\033[?25h\033[?1049l\r\n";
    if (write(STDOUT_FILENO, reset, sizeof reset - 1) < 0)
        (void)0;
    if (term_before.saved)
        tcsetattr(STDIN_FILENO, TCSANOW, &term_before.tio);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void catch_fatal_signals(void)
{
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    struct sigaction sa = {.sa_handler = on_fatal_signal, .sa_flags = SA_RESETHAND};
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old;
        /* keep a handler someone else installed (the sanitizers') */
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL)
            sigaction(sigs[i], &sa, NULL);
    }
}

void ui_redraw(struct ui *ui)
{
    if (ui->stopped)
        return;
    struct ui_view v = {
        .snap = ui->have_snap ? &ui->snap : NULL,
        .hist = &ui->hist,
        .colors = ui->colors,
        .utf8 = ui->utf8,
        .focus = ui->focus,
        .sel_node = ui->sel_node,
        .selected = ui->sel_batch,
        .status = ui->status,
        .status_error = ui->status_error,
    };
    ui_draw(&v);
    overlay_draw(ui);
    refresh();
}

void ui_set_status(struct ui *ui, bool error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ui->status, sizeof ui->status, fmt, ap);
    va_end(ap);
    ui->status_error = error;
}

/* ---- selection ------------------------------------------------------- */

/* After a new snapshot: keep each selection on the same node and batch;
 * else keep the row, clamped. The first selected node is this one (so d
 * drains this node unless another is chosen). */
void ui_fix_selection(struct ui *ui)
{
    int n = (int)ui->snap.n_nodes, found = -1;
    for (int i = 0; i < n; i++)
        if (ui->sel_node_id[0] ? strcmp(ui->snap.nodes[i].id, ui->sel_node_id) == 0
                               : ui->snap.nodes[i].self)
            found = i;
    ui->sel_node = found >= 0 ? found : ui->sel_node < 0 ? 0 : ui->sel_node;
    if (ui->sel_node >= n)
        ui->sel_node = n - 1;
    if (ui->sel_node >= 0)
        snprintf(ui->sel_node_id, sizeof ui->sel_node_id, "%s",
                 ui->snap.nodes[ui->sel_node].id);

    n = (int)ui->snap.n_batches;
    uint64_t newest = 0;
    for (int i = 0; i < n; i++)
        newest = ui->snap.batches[i].id > newest ? ui->snap.batches[i].id : newest;
    if (newest > ui->newest_batch && ui->newest_batch != 0) {
        ui->sel_batch_id = newest;      /* a new batch: the selection follows */
        ui->sel_batch = 0;
    }
    if (newest > ui->newest_batch)
        ui->newest_batch = newest;
    found = -1;
    for (int i = 0; i < n && ui->sel_batch >= 0; i++)
        if (ui->snap.batches[i].id == ui->sel_batch_id)
            found = i;
    ui->sel_batch = found >= 0 ? found : ui->sel_batch < 0 ? 0 : ui->sel_batch;
    if (ui->sel_batch >= n)
        ui->sel_batch = n - 1;
    if (ui->sel_batch >= 0)
        ui->sel_batch_id = ui->snap.batches[ui->sel_batch].id;
}

static const struct view_batch *batch_by_id(const struct mesh_view *s, uint64_t id)
{
    for (size_t i = 0; i < s->n_batches; i++)
        if (s->batches[i].id == id)
            return &s->batches[i];
    return NULL;
}

/* A status line tells what is true now: "submitting" until the batch is
 * seen, then its id, then its end; never a stale "submitting" after the
 * batch is done. */
void ui_follow_status(struct ui *ui, uint64_t newest_before)
{
    /* the submitted batch: a new one (id above those seen before) with
     * its name; another node's submit in between is not taken for it */
    for (size_t i = 0; ui->submit_pending && i < ui->snap.n_batches; i++) {
        const struct view_batch *b = &ui->snap.batches[i];
        if (b->id <= newest_before || strcmp(b->name, ui->submit_name) != 0)
            continue;
        ui->submit_pending = false;
        ui->watch_batch = b->id;
        ui_set_status(ui, false, "batch %" PRIu64 " submitted (%s)", b->id,
                      b->name[0] ? b->name : "unnamed");
    }
    const struct view_batch *b = ui->watch_batch ? batch_by_id(&ui->snap, ui->watch_batch)
                                               : NULL;
    if (b == NULL || strcmp(b->state, "running") == 0)
        return;
    ui_set_status(ui, false, "batch %" PRIu64 " (%s) %s: %" PRIu64 "/%" PRIu64
                  " numbers, %" PRIu64 " unfactored", b->id, b->name[0] ? b->name : "unnamed",
                  b->state, b->done, b->total, b->unfactored);
    ui->watch_batch = 0;
}

static void on_keys(uv_poll_t *h, int status, int events)
{
    (void)events;
    struct ui *ui = h->data;
    if (ui->stopped)
        return;
    if (status < 0) {                   /* terminal gone: stop reading */
        uv_poll_stop(h);
        return;
    }
    bool any = false;
    for (int ch; (ch = getch()) != ERR;) {
        any = true;
        if (!ui_on_key(ui, ch))
            return;
        if (ui->stopped)
            return;
    }
    if (any)
        ui_redraw(ui);
}

static void on_winch(uv_signal_t *h, int signum)
{
    (void)signum;
    struct ui *ui = h->data;
    if (ui->stopped)
        return;
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
        resizeterm(ws.ws_row, ws.ws_col);
    else {
        endwin();
        refresh();
    }
    clearok(curscr, TRUE);
    ui_redraw(ui);
}

/* ---- lifecycle -------------------------------------------------------- */

static void init_colors(struct ui *ui, bool no_color)
{
    /* https://no-color.org: set and not empty means no colour */
    const char *nc = getenv("NO_COLOR");
    if (no_color || (nc != NULL && nc[0] != '\0')) {
        ui->colors = false;
        return;
    }
    ui->colors = has_colors() && start_color() == OK;
    if (!ui->colors)
        return;
    short bg = use_default_colors() == OK ? -1 : COLOR_BLACK;
    init_pair(UI_PAIR_OK, COLOR_GREEN, bg);
    init_pair(UI_PAIR_BAD, COLOR_RED, bg);
    init_pair(UI_PAIR_WARN, COLOR_YELLOW, bg);
    init_pair(UI_PAIR_TITLE, COLOR_BLACK, COLOR_GREEN);
    init_pair(UI_PAIR_HEAD, COLOR_CYAN, bg);
    init_pair(UI_PAIR_KEY, COLOR_BLACK, COLOR_CYAN);
    init_pair(UI_PAIR_SELECT, COLOR_BLACK, COLOR_CYAN);
}

/* A start-up failure after the SIGWINCH handle exists: the ui is freed
 * once libuv is done with the handle inside it. */
static void free_ui_on_close(uv_handle_t *h)
{
    free(h->data);
}

int ui_start(struct ui **out, uv_loop_t *loop, const struct ui_actions *actions,
             const struct ui_options *options)
{
    *out = NULL;
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
        return -ENOTTY;
    struct ui *ui = calloc(1, sizeof *ui);
    if (!ui)
        return -ENOMEM;
    ui->loop = loop;
    ui->act = *actions;
    ui->sel_node = ui->sel_batch = -1;

    /* ncursesw needs the character-type locale for UTF-8; only LC_CTYPE,
     * so that number formatting elsewhere in the node is unchanged. */
    setlocale(LC_CTYPE, "");
    ui->utf8 = MB_CUR_MAX > 1;

    /* SIGWINCH through libuv, installed before ncurses looks: ncurses only
     * installs its own handlers over default dispositions. Its SIGINT and
     * SIGTERM handlers would exit() behind the node's back: keep whatever
     * the node has. */
    int rc = uv_signal_init(loop, &ui->winch);
    if (rc < 0) {
        free(ui);
        return rc;
    }
    ui->winch.data = ui;
    uv_signal_start(&ui->winch, on_winch, SIGWINCH);
    struct sigaction old_int, old_term;
    sigaction(SIGINT, NULL, &old_int);
    sigaction(SIGTERM, NULL, &old_term);

    term_before.saved = tcgetattr(STDIN_FILENO, &term_before.tio) == 0;
    ui->screen = newterm(NULL, stdout, stdin);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (!ui->screen) {
        uv_close((uv_handle_t *)&ui->winch, free_ui_on_close);
        return -ENOTTY;
    }
    set_term(ui->screen);
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    init_colors(ui, options != NULL && options->no_color);

    rc = uv_poll_init(loop, &ui->keys, STDIN_FILENO);
    if (rc < 0) {
        endwin();
        delscreen(ui->screen);
        uv_close((uv_handle_t *)&ui->winch, free_ui_on_close);
        return rc;
    }
    ui->keys.data = ui;
    uv_poll_start(&ui->keys, UV_READABLE, on_keys);
    catch_fatal_signals();
    ui_redraw(ui);
    *out = ui;
    return 0;
}

/* Stable order for the node table: by name, then id (ids are unique). */
static int node_order(const void *a, const void *b)
{
    const struct view_node *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : strcmp(x->id, y->id);
}

/* The batches panel's order: running batches first, then the finished
 * and cancelled ones; newest first in each, so that a new batch and the
 * work in progress are on screen however many batches the mesh keeps. */
static int batch_order(const void *a, const void *b)
{
    const struct view_batch *x = a, *y = b;
    bool rx = strcmp(x->state, "running") == 0, ry = strcmp(y->state, "running") == 0;
    if (rx != ry)
        return rx ? -1 : 1;
    return x->id > y->id ? -1 : x->id < y->id;
}

/* Copies the snapshot, making sure every string is terminated and every
 * count is in range whatever the node (or a peer) put there. */
static void copy_snapshot(struct mesh_view *d, const struct mesh_view *s)
{
    memcpy(d, s, sizeof *d);
#define TERM(a) ((a)[sizeof(a) - 1] = '\0')
    TERM(d->leader);
    if (d->n_nodes > VIEW_MAX_NODES)
        d->n_nodes = VIEW_MAX_NODES;
    if (d->n_batches > VIEW_MAX_BATCHES)
        d->n_batches = VIEW_MAX_BATCHES;
    if (d->n_events > VIEW_EVENTS)
        d->n_events = VIEW_EVENTS;
    if (d->n_hard > VIEW_MAX_HARD)
        d->n_hard = VIEW_MAX_HARD;
    for (size_t i = 0; i < d->n_hard; i++) {
        TERM(d->hard[i].node);
        TERM(d->hard[i].phase);
    }
    if (d->n_spread > VIEW_MAX_SPREAD)
        d->n_spread = VIEW_MAX_SPREAD;
    for (size_t i = 0; i < d->n_spread; i++) {
        TERM(d->spread[i].node);
        TERM(d->spread[i].phase);
        if (d->spread[i].n_nodes > VIEW_SPREAD_NODES)
            d->spread[i].n_nodes = VIEW_SPREAD_NODES;
        for (unsigned k = 0; k < d->spread[i].n_nodes; k++)
            TERM(d->spread[i].nodes[k]);
    }
    for (size_t i = 0; i < d->n_nodes; i++) {
        TERM(d->nodes[i].id);
        TERM(d->nodes[i].name);
        TERM(d->nodes[i].role);
        TERM(d->nodes[i].state);
        TERM(d->nodes[i].addr);
    }
    for (size_t i = 0; i < d->n_batches; i++) {
        TERM(d->batches[i].name);
        TERM(d->batches[i].state);
    }
    for (size_t i = 0; i < d->n_events; i++) {
        TERM(d->events[i].time);
        TERM(d->events[i].kind);
        TERM(d->events[i].node);
        TERM(d->events[i].text);
        TERM(d->events[i].first_time);
    }
#undef TERM
    qsort(d->nodes, d->n_nodes, sizeof d->nodes[0], node_order);
    qsort(d->batches, d->n_batches, sizeof d->batches[0], batch_order);
}

void ui_update(struct ui *ui, const struct mesh_view *snap)
{
    if (!ui || ui->stopped || !snap)
        return;
    copy_snapshot(&ui->snap, snap);
    ui->have_snap = true;
    uint64_t newest_before = ui->newest_batch;
    ui_fix_selection(ui);
    ui_follow_status(ui, newest_before);
    uv_update_time(ui->loop);
    hist_sample(&ui->hist, &ui->snap, (double)uv_now(ui->loop) / 1000.0);
    details_refresh(ui);
    ui_redraw(ui);
}

static void on_closed(uv_handle_t *h)
{
    struct ui *ui = h->data;
    if (--ui->open_handles > 0)
        return;
    void (*done)(void *) = ui->done;
    void *ud = ui->done_ud;
    free(ui);
    if (done)
        done(ud);
}

void ui_stop(struct ui *ui, void (*done)(void *ud), void *ud)
{
    if (!ui || ui->stopped)
        return;
    ui->stopped = true;
    ui->done = done;
    ui->done_ud = ud;
    curs_set(1);                 /* the shell gets its cursor back */
    endwin();
    delscreen(ui->screen);
    ui->screen = NULL;
    ui->open_handles = 2;
    uv_close((uv_handle_t *)&ui->keys, on_closed);
    uv_close((uv_handle_t *)&ui->winch, on_closed);
}
