/* factor_driver.c - a stand-in for the `mesh` binary in the factor tests:
 * `factor_driver __worker ...` runs the worker child, `factor_driver
 * factor ...` runs `mesh factor`, exactly as main.c dispatches them. */
#include <stdio.h>
#include <string.h>

#include "child.h"
#include "cmd.h"

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "__worker") == 0)
        return factor_child_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "factor") == 0)
        return cmd_factor_entry.exec(NULL, argc - 1, argv + 1);
    fprintf(stderr, "usage: factor_driver __worker|factor ...\n");
    return 2;
}
