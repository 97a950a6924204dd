/* panel_header.c - the header line, the mesh totals line and the footer
 * with the keys. */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "panels.h"

static const char *mdns_text(const struct mesh_view *s)
{
    if (!s->mdns_enabled)
        return "off";
    return s->mdns_running ? "on" : "no daemon";
}

static const struct view_node *find(const struct mesh_view *s, bool self, const char *id)
{
    for (size_t i = 0; i < s->n_nodes; i++)
        if (self ? s->nodes[i].self : strcmp(s->nodes[i].id, id) == 0)
            return &s->nodes[i];
    return NULL;
}

static void header_text(char *out, size_t outsz, const struct ui_view *v,
                        int idlen)
{
    const struct mesh_view *s = v->snap;
    const char *dash = v->utf8 ? "\u2014" : "-";
    const struct view_node *self = find(s, true, NULL);
    const struct view_node *leader = s->leader[0] ? find(s, false, s->leader) : NULL;
    char lead[128];
    if (!s->leader[0])
        snprintf(lead, sizeof lead, "none");
    else
        snprintf(lead, sizeof lead, "%s%s%.*s%s term %llu", leader ? leader->name : "",
                 leader ? " (" : "", idlen, s->leader, leader ? ")" : "",
                 (unsigned long long)s->term);
    char others[32] = "";
    if (!s->mdns_enabled)
        ;                       /* no discovery: nothing known of others */
    else if (s->foreign_meshes == 1)
        snprintf(others, sizeof others, "  1 other mesh");
    else
        snprintf(others, sizeof others, "  %u other meshes", s->foreign_meshes);
    snprintf(out, outsz, "mesh %s %s (%.*s)  leader %s  mDNS: %s%s", dash,
             self ? self->name : "?", idlen, self ? self->id : "?", lead, mdns_text(s),
             others);
}

static void append_weak_key(char *text, size_t size, int width)
{
    static const char *const forms[] = {
        "  WEAK AUTHKEY: anyone on the LAN can guess it offline (mesh keygen)",
        "  WEAK AUTHKEY (mesh keygen)", "  WEAK KEY",
    };
    size_t len = strlen(text);
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
        if ((int)(len + strlen(forms[i])) <= width || i + 1 == sizeof forms / sizeof forms[0]) {
            snprintf(text + len, size - len, "%s", forms[i]);
            return;
        }
}

/* What the kept results hold against --results-budget, when it fits. */
static void append_retained(char *text, size_t size, int width, const struct mesh_view *s)
{
    if (s->retained.budget == 0 || s->retained.full)
        return;
    char used[16], budget[16], add[64];
    fmt_bytes(used, sizeof used, s->retained.bytes);
    fmt_bytes(budget, sizeof budget, s->retained.budget);
    snprintf(add, sizeof add, "  results %s/%s", used, budget);
    size_t len = strlen(text);
    if ((int)(len + strlen(add)) <= width)
        snprintf(text + len, size - len, "%s", add);
}

/* Running batches alone fill the results budget: the mesh refuses
 * submits. Said at the end of line 1, over whatever is there, in red:
 * the longest form that takes at most half the line. */
static void draw_results_full(const struct rect *r, const struct ui_view *v)
{
    const struct mesh_view *s = v->snap;
    if (!s->retained.full)
        return;
    char used[16], budget[16], forms[3][96];
    fmt_bytes(used, sizeof used, s->retained.bytes);
    fmt_bytes(budget, sizeof budget, s->retained.budget);
    snprintf(forms[0], sizeof forms[0], " RESULTS FULL %s/%s: submits refused ", used, budget);
    snprintf(forms[1], sizeof forms[1], " RESULTS FULL: submits refused ");
    snprintf(forms[2], sizeof forms[2], " RESULTS FULL ");
    int i = 0;
    while (i < 2 && (int)strlen(forms[i]) > r->w / 2)
        i++;
    int w = (int)strlen(forms[i]);
    ui_put(r->y, r->x + (r->w > w ? r->w - w : 0), w,
           ui_attr(v->colors, UI_PAIR_BAD) | A_BOLD | A_REVERSE, forms[i]);
}

/* Line 2: nodes up, quorum (red when lost), the mesh's rate and its
 * numbers pending / in flight / done. */
static void header_mesh_line(int y, const struct rect *r, const struct ui_view *v)
{
    const struct mesh_view *s = v->snap;
    size_t up = 0;
    double rate = 0;
    for (size_t i = 0; i < s->n_nodes; i++) {
        up += s->nodes[i].connected;
        rate += s->nodes[i].connected ? s->nodes[i].rate : 0;
    }
    char nodes[64], quorum[64], nums[160], rtext[32];
    fmt_rate(rtext, sizeof rtext, rate);
    snprintf(nodes, sizeof nodes, "Nodes %zu/%zu up  ", up, s->n_nodes);
    if (s->voters == 0)
        snprintf(quorum, sizeof quorum, "no mesh yet");
    else
        snprintf(quorum, sizeof quorum, "voters %u/%u quorum %s", s->reachable, s->voters,
                 s->quorum_ok ? "ok" : "LOST");
    snprintf(nums, sizeof nums, "  %s  Numbers: %llu pending  %llu in flight  %llu done",
             rtext, (unsigned long long)s->pending, (unsigned long long)s->in_flight,
             (unsigned long long)s->done);
    int x = r->x, end = r->x + r->w;
    x += ui_put(y, x, end - x, A_BOLD, nodes);
    unsigned q = s->quorum_ok ? ui_attr(v->colors, UI_PAIR_OK) | A_BOLD
                              : ui_attr(v->colors, UI_PAIR_BAD) | A_BOLD;
    x += ui_put(y, x, end - x, s->voters == 0 ? A_NORMAL : q, quorum);
    if ((int)strlen(nums) > end - x)   /* narrow: the numbers only */
        snprintf(nums, sizeof nums, "  %s  %llu pend %llu run %llu done", rtext,
                 (unsigned long long)s->pending, (unsigned long long)s->in_flight,
                 (unsigned long long)s->done);
    ui_put(y, x, end - x, A_BOLD, nums);
}

void panel_header(const struct rect *r, const struct ui_view *v)
{
    unsigned attr = ui_attr(v->colors, UI_PAIR_HEAD) | A_BOLD;
    if (!v->snap) {
        ui_put_pad(r->y, r->x, r->w, attr, v->utf8 ? "mesh \u2014 waiting for the node\u2026"
                                                   : "mesh - waiting for the node...");
        return;
    }
    char text[512];
    header_text(text, sizeof text, v, 16);
    if ((int)strlen(text) > r->w)      /* narrow: short ids */
        header_text(text, sizeof text, v, 8);
    append_retained(text, sizeof text, r->w, v->snap);
    if (v->snap->weak_key)             /* the longest form that fits */
        append_weak_key(text, sizeof text, r->w);
    ui_put_pad(r->y, r->x, r->w, attr, text);
    draw_results_full(r, v);
    if (r->h > 1)
        header_mesh_line(r->y + 1, r, v);
}

/* The nodes table's totals: rate, busy and workers of the nodes that are
 * up (a down node's are not known), done of every row (a count: a down
 * node's last known), so the figure is the DONE column's sum. */
void panel_totals(const struct rect *r, const struct ui_view *v)
{
    const struct mesh_view *s = v->snap;
    if (!s)
        return;
    double rate = 0;
    unsigned busy = 0, workers = 0, down = 0;
    uint64_t done = 0;
    for (size_t i = 0; i < s->n_nodes; i++) {
        const struct view_node *n = &s->nodes[i];
        done += n->done;
        if (!n->self && !n->connected) {
            down++;
            continue;
        }
        rate += n->rate;
        busy += n->busy;
        workers += n->workers;
    }
    char rtext[32], text[160];
    fmt_rate(rtext, sizeof rtext, rate);
    snprintf(text, sizeof text, "Mesh: %zu node%s, %u down  rate %s  done %llu  busy",
             s->n_nodes, s->n_nodes == 1 ? "" : "s", down, rtext,
             (unsigned long long)done);
    if ((int)strlen(text) + 16 > r->w)     /* narrow: the essentials */
        snprintf(text, sizeof text, "Mesh: %zu/%u down  %s  busy", s->n_nodes, down, rtext);
    unsigned head = ui_attr(v->colors, UI_PAIR_HEAD) | A_BOLD;
    int c = ui_put(r->y, r->x, r->w, head, text);
    char count[32];
    snprintf(count, sizeof count, "%u/%u", busy, workers);
    int mw = r->w - c - 1;
    if (mw > 40)
        mw = 40;
    if (mw >= (int)strlen(count) + 4)
        meter_draw(r->y, r->x + c + 1, mw, v->colors,
                   ui_attr(v->colors, UI_PAIR_OK) | A_BOLD, busy, workers, count);
    else
        ui_put(r->y, r->x + c + 1, r->w - c - 1, A_NORMAL, count);
}

/* The keys, most important kept when narrow (htop-like: padded labels
 * when there is room). */
void panel_footer(const struct rect *r, const struct ui_view *v)
{
    static const int keep[] = {10, 6, 1, 7, 5, 6, 4, 2, 3, 8, 10}; /* higher stays longer */
    const char *items[][2] = {
        {"s", "Submit"}, {"Tab", v->focus == FOCUS_NODES ? "Batches" : "Nodes"},
        {v->utf8 ? "\u2191\u2193" : "Up/Dn", "Select"}, {"d", "Drain"}, {"u", "Undrain"},
        {"c", "Cancel"}, {"f", "Forget"}, {"e", "Events"}, {"Enter", "Info"},
        {"?", "Help"}, {"q", "Quit"},
    };
    enum { N = sizeof items / sizeof items[0] };
    bool pad = r->w >= 100, shown[N];
    int width = 0;
    for (int i = 0; i < N; i++) {
        shown[i] = true;
        width += (int)strlen(items[i][0]) + (pad ? 9 : (int)strlen(items[i][1]) + 2);
    }
    for (int level = 1; width > r->w && level < 10; level++)
        for (int i = 0; i < N; i++)
            if (shown[i] && keep[i] == level) {
                shown[i] = false;
                width -= (int)strlen(items[i][0]) + (pad ? 9 : (int)strlen(items[i][1]) + 2);
            }
    int x = r->x, end = r->x + r->w;
    unsigned key = A_BOLD, label = ui_attr(v->colors, UI_PAIR_KEY);
    for (int i = 0; i < N && x < end; i++) {
        if (!shown[i])
            continue;
        x += ui_put(r->y, x, end - x, key, items[i][0]);
        char l[24];
        snprintf(l, sizeof l, pad ? " %-7s" : " %s", items[i][1]);
        x += ui_put(r->y, x, end - x, label, l);
        if (x < end)
            x += ui_put(r->y, x, end - x, A_NORMAL, " ");
    }
    if (x < end) {
        attron(label);
        mvhline(r->y, x, ' ', end - x);
        attroff(label);
    }
}
