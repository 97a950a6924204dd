/* drain.c - `mesh drain [NODE]` / `mesh undrain [NODE]`: a node of the mesh
 * (this one by default; NODE by name or id) stops taking new work,
 * finishing the numbers it started, or takes work again. The flag is
 * replicated, so it holds on every node and across restarts. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "ctl_client.h"

static int drain_exec(const char *data_dir, int argc, char **argv);

const struct cmd_entry cmd_drain_entry = {
    "drain", "[NODE]", "a node (default: this one) finishes started numbers, takes no new work",
    drain_exec,
};

const struct cmd_entry cmd_undrain_entry = {
    "undrain", "[NODE]", "a node (default: this one) takes work again after a drain",
    drain_exec,
};

static int drain_exec(const char *data_dir, int argc, char **argv)
{
    const struct cmd_entry *self =
        strcmp(argv[0], "drain") == 0 ? &cmd_drain_entry : &cmd_undrain_entry;
    if (argc == 2 && strcmp(argv[1], "--help") == 0) {
        printf("usage: mesh %s [NODE]\n%s\nNODE: a node's name or id (or a unique "
               "prefix of the id), from `mesh status`\n", self->name, self->summary);
        return EXIT_OK;
    }
    if (argc > 2 || (argc == 2 && argv[1][0] == '-'))
        return cmd_usage_error(self, "takes at most one NODE");
    int code = EXIT_OK;
    json_t *req = json_pack("{s:s}", "cmd", self->name);
    if (argc == 2)
        json_object_set_new(req, "node", json_string(argv[1]));
    json_t *resp = ctl_request(data_dir, req, &code);
    if (resp == NULL)
        return code;
    printf("%s\n", json_string_value(json_object_get(resp, "state")));
    json_decref(resp);
    return EXIT_OK;
}
