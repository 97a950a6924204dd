/* help.c - `mesh help [COMMAND]`: what `mesh --help` prints, or the
 * command's own --help. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "config.h"

static int cmd_help_exec(const char *data_dir, int argc, char **argv);

const struct cmd_entry cmd_help_entry = {
    "help", "[COMMAND]", "this help, or a command's (mesh help submit)", cmd_help_exec,
};

void cmd_print_help(void)
{
    node_config_usage(stdout);
    printf("\ncommands (mesh COMMAND --help or mesh help COMMAND for details):\n");
    for (size_t i = 0; cmd_table[i] != NULL; i++)
        printf("  %-8s %s\n", cmd_table[i]->name, cmd_table[i]->summary);
    printf("\nexit codes: 0 ok, 1 failed (bad number, no such batch, ...), "
           "2 usage error (bad or\n            conflicting arguments, no authkey), "
           "3 no node running on the data dir\n"
           "errors read \"mesh COMMAND: what is wrong\" on stderr\n");
}

static int cmd_help_exec(const char *data_dir, int argc, char **argv)
{
    if (argc == 1) {
        cmd_print_help();
        return EXIT_OK;
    }
    if (argc == 2 && strcmp(argv[1], "--help") == 0) {
        printf("usage: mesh help %s\n%s\n", cmd_help_entry.usage, cmd_help_entry.summary);
        return EXIT_OK;
    }
    const struct cmd_entry *c = argc == 2 ? cmd_find(argv[1]) : NULL;
    if (c == NULL)
        return cmd_usage_error(&cmd_help_entry, argc == 2 ? "no such command" : "one command");
    if (c == &cmd_help_entry) {
        cmd_print_help();
        return EXIT_OK;
    }
    char help[] = "--help";
    char *args[] = {argv[1], help, NULL};
    return c->exec(data_dir, 2, args);
}
