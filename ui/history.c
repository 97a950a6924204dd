/* history.c - what the dashboard remembers between snapshots: each node's
 * rate over the last minute (sparklines) and each batch's rate (ETAs).
 * Pure (no ncurses): tested in tests/ui/test_layout.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "panels.h"

static struct hist_node *node_slot(struct ui_history *h, const char *id)
{
    for (size_t i = 0; i < h->n_nodes; i++)
        if (strcmp(h->nodes[i].id, id) == 0)
            return &h->nodes[i];
    if (h->n_nodes == VIEW_MAX_NODES)
        return NULL;
    struct hist_node *n = &h->nodes[h->n_nodes++];
    memset(n, 0, sizeof *n);
    snprintf(n->id, sizeof n->id, "%s", id);
    return n;
}

static struct hist_batch *batch_slot(struct ui_history *h, uint64_t id)
{
    for (size_t i = 0; i < h->n_batches; i++)
        if (h->batches[i].id == id)
            return &h->batches[i];
    if (h->n_batches == VIEW_MAX_BATCHES)      /* forget the oldest */
        memmove(h->batches, h->batches + 1, --h->n_batches * sizeof h->batches[0]);
    struct hist_batch *b = &h->batches[h->n_batches++];
    *b = (struct hist_batch){.id = id, .at_s = -1};
    return b;
}

static void sample_batch(struct hist_batch *b, uint64_t done, bool running, double now_s)
{
    if (!running) {
        b->rate = 0;
    } else if (b->at_s >= 0 && now_s - b->at_s >= 1.0) {
        double r = (double)(done - (done > b->done ? b->done : done)) / (now_s - b->at_s);
        /* smoothed over a few seconds: an ETA that does not jump about */
        b->rate = b->rate > 0 ? 0.6 * b->rate + 0.4 * r : r;
    } else if (b->at_s >= 0) {
        return;                               /* less than a second: wait */
    }
    b->done = done;
    b->at_s = now_s;
}

void hist_sample(struct ui_history *h, const struct mesh_view *s, double now_s)
{
    for (size_t i = 0; i < s->n_batches; i++)
        sample_batch(batch_slot(h, s->batches[i].id), s->batches[i].done,
                     strcmp(s->batches[i].state, "running") == 0, now_s);
    if (h->last_sample_s > 0 && now_s - h->last_sample_s < 1.0)
        return;
    h->last_sample_s = now_s;
    for (size_t i = 0; i < s->n_nodes; i++) {
        struct hist_node *n = node_slot(h, s->nodes[i].id);
        if (n == NULL)
            continue;
        n->rate[n->next] = s->nodes[i].connected ? (float)s->nodes[i].rate : 0.0f;
        n->next = (n->next + 1) % HIST_SAMPLES;
        if (n->count < HIST_SAMPLES)
            n->count++;
    }
}

size_t hist_node_rates(const struct ui_history *h, const char *id, float *out, size_t max)
{
    for (size_t i = 0; i < h->n_nodes; i++) {
        const struct hist_node *n = &h->nodes[i];
        if (strcmp(n->id, id) != 0)
            continue;
        size_t k = n->count < max ? n->count : max;
        for (size_t j = 0; j < k; j++)
            out[j] = n->rate[(n->next + HIST_SAMPLES - k + j) % HIST_SAMPLES];
        return k;
    }
    return 0;
}

double hist_batch_rate(const struct ui_history *h, uint64_t id)
{
    for (size_t i = 0; i < h->n_batches; i++)
        if (h->batches[i].id == id)
            return h->batches[i].rate;
    return 0;
}

void spark_text(char *out, size_t outsz, const float *v, size_t n, int cells, bool utf8)
{
    static const char *const blocks[] = {" ", "\u2581", "\u2582", "\u2583", "\u2584",
                                         "\u2585", "\u2586", "\u2587", "\u2588"};
    static const char ascii[] = " _.-=+*#@";
    size_t first = n > (size_t)cells ? n - (size_t)cells : 0;
    float top = 0;
    for (size_t i = first; i < n; i++)
        if (v[i] > top)
            top = v[i];
    size_t len = 0;
    out[0] = '\0';
    for (int c = 0; c < cells; c++) {
        /* right-aligned: the newest sample in the last cell */
        size_t pad = (size_t)cells - (n - first);
        int level = 0;
        if ((size_t)c >= pad) {
            float x = v[first + (size_t)c - pad];
            level = top > 0 && x > 0 ? 1 + (int)lrintf(x / top * 7.0f) : 0;
        }
        const char *cell = utf8 ? blocks[level] : (char[2]){ascii[level], '\0'};
        int k = snprintf(out + len, outsz - len, "%s", cell);
        if (k < 0 || (size_t)k >= outsz - len)
            break;
        len += (size_t)k;
    }
}

void fmt_eta(char *out, size_t outsz, double s)
{
    if (!(s >= 0) || !isfinite(s) || s > 99 * 86400.0)
        snprintf(out, outsz, "-");
    else if (s < 60)
        snprintf(out, outsz, "%.0fs", ceil(s));
    else if (s < 3600)
        snprintf(out, outsz, "%dm%02ds", (int)s / 60, (int)s % 60);
    else if (s < 86400)
        snprintf(out, outsz, "%dh%02dm", (int)s / 3600, (int)s % 3600 / 60);
    else
        snprintf(out, outsz, "%dd%02dh", (int)s / 86400, (int)s % 86400 / 3600);
}
