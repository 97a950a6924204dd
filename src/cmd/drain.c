/* drain.c - `mesh drain` / `mesh undrain`: the local node stops taking new
 * work (finishing the numbers it started) or takes work again. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "ctl_client.h"

static int drain_exec(const char *data_dir, int argc, char **argv);

const struct cmd_entry cmd_drain_entry = {
    "drain", "", "finish started numbers, take no new work", drain_exec,
};

const struct cmd_entry cmd_undrain_entry = {
    "undrain", "", "take work again after a drain", drain_exec,
};

static int drain_exec(const char *data_dir, int argc, char **argv)
{
    const struct cmd_entry *self =
        strcmp(argv[0], "drain") == 0 ? &cmd_drain_entry : &cmd_undrain_entry;
    if (argc == 2 && strcmp(argv[1], "--help") == 0) {
        printf("usage: mesh %s\n%s\n", self->name, self->summary);
        return EXIT_OK;
    }
    if (argc != 1)
        return cmd_usage_error(self, "takes no arguments");
    int code = EXIT_OK;
    json_t *resp = ctl_request(data_dir, json_pack("{s:s}", "cmd", self->name), &code);
    if (resp == NULL)
        return code;
    printf("%s\n", json_string_value(json_object_get(resp, "state")));
    json_decref(resp);
    return EXIT_OK;
}
