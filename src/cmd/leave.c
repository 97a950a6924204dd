/* leave.c - `mesh leave`: this node leaves the mesh for good. It drains
 * (started numbers are finished and committed), hands over its vote and
 * leadership, leaves the configuration, forgets its raft state and exits
 * 0. Started again later, it joins as a new node. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "ctl_client.h"

static int leave_exec(const char *data_dir, int argc, char **argv);

const struct cmd_entry cmd_leave_entry = {
    "leave", "", "this node drains, hands over its vote, leaves the mesh and exits",
    leave_exec,
};

static int leave_exec(const char *data_dir, int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--help") == 0) {
        printf("usage: mesh leave\n%s\n", cmd_leave_entry.summary);
        return EXIT_OK;
    }
    if (argc != 1)
        return cmd_usage_error(&cmd_leave_entry, "takes no arguments");
    int code = EXIT_OK;
    json_t *resp = ctl_request(data_dir, json_pack("{s:s}", "cmd", "leave"), &code);
    if (resp == NULL)
        return code;
    const char *note = json_string_value(json_object_get(resp, "note"));
    printf("%s%s%s\n", json_string_value(json_object_get(resp, "state")), note ? ": " : "",
           note ? note : "");
    json_decref(resp);
    return EXIT_OK;
}
