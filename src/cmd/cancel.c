/* cancel.c - `mesh cancel BATCH`: stop a batch; results so far are kept. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "ctl_client.h"

static int cmd_cancel_exec(const char *data_dir, int argc, char **argv);

const struct cmd_entry cmd_cancel_entry = {
    "cancel", "BATCH", "cancel a batch (finished results are kept)", cmd_cancel_exec,
};

static int cmd_cancel_exec(const char *data_dir, int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--help") == 0) {
        printf("usage: mesh cancel %s\n%s\n", cmd_cancel_entry.usage,
               cmd_cancel_entry.summary);
        return EXIT_OK;
    }
    if (argc != 2)
        return cmd_usage_error(&cmd_cancel_entry, "expected one batch id");
    long long batch;
    if (cmd_batch_id(&cmd_cancel_entry, argv[1], &batch) != 0)
        return EXIT_USAGE;
    int code = EXIT_OK;
    json_t *resp = ctl_request(data_dir, json_pack("{s:s, s:I}", "cmd", "cancel", "batch",
                                                   (json_int_t)batch), &code);
    if (resp == NULL)
        return code;
    printf("batch %lld cancelled\n", batch);
    json_decref(resp);
    return EXIT_OK;
}
