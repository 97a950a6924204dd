/* forget.c - `mesh forget BATCH...`: the mesh forgets finished or
 * cancelled batches and their results, on every node, at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "ctl_client.h"

static int cmd_forget_exec(const char *data_dir, int argc, char **argv);

const struct cmd_entry cmd_forget_entry = {
    "forget", "BATCH...", "forget finished or cancelled batches and their results, mesh-wide",
    cmd_forget_exec,
};

static int cmd_forget_exec(const char *data_dir, int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--help") == 0) {
        printf("usage: mesh forget %s\n%s\n", cmd_forget_entry.usage,
               cmd_forget_entry.summary);
        return EXIT_OK;
    }
    if (argc < 2)
        return cmd_usage_error(&cmd_forget_entry, "expected at least one batch id");
    json_t *ids = json_array();
    for (int i = 1; i < argc; i++) {
        long long batch;
        if (cmd_batch_id(&cmd_forget_entry, argv[i], &batch) != 0) {
            json_decref(ids);
            return EXIT_USAGE;
        }
        json_array_append_new(ids, json_integer(batch));
    }
    int code = EXIT_OK;
    json_t *resp = ctl_request(data_dir, json_pack("{s:s, s:o}", "cmd", "forget", "batches",
                                                   ids), &code);
    if (resp == NULL)
        return code;
    for (int i = 1; i < argc; i++)
        printf("batch %s forgotten\n", argv[i]);
    json_decref(resp);
    return EXIT_OK;
}
