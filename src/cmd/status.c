/* status.c - `mesh status [--json]`: nodes, workers, batches, rates. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "ctl_client.h"
#include "units.h"

static int cmd_status_exec(const char *data_dir, int argc, char **argv);

const struct cmd_entry cmd_status_entry = {
    "status", "[--json]", "show the mesh: nodes, workers, batches, rates", cmd_status_exec,
};

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s != NULL ? s : "";
}

/* The widest value of a string member, at least the title's. */
static int widest(json_t *rows, const char *key, const char *title)
{
    int w = (int)strlen(title);
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        int len = (int)strlen(str(r, key));
        w = len > w ? len : w;
    }
    return w;
}

/* Names first (ids are for scripts: --json), every node's link address
 * ("-" for this node: LINK says self), columns as wide as their widest
 * value. */
static void print_nodes(json_t *nodes)
{
    int nw = widest(nodes, "name", "NAME"), aw = widest(nodes, "addr", "ADDRESS");
    printf("%-*s  %-8s  %-*s  %-9s  %-8s  %-4s  %7s  %9s  %12s  %s\n", nw, "NAME", "ID", aw,
           "ADDRESS", "ROLE", "STATE", "LINK", "WORKERS", "RATE/s", "DONE", "LAST HEARD");
    size_t i;
    json_t *nd;
    json_array_foreach(nodes, i, nd) {
        int self = json_is_true(json_object_get(nd, "self"));
        int connected = json_is_true(json_object_get(nd, "connected"));
        const char *addr = str(nd, "addr");
        printf("%-*s  %-8.8s  %-*s  %-9s  %-8s  %-4s  %3lld/%-3lld  %9.1f  %12lld  %s\n", nw,
               str(nd, "name"), str(nd, "id"), aw, addr[0] ? addr : "-",
               str(nd, "role"), str(nd, "state"), self ? "self" : connected ? "up" : "down",
               (long long)json_integer_value(json_object_get(nd, "busy")),
               (long long)json_integer_value(json_object_get(nd, "workers")),
               json_number_value(json_object_get(nd, "rate")),
               (long long)json_integer_value(json_object_get(nd, "done")),
               self ? "-" : str(nd, "last_heard_text"));
    }
}

static void print_discovery(json_t *disc, json_int_t port)
{
    printf("links on port %lld; ", (long long)port);
    if (!json_is_true(json_object_get(disc, "enabled")))
        printf("mDNS off\n\n");
    else if (!json_is_true(json_object_get(disc, "daemon_running")))
        printf("mDNS on, avahi-daemon not running\n\n");
    else
        printf("mDNS on as \"%s\", %lld other mesh(es) seen\n\n",
               json_string_value(json_object_get(disc, "published_name")),
               (long long)json_integer_value(json_object_get(disc, "foreign_meshes")));
}

static bool running(json_t *b)
{
    return strcmp(str(b, "state"), "running") == 0;
}

/* Running batches first, then the others; newest first in each (the
 * dashboard's order). */
static int batch_order(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    if (running(x) != running(y))
        return running(x) ? -1 : 1;
    json_int_t i = json_integer_value(json_object_get(x, "id"));
    json_int_t j = json_integer_value(json_object_get(y, "id"));
    return i > j ? -1 : i < j;
}

/* "  [timeout 300ms]" for a batch with its own budget per number,
 * "  [no timeout]" for one without a limit, "" for the node default. */
static void budget_note(json_t *b, char *buf, size_t len)
{
    json_t *v = json_object_get(b, "number_timeout_ms");
    char d[32];
    if (!json_is_integer(v)) {
        buf[0] = '\0';
    } else if (json_integer_value(v) <= 0) {
        snprintf(buf, len, "  [no timeout]");
    } else {
        units_format_duration((uint64_t)json_integer_value(v), d, sizeof d);
        snprintf(buf, len, "  [timeout %s]", d);
    }
}

static void print_batches(json_t *batches)
{
    size_t n = json_array_size(batches);
    if (n == 0) {
        printf("\nno batches\n");
        return;
    }
    json_t **rows = malloc(n * sizeof *rows);
    if (rows == NULL)
        return;
    int idw = 5;              /* "BATCH", or the widest id */
    for (size_t i = 0; i < n; i++) {
        rows[i] = json_array_get(batches, i);
        char id[24];
        int len = snprintf(id, sizeof id, "%lld",
                           (long long)json_integer_value(json_object_get(rows[i], "id")));
        idw = len > idw ? len : idw;
    }
    qsort(rows, n, sizeof *rows, batch_order);
    printf("\n%*s  %-10s  %12s  %12s  %7s  %s\n", idw, "BATCH", "STATE", "DONE", "TOTAL", "%",
           "NAME");
    for (size_t i = 0; i < n; i++) {
        json_t *b = rows[i];
        json_int_t done = json_integer_value(json_object_get(b, "done"));
        json_int_t total = json_integer_value(json_object_get(b, "total"));
        char note[160];
        budget_note(b, note, sizeof note);
        json_t *wait = json_object_get(b, "results_wait");
        if (json_is_true(json_object_get(wait, "missing"))) {
            char since[16];
            time_t t = (time_t)json_integer_value(json_object_get(wait, "since"));
            struct tm tm;
            gmtime_r(&t, &tm);
            strftime(since, sizeof since, "%H:%M:%S", &tm);
            snprintf(note + strlen(note), sizeof note - strlen(note),
                     "  [results on no reachable node (asked %lld) since %s UTC]",
                     (long long)json_integer_value(json_object_get(wait, "asked")), since);
        } else if (json_is_true(json_object_get(b, "results_elsewhere")))
            snprintf(note + strlen(note), sizeof note - strlen(note),
                     "  [results being fetched from peers]");
        printf("%*lld  %-10s  %12lld  %12lld  %6.1f%%  %s%s\n", idw,
               (long long)json_integer_value(json_object_get(b, "id")), str(b, "state"),
               (long long)done, (long long)total,
               total ? 100.0 * (double)done / (double)total : 0.0,
               str(b, "name")[0] ? str(b, "name") : "-", note);
    }
    free(rows);
}

static long long int_of(json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

/* "2m05s", "9s", "-": seconds rounded to what a person reads. */
static void eta_text(json_t *eta, char *buf, size_t len)
{
    long long s = json_integer_value(eta);
    if (!json_is_integer(eta) || s < 0)
        snprintf(buf, len, "-");
    else if (s < 60)
        snprintf(buf, len, "%llds", s);
    else if (s < 3600)
        snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
    else
        snprintf(buf, len, "%lldh%02lldm", s / 3600, s % 3600 / 60);
}

/* The numbers past 140 bits being factored now (doc/DESIGN.md, "Progress
 * of a hard number"), one line per worker on one; nothing when none. */
static void print_hard(json_t *nodes)
{
    size_t i, k;
    json_t *nd, *h;
    bool any = false;
    json_array_foreach(nodes, i, nd) {
        json_array_foreach(json_object_get(nd, "hard"), k, h) {
            if (!any)
                printf("\n%-12s  %6s  %6s  %5s  %4s  %-16s  %15s  %9s  %s\n", "NODE", "WORKER",
                       "BATCH", "INDEX", "BITS", "PHASE", "FOUND/NEEDED", "RATE/s", "ETA");
            any = true;
            char phase[40], counts[48] = "-", eta[32];
            const char *name = str(h, "phase");
            if (json_is_integer(json_object_get(h, "b1")))
                snprintf(phase, sizeof phase, "%s B1=%lld", name, int_of(h, "b1"));
            else
                snprintf(phase, sizeof phase, "%s", name);
            if (int_of(h, "needed") > 0)
                snprintf(counts, sizeof counts, "%lld/%lld", int_of(h, "found"),
                         int_of(h, "needed"));
            eta_text(json_object_get(h, "eta_s"), eta, sizeof eta);
            printf("%-12.12s  %6lld  %6lld  %5lld  %4lld  %-16s  %15s  %9.1f  %s\n",
                   str(nd, "name"), int_of(h, "worker"), int_of(h, "batch"), int_of(h, "index"),
                   int_of(h, "bits"), phase, counts,
                   json_number_value(json_object_get(h, "rate")), eta);
        }
    }
}

/* The hard numbers on the whole mesh (doc/DESIGN.md, "Progress of a
 * spread job"), one line each: the number's batch and index, the spread
 * batch, the mesh's counts and how many nodes sieve it now. */
static void print_spread(json_t *spread)
{
    size_t i;
    json_t *v;
    json_array_foreach(spread, i, v) {
        if (i == 0)
            printf("\n%-12s  %5s  %12s  %4s  %-8s  %15s  %9s  %-7s  %s\n", "BATCH", "INDEX",
                   "SPREAD", "BITS", "PHASE", "FOUND/NEEDED", "RATE/s", "ETA", "NODES");
        char batch[24], counts[48], eta[32];
        json_t *fb = json_object_get(v, "for_batch");
        snprintf(batch, sizeof batch, "%lld", json_is_integer(fb) ? (long long)json_integer_value(fb)
                                                                 : int_of(v, "batch"));
        snprintf(counts, sizeof counts, "%lld/%lld", int_of(v, "found"), int_of(v, "needed"));
        eta_text(json_object_get(v, "eta_s"), eta, sizeof eta);
        printf("%-12s  %5lld  %12lld  %4lld  %-8s  %15s  %9.1f  %-7s  %zu\n", batch,
               int_of(v, "index"), int_of(v, "batch"), int_of(v, "bits"), str(v, "phase"),
               counts, json_number_value(json_object_get(v, "rate")), eta,
               json_array_size(json_object_get(v, "nodes")));
    }
}

/* What the retained batches hold against the budget, and, when running
 * batches alone fill it, that submits are refused and why. */
static void print_retained(json_t *r)
{
    char bytes[32], budget[32], keep[32];
    units_format_size((uint64_t)json_integer_value(json_object_get(r, "bytes")), bytes,
                      sizeof bytes);
    units_format_size((uint64_t)json_integer_value(json_object_get(r, "budget")), budget,
                      sizeof budget);
    units_format_duration((uint64_t)json_integer_value(json_object_get(r, "keep_s")) * 1000,
                          keep, sizeof keep);
    printf("results: %lld batches retained, %s of a %s budget, finished ones kept %s\n",
           (long long)json_integer_value(json_object_get(r, "batches")), bytes, budget, keep);
    if (json_is_true(json_object_get(r, "full")))
        printf("SUBMITS REFUSED: running batches alone fill the results budget; cancel or "
               "forget a batch, or raise --results-budget\n");
}

static int cmd_status_exec(const char *data_dir, int argc, char **argv)
{
    int as_json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            as_json = 1;
        else if (strcmp(argv[i], "--help") == 0) {
            printf("usage: mesh status %s\n%s\n", cmd_status_entry.usage,
                   cmd_status_entry.summary);
            return EXIT_OK;
        } else
            return cmd_usage_error(&cmd_status_entry, "unknown argument");
    }
    int code = EXIT_OK;
    json_t *resp = ctl_request(data_dir, json_pack("{s:s}", "cmd", "status"), &code);
    if (resp == NULL)
        return code;
    json_object_del(resp, "ok");
    if (as_json) {
        char *text = json_dumps(resp, JSON_INDENT(2));
        if (text != NULL)
            puts(text);
        free(text);
    } else {
        const char *leader = str(resp, "leader"), *lname = str(resp, "leader_name");
        printf("node %s (%.8s), leader %s%s%.8s%s\n", str(resp, "name"), str(resp, "id"),
               !leader[0] ? "none" : lname[0] ? lname : "", lname[0] ? " (" : "", leader,
               lname[0] ? ")" : "");
        json_t *weak = json_object_get(resp, "authkey_warning");
        if (json_is_string(weak))
            printf("WARNING: %s\n", json_string_value(weak));
        print_discovery(json_object_get(resp, "discovery"),
                        json_integer_value(json_object_get(resp, "port")));
        print_nodes(json_object_get(resp, "nodes"));
        print_retained(json_object_get(resp, "retained"));
        json_t *disk = json_object_get(resp, "disk_full");
        if (json_is_string(disk))
            printf("WRITES REFUSED: %s\n", json_string_value(disk));
        print_batches(json_object_get(resp, "batches"));
        print_hard(json_object_get(resp, "nodes"));
        print_spread(json_object_get(resp, "spread"));
    }
    json_decref(resp);
    return EXIT_OK;
}
