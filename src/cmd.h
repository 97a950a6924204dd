/* cmd.h - the CLI subcommand table, one file per command under src/cmd/.
 *
 * Each command is one const cmd_entry row: name, usage, a one-line summary
 * and its exec function, so the whole CLI reads at a glance in cmd.c. */
#ifndef MESH_CMD_H
#define MESH_CMD_H

/* Documented exit codes (README, `mesh --help`). */
enum {
    EXIT_OK = 0,      /* success */
    EXIT_FAIL = 1,    /* the command ran and failed (bad number, unknown batch...) */
    EXIT_USAGE = 2,   /* bad arguments, or no authkey for a node */
    EXIT_NO_NODE = 3, /* no node is running on the data dir (control socket) */
};

struct cmd_entry {
    const char *name;
    const char *usage;   /* arguments after the name, e.g. "[N...]" */
    const char *summary; /* one line for `mesh --help` */
    /* argv[0] is the command name; global options (--data-dir) were already
     * taken out and are passed in data_dir (NULL when not given). */
    int (*exec)(const char *data_dir, int argc, char **argv);
};

extern const struct cmd_entry cmd_submit_entry;
extern const struct cmd_entry cmd_results_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_cancel_entry;
extern const struct cmd_entry cmd_forget_entry;
extern const struct cmd_entry cmd_drain_entry;
extern const struct cmd_entry cmd_undrain_entry;
extern const struct cmd_entry cmd_leave_entry;
extern const struct cmd_entry cmd_recover_entry;
extern const struct cmd_entry cmd_factor_entry;
extern const struct cmd_entry cmd_keygen_entry;
extern const struct cmd_entry cmd_events_entry;
extern const struct cmd_entry cmd_help_entry;

/* What `mesh --help` and `mesh help` print: node options, commands, exit
 * codes. */
void cmd_print_help(void);

/* The table, NULL-terminated; and lookup by name. */
extern const struct cmd_entry *const cmd_table[];
const struct cmd_entry *cmd_find(const char *name);

/* A batch id as typed: 0 with *id, or EXIT_USAGE after the one wording
 * "mesh NAME: a batch id is a positive whole number, not 'X'" and the
 * usage line. */
int cmd_batch_id(const struct cmd_entry *entry, const char *text, long long *id);

/* Prints "usage: mesh NAME USAGE" to stderr; returns EXIT_USAGE. */
int cmd_usage_error(const struct cmd_entry *entry, const char *why);

#endif
