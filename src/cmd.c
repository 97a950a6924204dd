/* cmd.c - the CLI subcommand table. */
#include "cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct cmd_entry *const cmd_table[] = {
    &cmd_submit_entry, &cmd_results_entry, &cmd_status_entry, &cmd_cancel_entry,
    &cmd_drain_entry,  &cmd_undrain_entry, &cmd_leave_entry,  &cmd_recover_entry,
    &cmd_factor_entry, &cmd_keygen_entry,  &cmd_events_entry, &cmd_forget_entry, &cmd_help_entry, NULL,
};

const struct cmd_entry *cmd_find(const char *name)
{
    for (size_t i = 0; cmd_table[i] != NULL; i++)
        if (strcmp(cmd_table[i]->name, name) == 0)
            return cmd_table[i];
    return NULL;
}

int cmd_usage_error(const struct cmd_entry *entry, const char *why)
{
    if (why != NULL)
        fprintf(stderr, "mesh %s: %s\n", entry->name, why);
    fprintf(stderr, "usage: mesh %s %s\n", entry->name, entry->usage);
    return EXIT_USAGE;
}

int cmd_batch_id(const struct cmd_entry *entry, const char *text, long long *id)
{
    char *end, why[96];
    errno = 0;
    *id = text[0] >= '0' && text[0] <= '9' ? strtoll(text, &end, 10) : 0;
    if (*id > 0 && *end == '\0' && errno == 0)
        return 0;
    snprintf(why, sizeof why, "a batch id is a positive whole number, not '%.40s'", text);
    return cmd_usage_error(entry, why);
}
