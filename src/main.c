/* main.c - argv to action: a node, a control subcommand, or a worker.
 *
 *   mesh --authkey KEY [node options]     run a node
 *   mesh [--data-dir DIR] COMMAND ...     a CLI subcommand (src/cmd/)
 *   mesh __worker ...                     a worker process (internal) */
#include <stdio.h>
#include <string.h>

#include "child.h"
#include "cmd.h"
#include "config.h"
#include "node/dispatch.h"
#include "node/node.h"
#include "node/run.h"

/* Takes leading "--data-dir DIR" / "--data-dir=DIR" off argv; returns the
 * index of the first remaining argument. */
static int take_data_dir(int argc, char **argv, const char **data_dir)
{
    int i = 1;
    while (i < argc) {
        if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc) {
            *data_dir = argv[i + 1];
            i += 2;
        } else if (strncmp(argv[i], "--data-dir=", 11) == 0) {
            *data_dir = argv[i] + 11;
            i++;
        } else {
            break;
        }
    }
    return i;
}

static int run_node(int argc, char **argv)
{
    struct node_config cfg;
    char err[512];
    if (node_config_parse(&cfg, argc, argv, err, sizeof err) != 0) {
        fprintf(stderr, "mesh: %s\n", err);
        node_config_free(&cfg);
        return EXIT_USAGE;
    }
    int rc = node_run(&cfg, &node_routes);
    node_config_free(&cfg);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "__worker") == 0)
        return factor_child_main(argc - 1, argv + 1);
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        cmd_print_help();
        return EXIT_OK;
    }
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("mesh %s\n", MESH_VERSION);
        return EXIT_OK;
    }
    const char *data_dir = NULL;
    int first = take_data_dir(argc, argv, &data_dir);
    const struct cmd_entry *cmd = first < argc ? cmd_find(argv[first]) : NULL;
    if (cmd != NULL)
        return cmd->exec(data_dir, argc - first, argv + first);
    if (first < argc && argv[first][0] != '-') {
        fprintf(stderr, "mesh: unknown command '%s' (see mesh --help)\n", argv[first]);
        return EXIT_USAGE;
    }
    return run_node(argc, argv);
}
