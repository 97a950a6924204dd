/* view_json.c - see view_json.h. Field names are the CLI's contract with
 * scripts: they only ever get added to. */
#include "view_json.h"

#include "batch.h"

#include <stdio.h>
#include <string.h>

static json_t *node_fields(const struct view_node *u)
{
    char ago[32];
    if (u->last_heard_s < 0)
        snprintf(ago, sizeof ago, "never");
    else
        snprintf(ago, sizeof ago, "%.1fs ago", u->last_heard_s);
    return json_pack("{s:s, s:s, s:b, s:s, s:s, s:b, s:i, s:i, s:f, s:I, s:I, s:f, s:s, s:s}",
                     "id", u->id, "name", u->name, "self", u->self, "role", u->role,
                     "state", u->state, "connected", u->connected, "workers", (int)u->workers,
                     "busy", (int)u->busy, "rate", u->rate, "done", (json_int_t)u->done,
                     "unfactored", (json_int_t)u->unfactored, "last_heard", u->last_heard_s,
                     "last_heard_text", u->self ? "self" : ago, "addr", u->addr);
}

/* One worker's long number: b1 null outside ECM, eta_s null unknown. */
static json_t *hard_json(const struct view_hard *h)
{
    return json_pack("{s:I, s:I, s:i, s:i, s:s, s:o, s:I, s:I, s:f, s:o}",
                     "batch", (json_int_t)h->batch, "index", (json_int_t)h->index,
                     "worker", (int)h->worker, "bits", (int)h->bits, "phase", h->phase,
                     "b1", h->b1 != 0 ? json_integer((json_int_t)h->b1) : json_null(),
                     "found", (json_int_t)h->found, "needed", (json_int_t)h->needed,
                     "rate", h->rate,
                     "eta_s", h->eta_known ? json_integer((json_int_t)h->eta_s) : json_null());
}

/* A hard number on the whole mesh: for_batch null for a spread batch of
 * its own; nodes: the ids of the nodes sieving it now. */
static json_t *spread_json(const struct view_spread *v)
{
    json_t *nodes = json_array();
    for (unsigned i = 0; i < v->n_nodes; i++)
        json_array_append_new(nodes, json_string(v->nodes[i]));
    return json_pack("{s:I, s:o, s:I, s:s, s:i, s:s, s:I, s:I, s:f, s:o, s:o}",
                     "batch", (json_int_t)v->batch,
                     "for_batch", v->for_batch ? json_integer((json_int_t)v->for_batch)
                                               : json_null(),
                     "index", (json_int_t)v->index, "coordinator", v->node, "bits", (int)v->bits,
                     "phase", v->phase, "found", (json_int_t)v->found,
                     "needed", (json_int_t)v->needed, "rate", v->rate,
                     "eta_s", v->eta_known ? json_integer((json_int_t)v->eta_s) : json_null(),
                     "nodes", nodes);
}

static json_t *node_json(const struct mesh_view *s, const struct view_node *u)
{
    json_t *o = node_fields(u), *hard = json_array();
    json_object_set_new(o, "leases", json_integer((json_int_t)u->leases));
    json_object_set_new(o, "refused_results", json_integer((json_int_t)u->refused));
    for (size_t i = 0; i < s->n_hard; i++)
        if (strcmp(s->hard[i].node, u->id) == 0)
            json_array_append_new(hard, hard_json(&s->hard[i]));
    json_object_set_new(o, "hard", hard);
    return o;
}

/* number_timeout_ms: null when the batch leaves it to each node's
 * --number-timeout, 0 for no limit (as "none" and "0" on the command
 * line), else its budget per number in ms. */
static json_t *budget_json(uint64_t budget_ms)
{
    if (budget_ms == BATCH_BUDGET_DEFAULT)
        return json_null();
    return json_integer(budget_ms == BATCH_BUDGET_NONE ? 0 : (json_int_t)budget_ms);
}

static json_t *batch_json(const struct view_batch *b)
{
    json_t *o = json_pack("{s:I, s:s, s:I, s:I, s:I, s:s, s:I, s:o, s:b}", "id",
                          (json_int_t)b->id, "name", b->name, "total", (json_int_t)b->total,
                          "done", (json_int_t)b->done, "unfactored", (json_int_t)b->unfactored,
                          "state", b->state, "chunk", (json_int_t)b->chunk,
                          "number_timeout_ms", budget_json(b->budget_ms),
                          "results_elsewhere", b->results_elsewhere);
    /* where its results file is looked for: since when (Unix s), and
     * whether every linked peer said it has none (asked: how many) */
    if (o != NULL && b->results_elsewhere && b->results_wait_since_ms != 0)
        json_object_set_new(o, "results_wait", json_pack("{s:I, s:b, s:I}",
                            "since", (json_int_t)(b->results_wait_since_ms / 1000),
                            "missing", b->results_missing,
                            "asked", (json_int_t)b->results_asked));
    return o;
}

/* How many nodes hold each place in the mesh: voters (the leader too),
 * standbys, workers (linked, not members), and nodes gone (down past the
 * voter grace) or removed from the configuration. */
static json_t *members_json(const struct mesh_view *s)
{
    json_int_t voters = 0, standbys = 0, workers = 0, gone = 0, removed = 0;
    for (size_t i = 0; i < s->n_nodes; i++) {
        const struct view_node *u = &s->nodes[i];
        voters += strcmp(u->role, "leader") == 0 || strcmp(u->role, "voter") == 0;
        standbys += strcmp(u->role, "standby") == 0;
        workers += strcmp(u->role, "worker") == 0;
        removed += strcmp(u->role, "removed") == 0;
        gone += strcmp(u->state, "gone") == 0;
    }
    return json_pack("{s:I, s:I, s:I, s:I, s:I}", "voters", voters, "standbys", standbys,
                     "workers", workers, "gone", gone, "removed", removed);
}

void view_to_json(const struct mesh_view *s, json_t *top)
{
    json_t *nodes = json_array(), *batches = json_array();
    for (size_t i = 0; i < s->n_nodes; i++)
        json_array_append_new(nodes, node_json(s, &s->nodes[i]));
    for (size_t i = 0; i < s->n_batches; i++)
        json_array_append_new(batches, batch_json(&s->batches[i]));
    json_object_set_new(top, "nodes", nodes);
    json_object_set_new(top, "batches", batches);
    json_t *spread = json_array();
    for (size_t i = 0; i < s->n_spread; i++)
        json_array_append_new(spread, spread_json(&s->spread[i]));
    json_object_set_new(top, "spread", spread);
    json_object_set_new(top, "batches_total", json_integer((json_int_t)s->n_batches_total));
    json_object_set_new(top, "leader", json_string(s->leader));
    const char *leader_name = "";
    for (size_t i = 0; s->leader[0] != '\0' && i < s->n_nodes; i++)
        if (strcmp(s->nodes[i].id, s->leader) == 0)
            leader_name = s->nodes[i].name;
    json_object_set_new(top, "leader_name", json_string(leader_name));
    json_object_set_new(top, "term", json_integer((json_int_t)s->term));
    json_object_set_new(top, "quorum", json_pack("{s:i, s:i, s:b}", "voters", (int)s->voters,
                                                 "reachable", (int)s->reachable,
                                                 "ok", s->quorum_ok));
    json_object_set_new(top, "members", members_json(s));
    json_object_set_new(top, "commit_index", json_integer((json_int_t)s->commit_index));
    json_object_set_new(top, "applied_index", json_integer((json_int_t)s->applied_index));
    json_object_set_new(top, "cluster_id", json_string(s->cluster_id));
    json_object_set_new(top, "numbers", json_pack("{s:I, s:I, s:I}",
                                                  "pending", (json_int_t)s->pending,
                                                  "in_flight", (json_int_t)s->in_flight,
                                                  "done", (json_int_t)s->done));
    json_object_set_new(top, "disk_full", s->disk_full[0] ? json_string(s->disk_full)
                                                          : json_null());
    json_object_set_new(top, "retained", json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b}",
        "batches", (json_int_t)s->retained.batches, "bytes", (json_int_t)s->retained.bytes,
        "in_memory", (json_int_t)s->retained.in_memory,
        "running_bytes", (json_int_t)s->retained.running_bytes,
        "budget", (json_int_t)s->retained.budget, "keep_s",
        (json_int_t)(s->retained.keep_ms / 1000), "forgotten",
        (json_int_t)s->retained.forgotten, "full", s->retained.full));
}
