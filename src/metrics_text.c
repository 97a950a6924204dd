/* metrics_text.c - the mesh as Prometheus text exposition (format 0.0.4),
 * from the one view of the mesh (src/view.h). Names follow the
 * Prometheus conventions: a mesh_ prefix, base units in the name,
 * _total for counters, labels for node and batch. Label values are
 * escaped, and whatever came from the network is reduced to printable
 * ASCII first, so a peer's name cannot break the format. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

enum { FINISHED_BATCHES_SHOWN = 16 };

/* A label value: printable ASCII, with \\, \" and newlines escaped. */
static void label(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\\' || c == '"')
            fprintf(f, "\\%c", c);
        else
            fputc(c >= 0x20 && c < 0x7f ? c : '?', f);
    }
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void node_labels(FILE *f, const struct view_node *n)
{
    fputs("{node=\"", f);
    label(f, n->name);
    fputs("\",id=\"", f);
    label(f, n->id);
    fputs("\"}", f);
}

/* One metric per node: value(n) for every node of the view. */
static void per_node(FILE *f, const struct mesh_view *s, const char *name, const char *type,
                     const char *help, double (*value)(const struct view_node *), bool self_only)
{
    head(f, name, type, help);
    for (size_t i = 0; i < s->n_nodes; i++) {
        if (self_only && !s->nodes[i].self)
            continue;
        fputs(name, f);
        node_labels(f, &s->nodes[i]);
        fprintf(f, " %.17g\n", value(&s->nodes[i]));
    }
}

static double up(const struct view_node *n) { return n->self || n->connected; }
static double workers(const struct view_node *n) { return n->workers; }
static double busy(const struct view_node *n) { return n->busy; }
static double rate(const struct view_node *n) { return n->connected ? n->rate : 0; }
static double done(const struct view_node *n) { return (double)n->done; }
static double unfactored(const struct view_node *n) { return (double)n->unfactored; }
static double leases(const struct view_node *n) { return n->leases; }
static double refused(const struct view_node *n) { return (double)n->refused; }

static void nodes(FILE *f, const struct mesh_view *s)
{
    head(f, "mesh_node_info", "gauge", "A node of the mesh (1), with its role and state.");
    for (size_t i = 0; i < s->n_nodes; i++) {
        const struct view_node *n = &s->nodes[i];
        fputs("mesh_node_info{node=\"", f);
        label(f, n->name);
        fputs("\",id=\"", f);
        label(f, n->id);
        fputs("\",role=\"", f);
        label(f, n->role);
        fputs("\",state=\"", f);
        label(f, n->state);
        fputs("\",address=\"", f);
        label(f, n->addr);
        fprintf(f, "\",self=\"%s\"} 1\n", n->self ? "true" : "false");
    }
    per_node(f, s, "mesh_node_up", "gauge", "1 when the node's link is up (or it is this node).",
             up, false);
    per_node(f, s, "mesh_node_workers", "gauge", "Worker processes of the node.", workers,
             false);
    per_node(f, s, "mesh_node_workers_busy", "gauge", "Workers factoring a number now (0 for a node that is down).", busy,
             false);
    per_node(f, s, "mesh_node_numbers_per_second", "gauge",
             "Numbers the node factored per second over the last 5 s (0 when down).", rate, false);
    per_node(f, s, "mesh_node_numbers_done_total", "counter",
             "Numbers the node factored over its whole life (kept across restarts).", done, false);
    per_node(f, s, "mesh_node_numbers_unfactored_total", "counter",
             "Numbers this node gave up on (over budget or crashing its worker).", unfactored,
             true);
    per_node(f, s, "mesh_node_leases", "gauge",
             "Leases the node holds (known on the leader; 0 elsewhere).", leases, false);
    per_node(f, s, "mesh_node_results_refused_total", "counter",
             "Results of the node this node refused as leader (wrong, or sent without a "
             "lease).", refused, false);
    head(f, "mesh_node_last_heard_seconds", "gauge", "Seconds since the node was last heard.");
    for (size_t i = 0; i < s->n_nodes; i++)
        if (s->nodes[i].last_heard_s >= 0) {
            fputs("mesh_node_last_heard_seconds", f);
            node_labels(f, &s->nodes[i]);
            fprintf(f, " %.3f\n", s->nodes[i].last_heard_s);
        }
}

static void gauge(FILE *f, const char *name, const char *help, double v)
{
    head(f, name, "gauge", help);
    fprintf(f, "%s %.17g\n", name, v);
}

static void mesh(FILE *f, const struct mesh_view *s)
{
    size_t n_up = 0;
    for (size_t i = 0; i < s->n_nodes; i++)
        n_up += s->nodes[i].self || s->nodes[i].connected;
    head(f, "mesh_leader_info", "gauge", "The leader this node follows (1).");
    if (s->leader[0]) {
        fputs("mesh_leader_info{id=\"", f);
        label(f, s->leader);
        fputs("\"} 1\n", f);
    }
    gauge(f, "mesh_raft_term", "The Raft term this node is in.", (double)s->term);
    gauge(f, "mesh_raft_commit_index", "Last committed Raft log index.",
          (double)s->commit_index);
    gauge(f, "mesh_raft_applied_index", "Last Raft log index applied here.",
          (double)s->applied_index);
    gauge(f, "mesh_voters", "Voters in the mesh's configuration.", s->voters);
    gauge(f, "mesh_voters_reachable", "Voters this node is linked to (itself included).",
          s->reachable);
    gauge(f, "mesh_quorum", "1 when a quorum of voters is reachable and a leader elected.",
          s->quorum_ok);
    gauge(f, "mesh_nodes", "Nodes known to this node.", (double)s->n_nodes);
    gauge(f, "mesh_nodes_up", "Nodes linked to this node (itself included).", (double)n_up);
    gauge(f, "mesh_numbers_pending", "Numbers of running batches waiting for a worker.",
          (double)s->pending);
    gauge(f, "mesh_numbers_in_flight", "Numbers being factored now (busy workers).",
          (double)s->in_flight);
    gauge(f, "mesh_numbers_done", "Numbers done in all the batches this node holds.",
          (double)s->done);
    gauge(f, "mesh_batches", "Batches in the queue.", (double)s->n_batches_total);
    gauge(f, "mesh_results_retained_bytes", "Memory the retained batches' results hold.",
          (double)s->retained.bytes);
    gauge(f, "mesh_results_budget_bytes", "The results budget (--results-budget).",
          (double)s->retained.budget);
    gauge(f, "mesh_results_running_bytes", "What running batches' results hold of it.",
          (double)s->retained.running_bytes);
    gauge(f, "mesh_results_in_memory_bytes",
          "Of the retained results, what this node holds in memory (not in files yet).",
          (double)s->retained.in_memory);
    gauge(f, "mesh_disk_full", "1 while this node refuses writes: its data dir is full.",
          s->disk_full[0] != '\0');
    gauge(f, "mesh_batches_forgotten", "Forgotten batches whose tombstone is kept.",
          (double)s->retained.forgotten);
    gauge(f, "mesh_results_budget_full",
          "1 while running batches alone fill the budget (submits refused).",
          s->retained.full);
}

static bool batch_shown(const struct mesh_view *s, size_t i, size_t *finished_left)
{
    if (strcmp(s->batches[i].state, "running") == 0)
        return true;
    if (*finished_left == 0)
        return false;
    (*finished_left)--;
    return true;
}

/* The running batches and the latest finished ones (bounded: a long-lived
 * mesh must not grow a series per batch forever). */
static void batches(FILE *f, const struct mesh_view *s)
{
    static const char *const names[] = {"mesh_batch_numbers", "mesh_batch_numbers_done",
                                        "mesh_batch_numbers_unfactored",
                                        "mesh_batch_progress_ratio"};
    static const char *const helps[] = {"Numbers in the batch.", "Numbers of it done.",
                                        "Numbers of it left unfactored.",
                                        "Done over total, 0 to 1."};
    for (int m = 0; m < 4; m++) {
        head(f, names[m], "gauge", helps[m]);
        size_t left = FINISHED_BATCHES_SHOWN;
        for (size_t k = s->n_batches; k-- > 0;) {
            if (!batch_shown(s, k, &left))
                continue;
            const struct view_batch *b = &s->batches[k];
            double v = m == 0 ? (double)b->total : m == 1 ? (double)b->done
                     : m == 2 ? (double)b->unfactored
                     : b->total ? (double)b->done / (double)b->total : 1.0;
            fprintf(f, "%s{batch=\"%" PRIu64 "\",state=\"", names[m], b->id);
            label(f, b->state);
            if (m == 0) {
                fputs("\",name=\"", f);
                label(f, b->name);
            }
            fprintf(f, "\"} %.17g\n", v);
        }
    }
}

static const char *node_name_of(const struct mesh_view *s, const char *id)
{
    for (size_t i = 0; i < s->n_nodes; i++)
        if (strcmp(s->nodes[i].id, id) == 0)
            return s->nodes[i].name;
    return "";
}

/* The workers on long numbers (src/node/hard.h), one series each, for as
 * long as the number runs: a handful at a time, never one per number. */
static void hard(FILE *f, const struct mesh_view *s)
{
    static const char *const names[] = {"mesh_hard_found", "mesh_hard_needed",
                                        "mesh_hard_found_per_second", "mesh_hard_eta_seconds"};
    static const char *const helps[] = {
        "Curves run (phase ecm) or relation sets found (sieving) of a long number on a "
        "worker (label bits: the size of the composite it splits).",
        "Curves planned at this bound (ecm) or relation sets wanted (sieving); 0 when the "
        "phase counts nothing.",
        "Curves or relation sets per second, over the phase so far.",
        "Seconds left in the phase at the current rate (absent when unknown)."};
    for (int m = 0; m < 4; m++) {
        head(f, names[m], "gauge", helps[m]);
        for (size_t k = 0; k < s->n_hard; k++) {
            const struct view_hard *h = &s->hard[k];
            if (m == 3 && !h->eta_known)
                continue;
            double v = m == 0 ? (double)h->found : m == 1 ? (double)h->needed
                     : m == 2 ? h->rate : (double)h->eta_s;
            fprintf(f, "%s{node=\"", names[m]);
            label(f, node_name_of(s, h->node));
            fputs("\",id=\"", f);
            label(f, h->node);
            fprintf(f, "\",batch=\"%" PRIu64 "\",index=\"%" PRIu64 "\",worker=\"%u\",bits=\"%u\","
                    "phase=\"", h->batch, h->index, h->worker, h->bits);
            label(f, h->phase);
            fprintf(f, "\"} %.17g\n", v);
        }
    }
}

/* The hard numbers on the whole mesh (view_spread), one series each while
 * they run; for_batch is "" for a spread batch of its own. */
static void spread(FILE *f, const struct mesh_view *s)
{
    static const char *const names[] = {"mesh_spread_found", "mesh_spread_needed",
                                        "mesh_spread_found_per_second",
                                        "mesh_spread_eta_seconds", "mesh_spread_nodes_sieving"};
    static const char *const helps[] = {
        "Relation sets found mesh-wide for a hard number sieved by the whole mesh.",
        "Relation sets its next combine wants.",
        "Relation sets per second mesh-wide, since its coordinator began to count.",
        "Seconds left sieving at the current rate (absent when unknown).",
        "Nodes whose workers sieve it now."};
    for (int m = 0; m < 5; m++) {
        head(f, names[m], "gauge", helps[m]);
        for (size_t k = 0; k < s->n_spread; k++) {
            const struct view_spread *v = &s->spread[k];
            if (m == 3 && !v->eta_known)
                continue;
            double x = m == 0 ? (double)v->found : m == 1 ? (double)v->needed
                     : m == 2 ? v->rate : m == 3 ? (double)v->eta_s : (double)v->n_nodes;
            fprintf(f, "%s{batch=\"%" PRIu64 "\",for_batch=\"", names[m], v->batch);
            if (v->for_batch != 0)
                fprintf(f, "%" PRIu64, v->for_batch);
            fprintf(f, "\",index=\"%" PRIu64 "\",bits=\"%u\",phase=\"", v->index, v->bits);
            label(f, v->phase);
            fprintf(f, "\"} %.17g\n", x);
        }
    }
}

static void process(FILE *f, const struct metrics_process *p)
{
    head(f, "mesh_events_total", "counter", "Events this node recorded, by kind.");
    for (int k = 1; k < MESH_EV_KIND_END; k++)
        fprintf(f, "mesh_events_total{kind=\"%s\"} %" PRIu64 "\n",
                events_kind_name((enum mesh_event_kind)k), p->events_by_kind[k]);
    head(f, "mesh_raft_follower_stalls_total", "counter",
         "Followers this node, leading, found answering but stuck below the commit index.");
    fprintf(f, "mesh_raft_follower_stalls_total %" PRIu64 "\n", p->raft_stalls);
    head(f, "mesh_raft_reports_clamped_total", "counter",
         "libraft 0.15 follower reports lowered to what an AppendEntries carried.");
    fprintf(f, "mesh_raft_reports_clamped_total %" PRIu64 "\n", p->raft_clamped);
    head(f, "mesh_build_info", "gauge", "The mesh version (1).");
    fprintf(f, "mesh_build_info{version=\"%s\"} 1\n", p->version);
    gauge(f, "mesh_uptime_seconds", "Seconds since this node started.", p->uptime_s);
    head(f, "process_cpu_seconds_total", "counter", "User and system CPU time of the node.");
    fprintf(f, "process_cpu_seconds_total %.3f\n", p->cpu_s);
    gauge(f, "process_resident_memory_bytes", "Resident memory of the node.",
          (double)p->rss_bytes);
    gauge(f, "process_open_fds", "Open file descriptors of the node.", p->open_fds);
    gauge(f, "process_start_time_seconds", "Start time of the node (Unix seconds).",
          p->start_time_s);
}

char *metrics_text(const struct mesh_view *s, const struct metrics_process *p, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    if (f == NULL)
        return NULL;
    nodes(f, s);
    mesh(f, s);
    batches(f, s);
    hard(f, s);
    spread(f, s);
    process(f, p);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}
