/* overlay.c - boxes drawn over the panels: help (?), y/n confirmations
 * (cancel, quit), details of the selection (Enter), and the submit form's
 * frame. Box lines are Unicode when the locale is UTF-8, else ASCII. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ui.h"

struct rect box_draw(int h, int w, bool utf8, bool colors, const char *title)
{
    int lines, cols;
    getmaxyx(stdscr, lines, cols);
    if (h > lines)
        h = lines;
    if (w > cols)
        w = cols;
    int y = (lines - h) / 2, x = (cols - w) / 2;
    const char *hz = utf8 ? "\u2500" : "-", *vt = utf8 ? "\u2502" : "|";
    const char *c[4] = {utf8 ? "\u250c" : "+", utf8 ? "\u2510" : "+", utf8 ? "\u2514" : "+",
                        utf8 ? "\u2518" : "+"};
    unsigned frame = ui_attr(colors, UI_PAIR_HEAD) | A_BOLD;
    for (int i = 0; i < h; i++) {
        bool edge = i == 0 || i == h - 1;
        ui_put(y + i, x, 1, frame, edge ? c[i == 0 ? 0 : 2] : vt);
        for (int j = 1; j < w - 1; j++)
            ui_put(y + i, x + j, 1, edge ? frame : A_NORMAL, edge ? hz : " ");
        ui_put(y + i, x + w - 1, 1, frame, edge ? c[i == 0 ? 1 : 3] : vt);
    }
    ui_put(y, x + 2, w - 4, frame, title);
    return (struct rect){.y = y + 1, .x = x + 2, .h = h - 2, .w = w - 4};
}

/* Lines of text (separated by '\n') in a box sized to them. */
static void text_box(const struct ui *ui, const char *title, const char *text)
{
    int lines, cols, n = 0, widest = (int)strlen(title) + 4;
    getmaxyx(stdscr, lines, cols);
    for (const char *p = text; *p; n++) {
        const char *e = strchr(p, '\n');
        int len = e ? (int)(e - p) : (int)strlen(p);
        widest = len > widest ? len : widest;
        p = e ? e + 1 : p + len;
    }
    int w = widest + 4 < cols ? widest + 4 : cols, h = n + 2 < lines ? n + 2 : lines;
    struct rect in = box_draw(h, w, ui->utf8, ui->colors, title);
    const char *p = text;
    for (int i = 0; i < in.h && *p; i++) {
        const char *e = strchr(p, '\n');
        char line[512];
        int len = e ? (int)(e - p) : (int)strlen(p);
        snprintf(line, sizeof line, "%.*s", len, p);
        ui_put(in.y + i, in.x, in.w, i == n - 1 ? A_DIM : A_NORMAL, line);
        p = e ? e + 1 : p + len;
    }
}

static const char help_text[] =
    "s        submit a batch (form: classic, range, semiprimes, file)\n"
    "Tab      switch between the nodes and the batches panel\n"
    "Up/Down  select (also j/k, PgUp/PgDn, Home/End)\n"
    "d / u    drain / undrain the selected node (any node of the mesh)\n"
    "c        cancel the selected batch (asks y/n)\n"
    "f        forget the selected finished or cancelled batch and its results\n"
    "         on every node (asks y/n; as mesh forget)\n"
    "e        the event log in full: long lines wrapped, repeats counted\n"
    "Enter    details of the selection (leases and rates, first results)\n"
    "^L       redraw the screen\n"
    "In the submit form: Tab/Up/Down field, Left/Right kind, ^U clears a\n"
    "field, typing into a field just entered replaces its old text\n"
    "?        this help\n"
    "q        quit this node (asks y/n; its work is finished or handed back)\n"
    "\n"
    "any key closes this box";

/* ---- the event log in full (e) ---------------------------------------- */

/* Appends s to out wrapped at width columns; continuation lines indented
 * by indent spaces. Returns the lines written. */
static int wrap_into(char *out, size_t outsz, const char *s, int width, int indent)
{
    int lines = 0;
    size_t len = strlen(out);
    for (bool first = true; *s != '\0' || first; first = false) {
        int room = width - (first ? 0 : indent);
        int take = (int)strlen(s);
        if (take > room) {       /* break at the last space that fits */
            take = room;
            for (int k = room; k > room / 2; k--)
                if (s[k] == ' ') {
                    take = k;
                    break;
                }
        }
        int k = snprintf(out + len, outsz - len, "%*s%.*s\n", first ? 0 : indent, "", take, s);
        if (k < 0 || (size_t)k >= outsz - len)
            break;
        len += (size_t)k;
        lines++;
        s += take;
        while (*s == ' ')
            s++;
    }
    return lines;
}

/* Every event this node holds, newest at the bottom, each in full: what the
 * log panel cuts at the screen's edge, and the count of a folded repeat. */
static void events_draw(const struct ui *ui)
{
    int lines, cols;
    getmaxyx(stdscr, lines, cols);
    int width = cols - 4 > 20 ? cols - 4 : 20;
    char text[VIEW_EVENTS * 4 * 200];     /* 25 KiB: the loop thread's stack */
    text[0] = '\0';
    int n = 0;
    const struct mesh_view *s = &ui->snap;
    for (size_t i = 0; ui->have_snap && i < s->n_events; i++) {
        const struct view_event *e = &s->events[i];
        char line[400], times[32];
        if (e->repeat > 1)
            snprintf(times, sizeof times, " (%u times since %s)", e->repeat, e->first_time);
        else
            times[0] = '\0';
        snprintf(line, sizeof line, "%s %s %s: %s%s", e->time, e->kind, e->node, e->text,
                 times);
        n += wrap_into(text, sizeof text, line, width - 2, 9);
    }
    if (n == 0)
        snprintf(text, sizeof text, "(no events yet)\n");
    /* the newest that fit: drop whole lines from the top */
    const char *p = text;
    for (int skip = n - (lines - 4); skip > 0; skip--)
        p = strchr(p, '\n') + 1;
    char shown[sizeof text + 64];
    snprintf(shown, sizeof shown, "%sany key closes this box", p);
    text_box(ui, " Events ", shown);
}

static void confirm_draw(const struct ui *ui)
{
    char text[256];
    const char *title = " Quit ";
    if (ui->confirm == CONFIRM_CANCEL) {
        snprintf(text, sizeof text, "Cancel batch %" PRIu64 "? Results so far are kept.\n\n"
                 "y: cancel it   any other key: keep it", ui->confirm_batch);
        title = " Cancel batch ";
    } else if (ui->confirm == CONFIRM_FORGET) {
        snprintf(text, sizeof text, "Forget batch %" PRIu64 "? Its results are dropped on\n"
                 "every node of the mesh; this cannot be undone.\n\n"
                 "y: forget it   any other key: keep it", ui->confirm_batch);
        title = " Forget batch ";
    } else {
        snprintf(text, sizeof text, "Quit this node? Its workers finish or hand back\n"
                 "their numbers; the mesh carries on.\n\ny: quit   any other key: stay");
    }
    text_box(ui, title, text);
}

void overlay_draw(const struct ui *ui)
{
    switch (ui->modal) {
    case MODAL_FORM: form_draw(ui); break;
    case MODAL_CONFIRM: confirm_draw(ui); break;
    case MODAL_HELP: text_box(ui, " Keys ", help_text); break;
    case MODAL_DETAILS: text_box(ui, " Details ", ui->details); break;
    case MODAL_EVENTS: events_draw(ui); break;
    default: break;
    }
}

/* ---- details ------------------------------------------------------------ */

static bool self_leads(const struct mesh_view *s)
{
    for (size_t i = 0; i < s->n_nodes; i++)
        if (s->nodes[i].self)
            return strcmp(s->nodes[i].role, "leader") == 0;
    return false;
}

static void node_details(struct ui *ui, const struct view_node *n)
{
    char rate[32], heard[32];
    fmt_rate(rate, sizeof rate, n->rate);
    fmt_ago(heard, sizeof heard, n->last_heard_s, n->self);
    float r[HIST_SAMPLES];
    size_t k = hist_node_rates(&ui->hist, n->id, r, HIST_SAMPLES);
    float top = 0, sum = 0;
    for (size_t i = 0; i < k; i++) {
        sum += r[i];
        top = r[i] > top ? r[i] : top;
    }
    snprintf(ui->details, sizeof ui->details,
             "Node     %s%s\nId       %s\nAddress  %s\nRole     %s\nState    %s\n"
             "Link     %s, last heard %s\nWorkers  %u busy of %u\nLeases   %u%s\n"
             "Rate     %s now, %.1f/s average and %.1f/s peak over %zus\n"
             "Done     %" PRIu64 " numbers, %" PRIu64 " unfactored\n\nany key closes this box",
             n->name, n->self ? " (this node)" : "", n->id, n->addr[0] ? n->addr : "-",
             n->role, n->state, n->self ? "self" : n->connected ? "connected" : "down", heard,
             n->busy, n->workers, n->leases,
             self_leads(&ui->snap) ? "" : " (the leader knows them)", rate,
             k ? sum / (float)k : 0.0f, top, k, n->done, n->unfactored);
}

/* Its numbers on a worker past 140 bits (src/node/hard.h), with where
 * they are: one line each, named by node; "" when none. */
static void hard_lines(const struct mesh_view *s, uint64_t batch, char *out, size_t outsz)
{
    size_t at = 0;
    out[0] = '\0';
    for (size_t i = 0; i < s->n_hard && at < outsz; i++) {
        const struct view_hard *h = &s->hard[i];
        if (h->batch != batch)
            continue;
        const char *node = h->node;
        for (size_t k = 0; k < s->n_nodes; k++)
            if (strcmp(s->nodes[k].id, h->node) == 0)
                node = s->nodes[k].name;
        char line[160];
        fmt_hard(line, sizeof line, h);
        int n = snprintf(out + at, outsz - at, "%s%s  on %s worker %u\n",
                         at == 0 ? "Long numbers:\n  " : "  ", line, node, h->worker);
        at = n < 0 ? outsz : at + (size_t)n;
    }
    if (at > 0 && at < outsz)
        snprintf(out + at, outsz - at, "\n");
}

/* Its numbers sieved by the whole mesh (a routed one's, or a spread
 * batch's own), appended to out: counts mesh-wide and the nodes sieving. */
static void spread_lines(const struct mesh_view *s, uint64_t batch, char *out, size_t outsz)
{
    size_t at = strlen(out);
    for (size_t i = 0; i < s->n_spread && at < outsz; i++) {
        const struct view_spread *v = &s->spread[i];
        if (v->batch != batch && v->for_batch != batch)
            continue;
        struct view_hard h = {.index = v->index, .bits = v->bits, .found = v->found,
                              .needed = v->needed, .rate = v->rate,
                              .eta_known = v->eta_known, .eta_s = v->eta_s};
        memcpy(h.phase, v->phase, sizeof h.phase);
        char line[160], names[200] = "";
        fmt_hard(line, sizeof line, &h);
        for (unsigned k = 0, len = 0; k < v->n_nodes && len < sizeof names; k++) {
            const char *name = v->nodes[k];
            for (size_t j = 0; j < s->n_nodes; j++)
                if (strcmp(s->nodes[j].id, v->nodes[k]) == 0)
                    name = s->nodes[j].name;
            int w = snprintf(names + len, sizeof names - len, "%s%s", k ? " " : "", name);
            len = w < 0 ? (unsigned)sizeof names : len + (unsigned)w;
        }
        int n = snprintf(out + at, outsz - at, "Whole mesh:\n  %s  spread batch %" PRIu64
                         " on %s\n\n", line, v->batch, v->n_nodes ? names : "-");
        at = n < 0 ? outsz : at + (size_t)n;
    }
}

static void batch_details(struct ui *ui, const struct view_batch *b)
{
    char rate[32], eta[32], chunk[32], first[2048] = "", hard[1536];
    if (b->chunk == 0)
        snprintf(chunk, sizeof chunk, "adaptive");
    else
        snprintf(chunk, sizeof chunk, "%u", b->chunk);
    double r = hist_batch_rate(&ui->hist, b->id);
    fmt_rate(rate, sizeof rate, r);
    fmt_eta(eta, sizeof eta, r > 0 ? (double)(b->total - b->done) / r : -1);
    if (ui->act.batch_details)
        ui->act.batch_details(ui->act.ud, b->id, first, sizeof first);
    hard_lines(&ui->snap, b->id, hard, sizeof hard);
    spread_lines(&ui->snap, b->id, hard, sizeof hard);
    snprintf(ui->details, sizeof ui->details,
             "Batch    %" PRIu64 "  %s\nState    %s\nDone     %" PRIu64 " of %" PRIu64
             " (%" PRIu64 " unfactored)\nRate     %s, ETA %s\nChunk    %s numbers per job\n"
             "\n%sFirst results:\n%s\nany key closes this box",
             b->id, b->name, b->state, b->done, b->total, b->unfactored, rate,
             strcmp(b->state, "running") == 0 ? eta : "-", chunk, hard,
             first[0] ? first : "(none yet)\n");
    ui->details_batch = b->id;
}

void details_refresh(struct ui *ui)
{
    if (ui->modal != MODAL_DETAILS || ui->details_batch == 0)
        return;
    for (size_t i = 0; i < ui->snap.n_batches; i++)
        if (ui->snap.batches[i].id == ui->details_batch) {
            batch_details(ui, &ui->snap.batches[i]);
            return;
        }
}

void details_open(struct ui *ui)
{
    if (!ui->have_snap)
        return;
    ui->details_batch = 0;
    if (ui->focus == FOCUS_NODES && ui->sel_node >= 0 && ui->sel_node < (int)ui->snap.n_nodes)
        node_details(ui, &ui->snap.nodes[ui->sel_node]);
    else if (ui->focus == FOCUS_BATCHES && ui->sel_batch >= 0 &&
             ui->sel_batch < (int)ui->snap.n_batches)
        batch_details(ui, &ui->snap.batches[ui->sel_batch]);
    else
        return;
    ui->modal = MODAL_DETAILS;
}
