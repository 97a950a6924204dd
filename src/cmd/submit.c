/* submit.c - `mesh submit`: send a batch to the node, print its id. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "cmd.h"
#include "ctl_client.h"
#include "numtext.h"
#include "protocol/submit_rules.h"
#include "units.h"

static int cmd_submit_exec(const char *data_dir, int argc, char **argv);

const struct cmd_entry cmd_submit_entry = {
    "submit",
    "[--start S] [--count N] [--step K] | --file F|- | --semiprimes BITS [--count N] "
    "[--seed S] | --spread N  [--chunk C] [--name NAME] [--number-timeout DURATION]",
    "submit a batch (default: 999 odd numbers from 999999999999, chunks of 43)",
    cmd_submit_exec,
};

static const struct option submit_options[] = {
    {"start", required_argument, NULL, 's'}, {"count", required_argument, NULL, 'n'},
    {"step", required_argument, NULL, 'k'},  {"file", required_argument, NULL, 'f'},
    {"semiprimes", required_argument, NULL, 'b'}, {"seed", required_argument, NULL, 'S'},
    {"chunk", required_argument, NULL, 'c'}, {"name", required_argument, NULL, 'N'},
    {"number-timeout", required_argument, NULL, 'T'},
    {"spread", required_argument, NULL, 'P'},
    {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
};

static int read_all(const char *path, char **out, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "mesh submit: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf != NULL && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n > BATCH_MAX_LIST_INPUT) {
            fprintf(stderr, "mesh submit: %s is larger than %zu bytes\n", path,
                    (size_t)BATCH_MAX_LIST_INPUT);
            free(buf);
            buf = NULL;
            break;
        }
        if (n == cap) {
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    if (f != stdin)
        fclose(f);
    if (buf == NULL)
        return -1;
    *out = buf;
    *len = n;
    return 0;
}

/* Validates the file here, so an error names the line of the user's file,
 * and sends the normalised numbers. */
static int add_file_numbers(json_t *req, const char *path)
{
    char *text;
    size_t len;
    if (read_all(path, &text, &len) != 0)
        return -1;
    struct batch_spec spec;
    char err[512];
    int rc = batch_list_parse(&spec, text, len, err, sizeof err);
    free(text);
    if (rc != 0) {
        fprintf(stderr, "mesh submit: %s: %s\n", strcmp(path, "-") ? path : "stdin", err);
        return -1;
    }
    json_t *arr = json_array();
    for (uint64_t i = 0; i < spec.count; i++)
        json_array_append_new(arr, json_string(spec.list + spec.offsets[i]));
    json_object_set_new(req, "numbers", arr);
    json_object_set_new(req, "kind", json_string("list"));
    batch_spec_free(&spec);
    return 0;
}

static void print_help(const struct cmd_entry *self)
{
    printf("usage: mesh submit %s\n%s\n\n"
           "  (no shape)                    the classic batch: %d odd numbers from %s,\n"
           "                                chunks of %d\n"
           "  --start S --count N --step K  the range S, S+K, ... (default start %s,\n"
           "                                count %d, step %d)\n"
           "  --file F                      one number per line ('-': stdin); blank lines and\n"
           "                                '#' comments are skipped; any bad line rejects the\n"
           "                                whole file, naming the line\n"
           "  --semiprimes BITS [--count N] random balanced semiprimes of BITS bits (%d..%d;\n"
           "  [--seed S]                    count %d unless given); the same for the same seed\n"
           "                                on every machine, a fresh random seed when none\n"
           "  --spread N                    one hard number (odd, at least 100 bits) worked\n"
           "                                by every node's workers: ECM curve ranges first\n"
           "                                (as much as the local ladder plans), then, up to\n"
           "                                340 bits, its SIQS polynomial ranges; past 340\n"
           "                                bits ECM only, as much as --number-timeout buys\n"
           "                                (no timeout: up to 30-digit factors). The last\n"
           "                                index is N and its result N's factors\n"
           "  --chunk C                     numbers per job (default: adaptive, ~100 ms of work)\n"
           "  --name NAME                   a label shown in status (at most %d bytes)\n"
           "  --number-timeout DURATION     this batch's budget per number: 500ms, 5s, 10m,\n"
           "                                0.3 (seconds), or none for no limit (at most\n"
           "                                365d); a number past it is reported\n"
           "                                'unfactored:C' (default: each node's own\n"
           "                                --number-timeout)\n"
           "Count is 1..%" PRIu64 ". Numbers are non-negative decimals below 2^1024.\n"
           "Options of two shapes together (--file with --count, --seed without\n"
           "--semiprimes, ...) are refused. Prints the batch id.\n",
           self->usage, self->summary, SUBMIT_CLASSIC_COUNT, SUBMIT_CLASSIC_START,
           SUBMIT_CLASSIC_CHUNK, SUBMIT_RANGE_START, SUBMIT_RANGE_COUNT, SUBMIT_RANGE_STEP,
           SUBMIT_MIN_BITS, SUBMIT_MAX_BITS, SUBMIT_SEMIPRIME_COUNT, SUBMIT_NAME_MAX,
           SUBMIT_MAX_COUNT);
}

/* What the command line asked for: each option's text, NULL when absent. */
struct submit_args {
    const char *start, *count, *step, *file, *bits, *seed, *chunk, *name, *timeout, *spread;
};

/* A whole number in [lo, hi] (submit_rules.h's wording when it is not). */
static int number_arg(const char *what, const char *text, uint64_t lo, uint64_t hi,
                      uint64_t *out, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    unsigned long long v = text[0] >= '0' && text[0] <= '9' ? strtoull(text, &end, 10) : 0;
    if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0)
        return submit_refuse(what, lo, hi, err, errlen);
    *out = v;
    return submit_check(what, v, lo, hi, err, errlen);
}

/* Options of two shapes together are refused, never one of them ignored:
 * the first option that does not go with the shape is named. */
static int shape_conflict(const struct submit_args *a, char *err, size_t errlen)
{
    const char *shape = a->file ? "--file" : a->bits ? "--semiprimes"
                      : a->spread ? "--spread" : NULL;
    const char *bad = NULL;
    if (a->spread)
        bad = a->start ? "--start" : a->count ? "--count" : a->step ? "--step"
            : a->bits ? "--semiprimes" : a->seed ? "--seed" : a->file ? "--file" : NULL;
    else if (a->file)
        bad = a->start ? "--start" : a->count ? "--count" : a->step ? "--step"
            : a->bits ? "--semiprimes" : a->seed ? "--seed" : NULL;
    else if (a->bits)
        bad = a->start ? "--start" : a->step ? "--step" : NULL;
    if (bad != NULL) {
        snprintf(err, errlen, "%s cannot be combined with %s", shape, bad);
        return -1;
    }
    if (a->seed && !a->bits) {
        snprintf(err, errlen, "--seed goes with --semiprimes only");
        return -1;
    }
    return 0;
}

/* The node option's syntax (units.h): "none" and "0" travel as 0. */
static int add_number_timeout(json_t *req, const char *text, char *err, size_t errlen)
{
    uint64_t ms;
    if (units_parse_timeout_ms(text, &ms) != 0 || ms > SUBMIT_MAX_NUMBER_TIMEOUT_MS)
        return submit_refuse_number_timeout(text, err, errlen);
    json_object_set_new(req, "number_timeout_ms", json_integer((json_int_t)ms));
    return 0;
}

/* Only what was given travels: the node fills in every default from
 * submit_rules.h, the same for the CLI, the dashboard and any client. */
static int build_request(const struct submit_args *a, json_t *req, char *err, size_t errlen)
{
    uint64_t v;
    if (shape_conflict(a, err, errlen) != 0)
        return -1;
    if (a->start) {
        char norm[MESH_MAX_DIGITS + 2], why[128];
        if (numtext_normalize(a->start, strlen(a->start), norm, sizeof norm, why,
                              sizeof why) != 0) {
            snprintf(err, errlen, "start must be a whole number below 2^1024, not '%.40s'",
                     a->start);
            return -1;
        }
        json_object_set_new(req, "start", json_string(norm));
    }
    const struct { const char *key, *text; uint64_t lo, hi; } nums[] = {
        {"count", a->count, 1, SUBMIT_MAX_COUNT}, {"step", a->step, 1, SUBMIT_MAX_STEP},
        {"bits", a->bits, SUBMIT_MIN_BITS, SUBMIT_MAX_BITS},
        {"seed", a->seed, 0, SUBMIT_MAX_SEED}, {"chunk", a->chunk, 0, SUBMIT_MAX_CHUNK},
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        if (nums[i].text == NULL)
            continue;
        if (number_arg(nums[i].key, nums[i].text, nums[i].lo, nums[i].hi, &v, err,
                       errlen) != 0)
            return -1;
        json_object_set_new(req, nums[i].key, json_integer((json_int_t)v));
    }
    if (a->bits)
        json_object_set_new(req, "kind", json_string("semiprimes"));
    if (a->spread) {
        char norm[MESH_MAX_DIGITS + 2], why[128];
        if (numtext_normalize(a->spread, strlen(a->spread), norm, sizeof norm, why,
                              sizeof why) != 0) {
            snprintf(err, errlen, "--spread takes a whole number, not '%.40s'", a->spread);
            return -1;
        }
        json_object_set_new(req, "kind", json_string("spread"));
        json_object_set_new(req, "number", json_string(norm));
    }
    if (a->name && strlen(a->name) > SUBMIT_NAME_MAX) {
        snprintf(err, errlen, "name must be at most %d bytes", SUBMIT_NAME_MAX);
        return -1;
    }
    if (a->name)
        json_object_set_new(req, "name", json_string(a->name));
    return a->timeout ? add_number_timeout(req, a->timeout, err, errlen) : 0;
}

/* Fills a from argv; EXIT_OK to go on, else the exit code (help printed,
 * or a usage error reported). */
static int parse_args(int argc, char **argv, struct submit_args *a)
{
    const struct cmd_entry *self = &cmd_submit_entry;
    int opt, which = 0;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", submit_options, &which)) != -1) {
        const char **slot = opt == 's' ? &a->start : opt == 'n' ? &a->count
                          : opt == 'k' ? &a->step : opt == 'f' ? &a->file
                          : opt == 'b' ? &a->bits : opt == 'S' ? &a->seed
                          : opt == 'c' ? &a->chunk : opt == 'N' ? &a->name
                          : opt == 'T' ? &a->timeout : opt == 'P' ? &a->spread : NULL;
        if (opt == 'h') {
            print_help(self);
            return -1 - EXIT_OK;
        }
        if (slot == NULL)
            return -1 - cmd_usage_error(self, "unknown or incomplete option");
        if (*slot != NULL) {
            char why[64];
            snprintf(why, sizeof why, "--%s is given twice", submit_options[which].name);
            return -1 - cmd_usage_error(self, why);
        }
        *slot = optarg;
    }
    if (optind < argc)
        return -1 - cmd_usage_error(self, "unexpected argument");
    return 0;
}

static int cmd_submit_exec(const char *data_dir, int argc, char **argv)
{
    struct submit_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc < 0)
        return -1 - rc;
    json_t *req = json_pack("{s:s}", "cmd", "submit");
    char err[256];
    if (build_request(&a, req, err, sizeof err) != 0) {
        json_decref(req);
        return cmd_usage_error(&cmd_submit_entry, err);
    }
    if (a.file != NULL && add_file_numbers(req, a.file) != 0) {
        json_decref(req);
        return EXIT_FAIL;
    }
    int code = EXIT_OK;
    json_t *resp = ctl_request(data_dir, req, &code);
    if (resp == NULL)
        return code;
    printf("%" JSON_INTEGER_FORMAT "\n", json_integer_value(json_object_get(resp, "batch")));
    json_decref(resp);
    return EXIT_OK;
}
