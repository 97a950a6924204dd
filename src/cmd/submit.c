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

static int cmd_submit_exec(const char *data_dir, int argc, char **argv);

const struct cmd_entry cmd_submit_entry = {
    "submit",
    "[--start S] [--count N] [--step K] | --file F|- | --semiprimes BITS --count N "
    "[--seed S]  [--chunk C] [--name NAME]",
    "submit a batch (default: 999 odd numbers from 999999999999, chunks of 43)",
    cmd_submit_exec,
};

static const struct option submit_options[] = {
    {"start", required_argument, NULL, 's'}, {"count", required_argument, NULL, 'n'},
    {"step", required_argument, NULL, 'k'},  {"file", required_argument, NULL, 'f'},
    {"semiprimes", required_argument, NULL, 'b'}, {"seed", required_argument, NULL, 'S'},
    {"chunk", required_argument, NULL, 'c'}, {"name", required_argument, NULL, 'N'},
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
           "  --start S --count N --step K  the range S, S+K, ... (N numbers; step 1 by default\n"
           "                                once any of them is given)\n"
           "  --file F                      one number per line ('-': stdin); blank lines and\n"
           "                                '#' comments are skipped; any bad line rejects the\n"
           "                                whole file, naming the line\n"
           "  --semiprimes BITS --count N   random balanced semiprimes of BITS bits (16..1024),\n"
           "  [--seed S]                    the same for the same seed on every machine\n"
           "  --chunk C                     numbers per job (default: adaptive, ~100 ms of work)\n"
           "  --name NAME                   a label shown in status\n"
           "Numbers are non-negative decimals below 2^1024. Prints the batch id.\n",
           self->usage, self->summary);
}

static int is_uint(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

static int cmd_submit_exec(const char *data_dir, int argc, char **argv)
{
    const struct cmd_entry *self = &cmd_submit_entry;
    json_t *req = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "cmd", "submit", "kind",
                            "range", "start", BATCH_CLASSIC_START, "count",
                            (json_int_t)BATCH_CLASSIC_COUNT, "step",
                            (json_int_t)BATCH_CLASSIC_STEP, "chunk",
                            (json_int_t)BATCH_CLASSIC_CHUNK); /* batch.h */
    const char *file = NULL;
    int opt, shaped = 0;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", submit_options, NULL)) != -1) {
        const char *key = NULL;
        switch (opt) {
        case 's': json_object_set_new(req, "start", json_string(optarg)); shaped = 1; continue;
        case 'n': key = "count"; break;
        case 'k': key = "step"; break;
        case 'b': key = "bits"; json_object_set_new(req, "kind", json_string("semiprimes")); break;
        case 'S': key = "seed"; break;
        case 'c': key = "chunk"; break;
        case 'f': file = optarg; continue;
        case 'N': json_object_set_new(req, "name", json_string(optarg)); continue;
        case 'h':
            json_decref(req);
            print_help(self);
            return EXIT_OK;
        default:
            json_decref(req);
            return cmd_usage_error(self, "unknown or incomplete option");
        }
        if (!is_uint(optarg)) {
            fprintf(stderr, "mesh submit: --%s needs a non-negative integer, not '%s'\n",
                    key, optarg);
            json_decref(req);
            return EXIT_USAGE;
        }
        json_object_set_new(req, key, json_string(optarg));
        if (opt != 'c')
            shaped = 1;
    }
    if (optind < argc) {
        json_decref(req);
        return cmd_usage_error(self, "unexpected argument");
    }
    /* Anything but the classic workload gets step 1 and adaptive chunks
     * unless given: the classic defaults only make sense together. */
    if (shaped || file != NULL) {
        if (json_is_integer(json_object_get(req, "chunk")))
            json_object_set_new(req, "chunk", json_integer(0));
        if (json_is_integer(json_object_get(req, "step")))
            json_object_set_new(req, "step", json_integer(1));
    }
    if (file != NULL && add_file_numbers(req, file) != 0) {
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
