/* results.c - `mesh results BATCH [--wait] [--json]`.
 *
 * Text output is exactly coreutils factor's: "N: p1 p2 ...", one line per
 * number in input order; a number whose budget ran out ends with
 * "unfactored:C". --json gives JSON Lines: {"n": "N", "factors": [...]}
 * plus "unfactored": "C" when present; numbers are strings. Without --wait
 * the command prints the numbers done so far (in order, up to the first
 * one still pending) and exits; for a cancelled batch, every number that
 * was done. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "ctl_client.h"

static int cmd_results_exec(const char *data_dir, int argc, char **argv);

const struct cmd_entry cmd_results_entry = {
    "results", "BATCH [--wait] [--json]",
    "print a batch's factorizations (coreutils factor format, or JSON Lines)",
    cmd_results_exec,
};

static const struct option results_options[] = {
    {"wait", no_argument, NULL, 'w'}, {"json", no_argument, NULL, 'j'},
    {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
};

static void print_json_line(const char *n, const char *r)
{
    json_t *factors = json_array();
    json_t *obj = json_pack("{s:s, s:o}", "n", n, "factors", factors);
    char *copy = strdup(r), *save = NULL;
    for (char *tok = copy ? strtok_r(copy, " ", &save) : NULL; tok != NULL;
         tok = strtok_r(NULL, " ", &save)) {
        if (strncmp(tok, "unfactored:", 11) == 0)
            json_object_set_new(obj, "unfactored", json_string(tok + 11));
        else
            json_array_append_new(factors, json_string(tok));
    }
    free(copy);
    char *line = json_dumps(obj, JSON_COMPACT);
    if (line != NULL)
        puts(line);
    free(line);
    json_decref(obj);
}

static void print_page(json_t *results, int as_json)
{
    size_t i;
    json_t *item;
    json_array_foreach(results, i, item) {
        const char *n = json_string_value(json_object_get(item, "n"));
        const char *r = json_string_value(json_object_get(item, "r"));
        if (n == NULL || r == NULL)
            continue;
        if (as_json)
            print_json_line(n, r);
        else if (r[0] == '\0')
            printf("%s:\n", n);
        else
            printf("%s: %s\n", n, r);
    }
}

/* Pages through the results; returns an exit code. */
static int stream_results(struct ctl_client *cl, json_int_t batch, int wait, int as_json)
{
    json_int_t from = 0;
    for (;;) {
        int node_error;
        json_t *resp = ctl_call(cl, json_pack("{s:s, s:I, s:I, s:b}", "cmd", "results",
                                              "batch", batch, "from", from, "wait", wait),
                                &node_error);
        if (resp == NULL)
            return node_error ? EXIT_FAIL : EXIT_NO_NODE;
        json_t *results = json_object_get(resp, "results");
        size_t got = json_array_size(results);
        json_int_t total = json_integer_value(json_object_get(resp, "total"));
        const char *state = json_string_value(json_object_get(resp, "state"));
        int running = state != NULL && strcmp(state, "running") == 0;
        print_page(results, as_json);
        json_int_t next = json_integer_value(json_object_get(resp, "next"));
        json_decref(resp);
        from = next > from ? next : from + (json_int_t)got;
        if (from >= total || (got == 0 && (!wait || !running)))
            break;
    }
    fflush(stdout);
    return EXIT_OK;
}

static int cmd_results_exec(const char *data_dir, int argc, char **argv)
{
    const struct cmd_entry *self = &cmd_results_entry;
    int wait = 0, as_json = 0, opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", results_options, NULL)) != -1) {
        if (opt == 'w')
            wait = 1;
        else if (opt == 'j')
            as_json = 1;
        else if (opt == 'h') {
            printf("usage: mesh results %s\n%s\n", self->usage, self->summary);
            return EXIT_OK;
        } else
            return cmd_usage_error(self, "unknown option");
    }
    if (argc - optind != 1)
        return cmd_usage_error(self, "expected one batch id");
    char *end;
    long long batch = strtoll(argv[optind], &end, 10);
    if (*end != '\0' || end == argv[optind] || batch <= 0)
        return cmd_usage_error(self, "the batch id must be a positive integer");
    struct ctl_client cl;
    if (ctl_open(&cl, data_dir) != 0)
        return EXIT_NO_NODE;
    int rc = stream_results(&cl, (json_int_t)batch, wait, as_json);
    ctl_close(&cl);
    return rc;
}
