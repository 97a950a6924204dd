/* form.c - the submit form (key s): the classic workload, a range, random
 * semiprimes or a file of numbers. Bad input is shown in the form and
 * never submitted; an empty field takes the default shown beside it. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/submit_rules.h"
#include "ui.h"

/* dflt: the hint shown in an empty field (a number: that default's value
 * from submit_rules.h, written by field_hint). */
struct field_def {
    const char *label, *dflt;
    uint64_t value;
};

static const struct {
    const char *name;
    int n;
    struct field_def f[FORM_FIELDS];
} kinds[UI_SUBMIT_KINDS] = {
    [UI_SUBMIT_CLASSIC] = {"Classic", 0, {{0}}},
    [UI_SUBMIT_RANGE] = {"Range", 3, {{"Start", SUBMIT_RANGE_START, 0},
                                      {"Count", NULL, SUBMIT_RANGE_COUNT},
                                      {"Step", NULL, SUBMIT_RANGE_STEP}}},
    [UI_SUBMIT_SEMIPRIMES] = {"Semiprimes", 3, {{"Bits", NULL, SUBMIT_SEMIPRIME_BITS},
                                                {"Count", NULL, SUBMIT_SEMIPRIME_COUNT},
                                                {"Seed", "fresh", 0}}},
    [UI_SUBMIT_FILE] = {"File", 1, {{"Path", "one number per line", 0}}},
};

/* A decimal in [lo, hi] (submit_rules.h's wording when not); empty gives
 * dflt. */
static int parse_u64(const char *text, uint64_t dflt, uint64_t lo, uint64_t hi,
                     const char *what, uint64_t *out, char *err, size_t errlen)
{
    if (text[0] == '\0') {
        *out = dflt;
        return 0;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0)
        return submit_refuse(what, lo, hi, err, errlen);
    *out = v;
    return submit_check(what, v, lo, hi, err, errlen);
}

static int parse_range(const char *const f[], struct ui_submit *r, char *err, size_t errlen)
{
    const char *start = f[0][0] ? f[0] : SUBMIT_RANGE_START;
    size_t len = strlen(start);
    if (len > SUBMIT_MAX_START_DIGITS || strspn(start, "0123456789") != len) {
        snprintf(err, errlen, "start must be a whole number below 2^1024");
        return -1;
    }
    snprintf(r->start, sizeof r->start, "%s", start);
    if (parse_u64(f[1], SUBMIT_RANGE_COUNT, 1, SUBMIT_MAX_COUNT, "count", &r->count, err,
                  errlen) != 0 ||
        parse_u64(f[2], SUBMIT_RANGE_STEP, 1, SUBMIT_MAX_STEP, "step", &r->step, err,
                  errlen) != 0)
        return -1;
    snprintf(r->name, sizeof r->name, "range %.20s%s x%" PRIu64, start, len > 20 ? "..." : "",
             r->count);
    return 0;
}

static int parse_semiprimes(const char *const f[], struct ui_submit *r, char *err,
                            size_t errlen)
{
    uint64_t bits;
    if (parse_u64(f[0], SUBMIT_SEMIPRIME_BITS, SUBMIT_MIN_BITS, SUBMIT_MAX_BITS, "bits", &bits,
                  err, errlen) != 0 ||
        parse_u64(f[1], SUBMIT_SEMIPRIME_COUNT, 1, SUBMIT_MAX_COUNT, "count", &r->count, err,
                  errlen) != 0 ||
        parse_u64(f[2], 0, 0, SUBMIT_MAX_SEED, "seed", &r->seed, err, errlen) != 0)
        return -1;
    r->fresh_seed = f[2][0] == '\0';   /* empty: the node draws a fresh one */
    r->bits = (unsigned)bits;
    snprintf(r->name, sizeof r->name, "%" PRIu64 " x %u-bit semiprimes", r->count, r->bits);
    return 0;
}

int ui_submit_parse(enum ui_submit_kind kind, const char *const fields[4],
                    struct ui_submit *req, char *err, size_t errlen)
{
    *req = (struct ui_submit){.kind = kind};
    switch (kind) {
    case UI_SUBMIT_CLASSIC:
        snprintf(req->name, sizeof req->name, "classic");
        return 0;
    case UI_SUBMIT_RANGE:
        return parse_range(fields, req, err, errlen);
    case UI_SUBMIT_SEMIPRIMES:
        return parse_semiprimes(fields, req, err, errlen);
    case UI_SUBMIT_FILE:
        if (fields[0][0] == '\0') {
            snprintf(err, errlen, "Path: give the file's path");
            return -1;
        }
        snprintf(req->path, sizeof req->path, "%s", fields[0]);
        const char *base = strrchr(fields[0], '/');
        snprintf(req->name, sizeof req->name, "%s", base && base[1] ? base + 1 : fields[0]);
        return 0;
    default:
        snprintf(err, errlen, "unknown kind");
        return -1;
    }
}

void form_open(struct ui *ui)
{
    ui->form.field = 0;
    ui->form.replace = true;
    ui->form.error[0] = '\0';
    ui->modal = MODAL_FORM;
}

static void submit(struct ui *ui)
{
    struct ui_form *f = &ui->form;
    const char *fields[4] = {f->text[f->kind][0], f->text[f->kind][1], f->text[f->kind][2],
                             ""};
    struct ui_submit req;
    char err[200] = "";
    if (ui_submit_parse(f->kind, fields, &req, err, sizeof err) != 0) {
        snprintf(f->error, sizeof f->error, "%s", err);
        return;
    }
    int id = ui->act.submit ? ui->act.submit(ui->act.ud, &req, err, sizeof err) : -1;
    if (id < 0) {
        snprintf(f->error, sizeof f->error, "%s", err[0] ? err : "submit not available");
        return;
    }
    ui->modal = MODAL_NONE;
    ui->submit_pending = id == 0;
    snprintf(ui->submit_name, sizeof ui->submit_name, "%s", req.name);
    ui->watch_batch = id > 0 ? (uint64_t)id : 0;
    if (id > 0)
        ui_set_status(ui, false, "batch %d submitted (%s)", id, req.name);
    else   /* sent to the leader: ui_follow_status tells the id when seen */
        ui_set_status(ui, false, "submitting %s...", req.name);
}

/* Typing into a field just entered replaces what it held (the last
 * submit's value, shown selected); editing keys keep it. */
static void edit(struct ui_form *f, int ch)
{
    char *t = f->text[f->kind][f->field - 1];
    if (f->replace && ch >= 0x20 && ch < 0x7f)
        t[0] = '\0';
    f->replace = false;
    size_t len = strlen(t);
    if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && len > 0)
        t[len - 1] = '\0';
    else if (ch == 21)                  /* ^U: clear the field */
        t[0] = '\0';
    else if (ch >= 0x20 && ch < 0x7f && len + 1 < FORM_TEXT) {
        t[len] = (char)ch;
        t[len + 1] = '\0';
    }
}

void form_key(struct ui *ui, int ch)
{
    struct ui_form *f = &ui->form;
    int n = kinds[f->kind].n + 1;       /* rows: the kind and its fields */
    f->error[0] = '\0';
    if (ch == 27) {                     /* Esc */
        ui->modal = MODAL_NONE;
        ui_set_status(ui, false, "submit cancelled");
    } else if (ch == '\r' || ch == '\n' || ch == KEY_ENTER) {
        submit(ui);
    } else if (ch == '\t' || ch == KEY_DOWN) {
        f->field = (f->field + 1) % n;
        f->replace = true;
    } else if (ch == KEY_BTAB || ch == KEY_UP) {
        f->field = (f->field + n - 1) % n;
        f->replace = true;
    } else if (f->field == 0 && (ch == KEY_LEFT || ch == KEY_RIGHT)) {
        int d = ch == KEY_RIGHT ? 1 : UI_SUBMIT_KINDS - 1;
        f->kind = (enum ui_submit_kind)((f->kind + d) % UI_SUBMIT_KINDS);
    } else if (f->field == 0 && ch >= '1' && ch < '1' + UI_SUBMIT_KINDS) {
        f->kind = (enum ui_submit_kind)(ch - '1');
    } else if (f->field > 0) {
        edit(f, ch);
    }
}

static void draw_kinds(const struct ui *ui, const struct rect *in)
{
    const struct ui_form *f = &ui->form;
    bool on = f->field == 0;
    int x = in->x + ui_put(in->y, in->x, in->w, A_BOLD, on ? "> Kind: " : "  Kind: ");
    for (int k = 0; k < UI_SUBMIT_KINDS && x < in->x + in->w; k++) {
        char label[32];
        snprintf(label, sizeof label, k == (int)f->kind ? "[%d %s]" : " %d %s ", k + 1,
                 kinds[k].name);
        unsigned attr = k == (int)f->kind ? ui_attr(ui->colors, UI_PAIR_SELECT) | A_BOLD
                                          : A_NORMAL;
        x += ui_put(in->y, x, in->x + in->w - x, attr, label);
    }
}

static void draw_field(const struct ui *ui, const struct rect *in, int i)
{
    const struct ui_form *f = &ui->form;
    const struct field_def *d = &kinds[f->kind].f[i];
    const char *t = f->text[f->kind][i];
    bool on = f->field == i + 1;
    int y = in->y + 2 + i;
    char label[16];
    snprintf(label, sizeof label, "%s%-6s ", on ? "> " : "  ", d->label);
    int x = in->x + ui_put(y, in->x, in->w, A_BOLD, label);
    int w = in->x + in->w - x;
    if (t[0] != '\0') {                 /* the end of a long text stays visible */
        size_t len = strlen(t), show = w > 2 ? (size_t)w - 2 : 1;
        /* selected: the next character typed replaces it */
        unsigned attr = on && f->replace ? A_REVERSE : A_UNDERLINE;
        x += ui_put(y, x, w, attr, len > show ? t + len - show : t);
    } else {
        char hint[80];
        if (d->dflt != NULL)
            snprintf(hint, sizeof hint, "(%s)", d->dflt);
        else
            snprintf(hint, sizeof hint, "(%" PRIu64 ")", d->value);
        x += ui_put(y, x, w, A_DIM, hint);
    }
    if (on)
        ui_put(y, x, in->x + in->w - x, A_REVERSE, " ");
}

void form_draw(const struct ui *ui)
{
    int lines, cols;
    getmaxyx(stdscr, lines, cols);
    int h = 9, w = cols - 4 < 72 ? cols - 4 : 72;
    if (lines < h + 2 || w < 30)
        h = lines - 2;
    struct rect in = box_draw(h, w, ui->utf8, ui->colors, " Submit a batch ");
    const struct ui_form *f = &ui->form;
    draw_kinds(ui, &in);
    if (f->kind == UI_SUBMIT_CLASSIC) {
        char text[128];
        snprintf(text, sizeof text, "  %d odd numbers from %s, the reference workload",
                 SUBMIT_CLASSIC_COUNT, SUBMIT_CLASSIC_START);
        ui_put(in.y + 2, in.x, in.w, A_NORMAL, text);
    }
    for (int i = 0; i < kinds[f->kind].n; i++)
        draw_field(ui, &in, i);
    if (f->error[0])
        ui_put(in.y + in.h - 2, in.x, in.w, ui_attr(ui->colors, UI_PAIR_BAD) | A_BOLD,
               f->error);
    ui_put(in.y + in.h - 1, in.x, in.w, A_DIM,
           ui->utf8 ? "Enter submit  Esc cancel  \u2190\u2192 kind  Tab/\u2191\u2193 field  ^U clear"
                    : "Enter submit  Esc cancel  Left/Right kind  Tab/Up/Down field  ^U clear");
}
