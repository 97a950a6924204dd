/* sm_oom.h - what the state machine does when memory runs out mid-apply.
 *
 * Every replica applies the same committed command. One that skipped a
 * command because malloc failed would silently diverge from the others (and
 * answer reads with a state no leader ever had), so apply never returns on
 * out of memory: it aborts and the node restarts from its snapshot and log.
 * Restore and snapshot are not applies: they still return errors. */
#ifndef MESH_SM_OOM_H
#define MESH_SM_OOM_H

/* Logs one line naming `what` to stderr and abort()s. */
_Noreturn void sm_oom(const char *what);

#endif
