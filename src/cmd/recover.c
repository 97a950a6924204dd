/* recover.c - `mesh recover --force`: on a survivor of a lost majority,
 * make this node the only voter of its cluster (etcd's
 * --force-new-cluster). Entries the lost voters committed that this node
 * never received are lost; a voter that comes back with them must not be
 * allowed to lead again, which is why this is refused while a quorum
 * exists and needs --force. The node's other former members stay as
 * standbys and are promoted again as they return. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "ctl_client.h"

static int recover_exec(const char *data_dir, int argc, char **argv);

const struct cmd_entry cmd_recover_entry = {
    "recover", "--force", "after a lost majority: make this node the only voter (risky)",
    recover_exec,
};

static int recover_exec(const char *data_dir, int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--help") == 0) {
        printf("usage: mesh recover --force\n%s\nOnly when most voters are gone for good. "
               "Writes this node's log as the\ncluster's truth: entries only the lost voters "
               "had are gone.\n", cmd_recover_entry.summary);
        return EXIT_OK;
    }
    if (argc != 2 || strcmp(argv[1], "--force") != 0)
        return cmd_usage_error(&cmd_recover_entry, "needs --force (read `mesh recover --help`)");
    fprintf(stderr, "mesh recover: WARNING: forcing this node to be the only voter; entries "
                    "committed only by the lost voters are lost\n");
    int code = EXIT_OK;
    json_t *resp = ctl_request(data_dir, json_pack("{s:s, s:b}", "cmd", "recover", "force", 1),
                               &code);
    if (resp == NULL)
        return code;
    printf("%s\n", json_string_value(json_object_get(resp, "state")));
    json_decref(resp);
    return EXIT_OK;
}
