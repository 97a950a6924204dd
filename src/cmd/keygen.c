/* keygen.c - `mesh keygen`: print a new random authkey (like `consul keygen`
 * or `wg genkey`). Needs no node and no data dir. */
#include <stdio.h>
#include <string.h>

#include "authkey.h"
#include "cmd.h"

static int keygen_exec(const char *data_dir, int argc, char **argv);

const struct cmd_entry cmd_keygen_entry = {
    "keygen", "", "print a new random authkey (256 bits)", keygen_exec,
};

static int keygen_exec(const char *data_dir, int argc, char **argv)
{
    (void)data_dir;
    if (argc == 2 && strcmp(argv[1], "--help") == 0) {
        printf("usage: mesh keygen\n%s\n"
               "Save it once (mesh keygen > mesh.key; chmod 600 mesh.key) and give\n"
               "that same key file to every node of the mesh.\n", cmd_keygen_entry.summary);
        return EXIT_OK;
    }
    if (argc != 1)
        return cmd_usage_error(&cmd_keygen_entry, "takes no arguments");
    char key[AUTHKEY_TEXT_MAX + 1];
    if (authkey_generate(key) != 0) {
        fprintf(stderr, "mesh keygen: no random source\n");
        return EXIT_FAIL;
    }
    printf("%s\n", key);
    return EXIT_OK;
}
