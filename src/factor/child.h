/* child.h - the worker child process: `mesh __worker --number-timeout MS`.
 *
 * The node runs one child per core so that a crash or hang in the kernel on
 * one number costs one process, never the node. Protocol, line based:
 *   stdin   "<id> <N>\n"      id: decimal u64 chosen by the node
 *           "<id> <N> <ms>\n" the same with this number's own budget (ms,
 *                             0 = unlimited) instead of --number-timeout's
 *           "<id> siqs:N:LO:HI[ <ms>]\n"  a range job of a spread batch
 *                             (siqs_range.h), answered "<id> done rels:..."
 *                             (the relations found) or "<id> error ..."
 *   stdout  "<id> done <f1> <f2> ...\n"          complete (N = 0, 1: none)
 *           "<id> partial <C> <f1> <f2> ...\n"   budget exceeded, C composite
 *           "<id> error <message>\n"             invalid request
 *           "<id> progress <phase> ...\n"        not an answer: where the
 *                             number <id> is (progress.h), sent a few times
 *                             a second while a long number runs, before its
 *                             answer
 * exactly one answer per request line, in order, flushed per line (a line
 * whose id cannot be read is answered with id 0; empty lines are ignored).
 * The child exits 0 at EOF on stdin and dies with its parent (SIGKILL via
 * PR_SET_PDEATHSIG). */
#ifndef MESH_FACTOR_CHILD_H
#define MESH_FACTOR_CHILD_H

#include <stddef.h>
#include <stdint.h>

#include "factor.h"

/* argv[0] == "__worker"; options: --number-timeout MS (default 0 =
 * unlimited). Returns the process exit code. */
int factor_child_main(int argc, char **argv);

/* Splits a request line (no newline) into its id, number token and, when
 * given, its budget (*budget_ms is left alone when not). 0 on success; -1
 * when the id is missing, not a u64, or not followed by exactly one space
 * and a token without blanks, or a budget that is not a u64 follows. The
 * token itself is validated by factor_decimal. */
int factor_child_parse_request(const char *line, size_t len, uint64_t *id,
                               const char **number, size_t *number_len, uint64_t *budget_ms);

/* The answer line for a finished request, newline included; malloc'd. */
char *factor_child_format_answer(uint64_t id, enum factor_status status,
                                 const struct factor_result *res);

#endif
