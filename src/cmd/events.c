/* events.c - `mesh events [--json] [--no-follow]`: the mesh's event log
 * (joins, leaves, elections, drains, batches, refused peers, errors), the
 * same one the dashboard's log panel shows. Prints the events the node
 * still holds, then streams new ones until interrupted (or the node
 * stops); --json gives one object per line, for scripts and journald. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "ctl_client.h"

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

static void print_event(json_t *e, bool as_json)
{
    if (as_json) {
        char *line = json_dumps(e, JSON_COMPACT);
        if (line != NULL)
            printf("%s\n", line);
        free(line);
    } else {
        printf("%s  %-8s %-16s %s\n", str(e, "time"), str(e, "kind"), str(e, "node"),
               str(e, "text"));
    }
}

/* Prints one answer; returns the last seq it covered. */
static json_int_t print_answer(json_t *resp, bool as_json)
{
    json_int_t lost = json_integer_value(json_object_get(resp, "lost"));
    if (lost > 0)
        fprintf(stderr, "mesh events: %lld older events were dropped by the node\n",
                (long long)lost);
    size_t i;
    json_t *e;
    json_int_t last = json_integer_value(json_object_get(resp, "last"));
    json_array_foreach(json_object_get(resp, "events"), i, e)
        print_event(e, as_json), last = json_integer_value(json_object_get(e, "seq"));
    fflush(stdout);
    return last;
}

static int stream(const char *data_dir, bool as_json, bool follow)
{
    struct ctl_client cl;
    if (ctl_open(&cl, data_dir) != 0)
        return EXIT_NO_NODE;
    json_int_t after = 0;
    for (bool first = true; first || follow; first = false) {
        int refused = 0;
        json_t *resp = ctl_call(&cl, json_pack("{s:s, s:I, s:b}", "cmd", "events", "after",
                                               after, "wait", !first), &refused);
        if (resp == NULL) {
            ctl_close(&cl);
            return refused ? EXIT_FAIL : EXIT_NO_NODE;
        }
        after = print_answer(resp, as_json);
        json_decref(resp);
    }
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
