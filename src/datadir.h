/* datadir.h - the node's data directory: where it is, and who owns it.
 *
 * A data dir belongs to one running node at a time: a second node on the
 * same dir would share the key file, the control socket and (later) the
 * Raft log, so node start takes an exclusive flock on DIR/lock. */
#ifndef MESH_DATADIR_H
#define MESH_DATADIR_H

#include <stddef.h>

/* Default: $XDG_STATE_HOME/mesh, else /var/lib/mesh for root, else
 * $HOME/.local/state/mesh. Returns -1 if no home can be found. */
int datadir_default(char *out, size_t outlen);

/* Creates the directory (and parents) with mode 0700 if missing. */
int datadir_ensure(const char *dir, char *err, size_t errlen);

/* Takes the node lock; returns the lock fd (kept open for the node's life)
 * or -1 with "another node (pid N) is running on data dir DIR" in err. */
int datadir_lock(const char *dir, char *err, size_t errlen);

/* DIR/control.sock, the CLI's way in. */
int datadir_control_path(const char *dir, char *out, size_t outlen);

/* DIR/raft, the consensus log and snapshots. The one place its name is
 * built: start, restart, leave, recover and the damaged-state path all
 * act on it. -1 if it does not fit (a node's data dir is at most
 * PATH_MAX, so DATADIR_PATH_MAX always fits). */
#define DATADIR_PATH_MAX 4200
int datadir_raft_path(const char *dir, char *out, size_t outlen);

#endif
