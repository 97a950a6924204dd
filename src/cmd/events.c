/* events.c - `mesh events [--json] [--no-follow]`: the mesh's event log
 * (joins, leaves, elections, drains, batches, refused peers, errors), the
 * same one the dashboard's log panel shows. Prints the events the node
 * still holds, then streams new ones until interrupted (or the node
 * stops); --json gives one object per line, for scripts and journald.
 * As text, node ids read as the nodes' names and a run of alike events
 * (view_text.h, as on the dashboard) is its first line then one line
 * "... N more like it, the last at TIME"; --json keeps every event. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "ctl_client.h"
#include "view_text.h"

static int cmd_events_exec(const char *data_dir, int argc, char **argv);

const struct cmd_entry cmd_events_entry = {
    "events", "[--json] [--no-follow]",
    "stream the mesh's events (joins, drains, elections, errors...)", cmd_events_exec,
};

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s != NULL ? s : "";
}

/* What the text form remembers between events: the names of the nodes
 * (from one status request) and the run of alike events being folded. */
struct printer {
    bool as_json;
    json_t *nodes;                  /* status' nodes[], or NULL */
    char kind[32], node[64], text[256], last_time[16];
    unsigned more;                  /* alike events after the printed one */
};

static const char *name_of(void *ud, const char *id)
{
    json_t *nodes = ud;
    size_t i;
    json_t *nd;
    json_array_foreach(nodes, i, nd)
        if (strcmp(str(nd, "id"), id) == 0 && str(nd, "name")[0] != '\0')
            return str(nd, "name");
    return NULL;
}

static void end_run(struct printer *p)
{
    if (p->more > 0)
        printf("%-8s  %-8s %-16s ... %u more like it, the last at %s\n", "", "", p->node,
               p->more, p->last_time);
    p->more = 0;
}

static void print_event(struct printer *p, json_t *e)
{
    if (p->as_json) {
        char *line = json_dumps(e, JSON_COMPACT);
        if (line != NULL)
            printf("%s\n", line);
        free(line);
        return;
    }
    char text[256];
    snprintf(text, sizeof text, "%s", str(e, "text"));
    if (p->nodes != NULL)
        view_name_ids(text, sizeof text, name_of, p->nodes);
    if (p->kind[0] != '\0' && strcmp(p->node, str(e, "node")) == 0 &&
        view_events_alike(p->kind, p->text, str(e, "kind"), text)) {
        p->more++;
        snprintf(p->last_time, sizeof p->last_time, "%s", str(e, "time"));
        return;
    }
    end_run(p);
    printf("%s  %-8s %-16s %s\n", str(e, "time"), str(e, "kind"), str(e, "node"), text);
    snprintf(p->kind, sizeof p->kind, "%s", str(e, "kind"));
    snprintf(p->node, sizeof p->node, "%s", str(e, "node"));
    snprintf(p->text, sizeof p->text, "%s", text);
}

/* Prints one answer; returns the last seq it covered. A run still open at
 * the end of an answer is told then: a stream must not sit on a count. */
static json_int_t print_answer(struct printer *p, json_t *resp)
{
    json_int_t lost = json_integer_value(json_object_get(resp, "lost"));
    if (lost > 0)
        fprintf(stderr, "mesh events: %lld older events were dropped by the node\n",
                (long long)lost);
    size_t i;
    json_t *e;
    json_int_t last = json_integer_value(json_object_get(resp, "last"));
    json_array_foreach(json_object_get(resp, "events"), i, e)
        print_event(p, e), last = json_integer_value(json_object_get(e, "seq"));
    if (!p->as_json)
        end_run(p);
    fflush(stdout);
    return last;
}

static int stream(const char *data_dir, bool as_json, bool follow)
{
    struct ctl_client cl;
    if (ctl_open(&cl, data_dir, "events") != 0)
        return EXIT_NO_NODE;
    struct printer p = {.as_json = as_json};
    int refused = 0;
    json_t *status = as_json ? NULL
                             : ctl_call(&cl, json_pack("{s:s}", "cmd", "status"), &refused);
    if (status != NULL)
        p.nodes = json_object_get(status, "nodes");
    json_int_t after = 0;
    for (bool first = true; first || follow; first = false) {
        refused = 0;
        json_t *resp = ctl_call(&cl, json_pack("{s:s, s:I, s:b}", "cmd", "events", "after",
                                               after, "wait", !first), &refused);
        if (resp == NULL) {
            json_decref(status);
            ctl_close(&cl);
            return refused ? EXIT_FAIL : EXIT_NO_NODE;
        }
        after = print_answer(&p, resp);
        json_decref(resp);
    }
    json_decref(status);
    ctl_close(&cl);
    return EXIT_OK;
}

static int cmd_events_exec(const char *data_dir, int argc, char **argv)
{
    bool as_json = false, follow = true;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            printf("usage: mesh events %s\n%s\n  --json       one JSON object per line\n"
                   "  --no-follow  print the events the node holds and exit\n",
                   cmd_events_entry.usage, cmd_events_entry.summary);
            return EXIT_OK;
        }
        if (strcmp(argv[i], "--json") == 0)
            as_json = true;
        else if (strcmp(argv[i], "--no-follow") == 0)
            follow = false;
        else
            return cmd_usage_error(&cmd_events_entry, "unknown option");
    }
    return stream(data_dir, as_json, follow);
}
