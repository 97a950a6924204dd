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

#include "dashboard.h"
#include "panels.h"

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
    struct ui_snapshot snap;
    int selected;            /* batch row, -1 none */
    uint64_t selected_id;    /* keeps the selection on its batch across updates */
    char status[256];
    bool status_error;
};

static void redraw(struct ui *ui)
{
    if (ui->stopped)
        return;
    struct ui_view v = {
        .snap = ui->have_snap ? &ui->snap : NULL,
        .colors = ui->colors,
        .utf8 = ui->utf8,
        .selected = ui->selected,
        .status = ui->status,
        .status_error = ui->status_error,
    };
    ui_draw(&v);
}

static void set_status(struct ui *ui, bool error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_status(struct ui *ui, bool error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ui->status, sizeof ui->status, fmt, ap);
    va_end(ap);
    ui->status_error = error;
}

/* ---- selection ------------------------------------------------------- */

/* After a new snapshot: keep the selection on the same batch id; else keep
 * the row index, clamped. */
static void fix_selection(struct ui *ui)
{
    int n = (int)ui->snap.n_batches;
    if (n == 0) {
        ui->selected = -1;
        return;
    }
    for (int i = 0; i < n; i++)
        if (ui->selected >= 0 && ui->snap.batches[i].id == ui->selected_id) {
            ui->selected = i;
            return;
        }
    if (ui->selected < 0)
        ui->selected = 0;
    if (ui->selected >= n)
        ui->selected = n - 1;
    ui->selected_id = ui->snap.batches[ui->selected].id;
}

static void move_selection(struct ui *ui, int delta)
{
    int n = ui->have_snap ? (int)ui->snap.n_batches : 0;
    if (n == 0)
        return;
    int s = ui->selected + delta;
    if (s < 0)
        s = 0;
    if (s >= n)
        s = n - 1;
    ui->selected = s;
    ui->selected_id = ui->snap.batches[s].id;
}

/* ---- actions ---------------------------------------------------------- */

static void do_submit(struct ui *ui, const char *kind, const char *what)
{
    char err[256] = "";
    if (!ui->act.submit) {
        set_status(ui, true, "submit: not available");
        return;
    }
    int id = ui->act.submit(ui->act.ud, kind, err, sizeof err);
    if (id > 0)
        set_status(ui, false, "submitted batch %d (%s)", id, what);
    else if (id == 0) /* sent to the leader: the log shows the batch id */
        set_status(ui, false, "submitting %s", what);
    else
        set_status(ui, true, "submit %s failed: %s", kind, err[0] ? err : "unknown error");
}

static void do_cancel(struct ui *ui)
{
    if (!ui->have_snap || ui->selected < 0 || ui->selected >= (int)ui->snap.n_batches) {
        set_status(ui, true, "cancel: no batch selected");
        return;
    }
    uint64_t id = ui->snap.batches[ui->selected].id;
    char err[256] = "";
    if (!ui->act.cancel)
        set_status(ui, true, "cancel: not available");
    else if (ui->act.cancel(ui->act.ud, id, err, sizeof err) == 0)
        set_status(ui, false, "cancelling batch %" PRIu64, id);
    else
        set_status(ui, true, "cancel batch %" PRIu64 " failed: %s", id,
                   err[0] ? err : "unknown error");
}

static void do_drain(struct ui *ui)
{
    /* toggle from what the node last reported about itself */
    bool active = !ui->have_snap || ui->snap.n_nodes == 0 ||
                  strcmp(ui->snap.nodes[0].state, "active") == 0;
    if (ui->act.set_drain)
        ui->act.set_drain(ui->act.ud, active);
    set_status(ui, false, active ? "draining: no new work for this node"
                                 : "undrained: this node takes work again");
    /* show the new state at once, before the next snapshot */
    if (ui->have_snap && ui->snap.n_nodes > 0)
        snprintf(ui->snap.nodes[0].state, sizeof ui->snap.nodes[0].state, "%s",
                 active ? "draining" : "active");
}

/* Returns false once the ui must not be touched any more (quit). */
static bool on_key(struct ui *ui, int ch)
{
    switch (ch) {
    case 's': do_submit(ui, "classic", "classic, 999 numbers"); break;
    case 'b': do_submit(ui, "semiprimes64", "1000 64-bit semiprimes"); break;
    case 'B': do_submit(ui, "semiprimes100", "100 100-bit semiprimes"); break;
    case 'c': do_cancel(ui); break;
    case 'd': do_drain(ui); break;
    case KEY_UP: case 'k': move_selection(ui, -1); break;
    case KEY_DOWN: case 'j': move_selection(ui, 1); break;
    case KEY_PPAGE: move_selection(ui, -10); break;
    case KEY_NPAGE: move_selection(ui, 10); break;
    case KEY_HOME: move_selection(ui, -UI_MAX_BATCHES); break;
    case KEY_END: move_selection(ui, UI_MAX_BATCHES); break;
    case 12: /* ^L */ clearok(curscr, TRUE); break;
    case 'q': case 'Q':
        set_status(ui, false, "quitting: stopping the node...");
        redraw(ui);
        if (ui->act.quit)
            ui->act.quit(ui->act.ud);   /* may call ui_stop() */
        return false;
    default: break;                     /* KEY_RESIZE and the rest */
    }
    return true;
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
        if (!on_key(ui, ch))
            return;
        if (ui->stopped)
            return;
    }
    if (any)
        redraw(ui);
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
    redraw(ui);
}

/* ---- lifecycle -------------------------------------------------------- */

static void init_colors(struct ui *ui)
{
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

int ui_start(struct ui **out, uv_loop_t *loop, const struct ui_actions *actions)
{
    *out = NULL;
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
        return -ENOTTY;
    struct ui *ui = calloc(1, sizeof *ui);
    if (!ui)
        return -ENOMEM;
    ui->loop = loop;
    ui->act = *actions;
    ui->selected = -1;

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
    init_colors(ui);

    rc = uv_poll_init(loop, &ui->keys, STDIN_FILENO);
    if (rc < 0) {
        endwin();
        delscreen(ui->screen);
        uv_close((uv_handle_t *)&ui->winch, free_ui_on_close);
        return rc;
    }
    ui->keys.data = ui;
    uv_poll_start(&ui->keys, UV_READABLE, on_keys);
    redraw(ui);
    *out = ui;
    return 0;
}

/* Copies the snapshot, making sure every string is terminated and every
 * count is in range whatever the node (or a peer) put there. */
static void copy_snapshot(struct ui_snapshot *d, const struct ui_snapshot *s)
{
    memcpy(d, s, sizeof *d);
#define TERM(a) ((a)[sizeof(a) - 1] = '\0')
    TERM(d->leader);
    if (d->n_nodes > UI_MAX_NODES)
        d->n_nodes = UI_MAX_NODES;
    if (d->n_batches > UI_MAX_BATCHES)
        d->n_batches = UI_MAX_BATCHES;
    if (d->n_log > UI_LOG_LINES)
        d->n_log = UI_LOG_LINES;
    for (size_t i = 0; i < d->n_nodes; i++) {
        TERM(d->nodes[i].id);
        TERM(d->nodes[i].name);
        TERM(d->nodes[i].role);
        TERM(d->nodes[i].state);
    }
    for (size_t i = 0; i < d->n_batches; i++) {
        TERM(d->batches[i].name);
        TERM(d->batches[i].state);
    }
    for (size_t i = 0; i < d->n_log; i++)
        TERM(d->log[i]);
#undef TERM
}

void ui_update(struct ui *ui, const struct ui_snapshot *snap)
{
    if (!ui || ui->stopped || !snap)
        return;
    copy_snapshot(&ui->snap, snap);
    ui->have_snap = true;
    fix_selection(ui);
    redraw(ui);
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
    endwin();
    delscreen(ui->screen);
    ui->screen = NULL;
    ui->open_handles = 2;
    uv_close((uv_handle_t *)&ui->keys, on_closed);
    uv_close((uv_handle_t *)&ui->winch, on_closed);
}
