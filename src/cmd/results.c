/* results.c - `mesh results BATCH [--wait] [--json] [--forget]`.
 *
 * Text output is exactly coreutils factor's: "N: p1 p2 ...", one line per
 * number in input order; a number whose budget ran out ends with
 * "unfactored:C". --json gives JSON Lines: {"n": "N", "factors": [...]}
 * plus "unfactored": "C" when present; numbers are strings. Without --wait
 * the command prints the numbers done so far (in order, up to the first
 * one still pending) and exits; for a cancelled batch, every number that
 * was done. --forget then forgets the batch mesh-wide, once every line was
 * written out (a work queue's acknowledgement: read it, and it is gone). */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "ctl_client.h"

static int cmd_results_exec(const char *data_dir, int argc, char **argv);

const struct cmd_entry cmd_results_entry = {
    "results", "BATCH [--wait] [--json] [--forget]",
    "print a batch's factorizations (coreutils factor format, or JSON Lines)",
    cmd_results_exec,
};

static const struct option results_options[] = {
    {"wait", no_argument, NULL, 'w'}, {"json", no_argument, NULL, 'j'},
    {"forget", no_argument, NULL, 'f'},
    {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
};

/* One "N: p1 p2 [unfactored:C]" line as a JSON Lines object. Numbers and
 * factors are digits only, so no escaping is needed. */
static void print_json_line(const char *line, size_t len)
{
    const char *colon = memchr(line, ':', len);
    if (colon == NULL)
        return;
    printf("{\"n\":\"%.*s\",\"factors\":[", (int)(colon - line), line);
    const char *p = colon + 1, *end = line + len, *unfactored = NULL;
    size_t unf_len = 0;
    int first = 1;
    while (p < end) {
        while (p < end && *p == ' ')
            p++;
        const char *tok = p;
        while (p < end && *p != ' ')
            p++;
        if (p == tok)
            break;
        if ((size_t)(p - tok) > 11 && memcmp(tok, "unfactored:", 11) == 0) {
            unfactored = tok + 11;
            unf_len = (size_t)(p - tok) - 11;
            continue;
        }
        printf(first ? "\"%.*s\"" : ",\"%.*s\"", (int)(p - tok), tok);
        first = 0;
    }
    if (unfactored != NULL)
        printf("],\"unfactored\":\"%.*s\"}\n", (int)unf_len, unfactored);
    else
        fputs("]}\n", stdout);
}

static size_t print_lines(const char *lines, size_t len, int as_json)
{
    size_t count = 0;
    if (!as_json) {
        fwrite(lines, 1, len, stdout);
        for (size_t i = 0; i < len; i++)
            count += lines[i] == '\n';
        return count;
    }
    for (const char *p = lines, *end = lines + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        print_json_line(p, n);
        count++;
        p += n + 1;
    }
    return count;
}

/* One page of results as the node writes it (api.c reply_results):
 * {"ok":true,"state":S,...,"total":N,...,"lines":"L","next":N}. Read
 * without a JSON parser: L is the one big field, and holds only digits,
 * letters, spaces, colons and \n escapes, never a quote, so no key can
 * appear inside it. */
struct page {
    long long total, next;
    bool running;
    char *lines;            /* unescaped in place */
    size_t lines_len;
};

static const char *field(const char *line, size_t len, const char *key)
{
    char pat[32];
    int n = snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = memmem(line, len, pat, (size_t)n);
    return p != NULL ? p + n : NULL;
}

static bool parse_page(char *line, size_t len, struct page *pg)
{
    const char *total = field(line, len, "total"), *next = field(line, len, "next");
    const char *state = field(line, len, "state");
    char *lines = (char *)field(line, len, "lines");
    if (total == NULL || next == NULL || state == NULL || lines == NULL || *lines != '"')
        return false;
    pg->total = strtoll(total, NULL, 10);
    pg->next = strtoll(next, NULL, 10);
    pg->running = strncmp(state, "\"running\"", 9) == 0;
    char *end = memchr(lines + 1, '"', len - (size_t)(lines + 1 - line));
    if (end == NULL)
        return false;
    /* "\n" -> newline, in place; any other escape is not the node's. */
    char *out = lines, *in = lines + 1;
    while (in < end) {
        char *bs = memchr(in, '\\', (size_t)(end - in));
        size_t run = (size_t)((bs != NULL ? bs : end) - in);
        memmove(out, in, run);
        out += run;
        in += run;
        if (bs == NULL)
            break;
        if (in + 1 >= end || in[1] != 'n')
            return false;
        *out++ = '\n';
        in += 2;
    }
    pg->lines = lines;
    pg->lines_len = (size_t)(out - lines);
    return true;
}

/* Pages through the results; returns an exit code. *ended: the batch was
 * done or cancelled and every one of its lines was printed. */
static int stream_results(struct ctl_client *cl, json_int_t batch, int wait, int as_json,
                          int *ended)
{
    json_int_t from = 0;
    for (;;) {
        int node_error;
        size_t len;
        char *line = ctl_call_raw(cl, json_pack("{s:s, s:I, s:I, s:b, s:b}", "cmd", "results",
                                                "batch", batch, "from", from, "wait", wait,
                                                "lines", 1),
                                  &len, &node_error);
        if (line == NULL)
            return node_error ? EXIT_FAIL : EXIT_NO_NODE;
        struct page pg;
        if (!parse_page(line, len, &pg)) {
            fprintf(stderr, "mesh results: malformed answer from the node\n");
            return EXIT_FAIL;
        }
        size_t got = print_lines(pg.lines, pg.lines_len, as_json);
        from = pg.next > from ? pg.next : from + (json_int_t)got;
        *ended = !pg.running;
        if (from >= pg.total || (got == 0 && (!wait || !pg.running)))
            break;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        *ended = 0;
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

/* After the last line reached stdout: a running batch is never forgotten
 * (it would be refused), so --forget without --wait on one says so. */
static int forget_read_batch(struct ctl_client *cl, json_int_t batch, int ended)
{
    if (!ended) {
        fprintf(stderr, "mesh results: batch %lld is still running: not forgotten "
                "(use --wait)\n", (long long)batch);
        return EXIT_FAIL;
    }
    int node_error;
    json_t *resp = ctl_call(cl, json_pack("{s:s, s:[I], s:s}", "cmd", "forget", "batches",
                                          batch, "reason", "reader"), &node_error);
    if (resp == NULL)
        return node_error ? EXIT_FAIL : EXIT_NO_NODE;
    json_decref(resp);
    return EXIT_OK;
}

static int cmd_results_exec(const char *data_dir, int argc, char **argv)
{
    const struct cmd_entry *self = &cmd_results_entry;
    int wait = 0, as_json = 0, forget = 0, opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", results_options, NULL)) != -1) {
        if (opt == 'w')
            wait = 1;
        else if (opt == 'j')
            as_json = 1;
        else if (opt == 'f')
            forget = 1;
        else if (opt == 'h') {
            printf("usage: mesh results %s\n%s\n", self->usage, self->summary);
            return EXIT_OK;
        } else
            return cmd_usage_error(self, "unknown option");
    }
    if (argc - optind != 1)
        return cmd_usage_error(self, "expected one batch id");
    long long batch;
    if (cmd_batch_id(self, argv[optind], &batch) != 0)
        return EXIT_USAGE;
    struct ctl_client cl;
    if (ctl_open(&cl, data_dir, "results") != 0)
        return EXIT_NO_NODE;
    int ended = 0;
    int rc = stream_results(&cl, (json_int_t)batch, wait, as_json, &ended);
    if (rc == EXIT_OK && forget)
        rc = forget_read_batch(&cl, (json_int_t)batch, ended);
    ctl_close(&cl);
    return rc;
}
