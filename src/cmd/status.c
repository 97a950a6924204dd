/* status.c - `mesh status [--json]`: nodes, workers, batches, rates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "ctl_client.h"
#include "units.h"

static int cmd_status_exec(const char *data_dir, int argc, char **argv);

const struct cmd_entry cmd_status_entry = {
    "status", "[--json]", "show the mesh: nodes, workers, batches, rates", cmd_status_exec,
};

static void print_nodes(json_t *nodes)
{
    printf("%-16s  %-16s  %-9s  %-8s  %-9s  %7s  %10s  %s\n", "ID", "NAME", "ROLE",
           "STATE", "LINK", "WORKERS", "RATE/s", "LAST HEARD");
    size_t i;
    json_t *nd;
    json_array_foreach(nodes, i, nd) {
        int self = json_is_true(json_object_get(nd, "self"));
        int connected = json_is_true(json_object_get(nd, "connected"));
        printf("%-16s  %-16.16s  %-9s  %-8s  %-9s  %3lld/%-3lld  %10.1f  %s\n",
               json_string_value(json_object_get(nd, "id")),
               json_string_value(json_object_get(nd, "name")),
               json_string_value(json_object_get(nd, "role")),
               json_string_value(json_object_get(nd, "state")),
               self ? "self" : connected ? "connected" : "down",
               (long long)json_integer_value(json_object_get(nd, "busy")),
               (long long)json_integer_value(json_object_get(nd, "workers")),
               json_number_value(json_object_get(nd, "rate")),
               self ? "-" : json_string_value(json_object_get(nd, "last_heard_text")) ?
                            json_string_value(json_object_get(nd, "last_heard_text")) : "?");
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

static void print_batches(json_t *batches)
{
    if (json_array_size(batches) == 0) {
        printf("\nno batches\n");
        return;
    }
    printf("\n%6s  %-10s  %12s  %12s  %7s  %s\n", "BATCH", "STATE", "DONE", "TOTAL",
           "%", "NAME");
    size_t i;
    json_t *b;
    json_array_foreach(batches, i, b) {
        json_int_t done = json_integer_value(json_object_get(b, "done"));
        json_int_t total = json_integer_value(json_object_get(b, "total"));
        printf("%6lld  %-10s  %12lld  %12lld  %6.1f%%  %s\n",
               (long long)json_integer_value(json_object_get(b, "id")),
               json_string_value(json_object_get(b, "state")), (long long)done,
               (long long)total, total ? 100.0 * (double)done / (double)total : 0.0,
               json_string_value(json_object_get(b, "name")));
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
        json_t *leader = json_object_get(resp, "leader");
        printf("node %s (%s), leader %s\n",
               json_string_value(json_object_get(resp, "name")),
               json_string_value(json_object_get(resp, "id")),
               json_is_string(leader) ? json_string_value(leader) : "none");
        json_t *weak = json_object_get(resp, "authkey_warning");
        if (json_is_string(weak))
            printf("WARNING: %s\n", json_string_value(weak));
        print_discovery(json_object_get(resp, "discovery"),
                        json_integer_value(json_object_get(resp, "port")));
        print_nodes(json_object_get(resp, "nodes"));
        print_retained(json_object_get(resp, "retained"));
        print_batches(json_object_get(resp, "batches"));
    }
    json_decref(resp);
    return EXIT_OK;
}
