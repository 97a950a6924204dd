/* config.h - a node's configuration, from its command line and environment.
 *
 * The authkey comes from --authkey, --authkey-file or $MESH_AUTHKEY (in that
 * order of precedence). A key given on argv is copied out and the argv bytes
 * are overwritten, so `ps` and /proc/PID/cmdline no longer show it. */
#ifndef MESH_CONFIG_H
#define MESH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

enum {
    CONFIG_MAX_PEERS = 64, CONFIG_DEFAULT_PORT = 47110,
    CONFIG_DEFAULT_ELECTION_MS = 300, CONFIG_DEFAULT_HEARTBEAT_MS = 30, CONFIG_DEFAULT_VOTERS = 3,
    CONFIG_DEFAULT_VOTER_GRACE_S = 10, CONFIG_DEFAULT_REMOVE_AFTER_S = 600,
};
#define CONFIG_DEFAULT_NUMBER_TIMEOUT_S 60.0
/* Retention: a finished batch is kept a week (Celery keeps results a day,
 * Nomad's job GC four hours; a week covers a weekend's batch). The budget
 * bounds what the retained results hold (finished ones on disk, running
 * ones in memory): 256 MiB is about 9M typical results. Not more, because
 * libraft 0.15 snapshots are whole buffers: every snapshot encodes all
 * retained results in memory, and a follower that falls behind receives
 * them in one message (soak.sh at 512 MiB: up to 1 GiB RSS and a 137 s
 * round while a lagging follower caught up). doc/DESIGN.md, Retention. */
#define CONFIG_DEFAULT_KEEP_RESULTS_MS (7ull * 86400 * 1000)
#define CONFIG_DEFAULT_RESULTS_BUDGET (256ull << 20)

struct node_config {
    char *authkey;              /* malloc'd, never logged */
    size_t authkey_len;
    char data_dir[4096];
    unsigned workers;           /* 0 before parse: online CPUs */
    char name[64];
    bool headless;
    char log_file[4096];        /* empty: stderr */
    enum log_level log_level;
    double number_timeout_s;    /* per-number budget; 0 = unlimited */
    uint16_t port;
    char *peers[CONFIG_MAX_PEERS]; /* "HOST:PORT" strings, pointing into argv */
    size_t n_peers;
    bool no_mdns;
    unsigned election_ms, heartbeat_ms;  /* Raft timing */
    unsigned voters;            /* voters the mesh keeps (1, 3, 5) */
    unsigned expect;            /* nodes linked before the first bootstrap; 0: no wait */
    uint64_t voter_grace_ms;    /* an unreachable voter is replaced after this */
    uint64_t remove_after_ms;   /* a member gone this long leaves the configuration */
    bool rejoin;                /* removed or cluster gone: discard raft state, join */
    bool require_strong_key;    /* refuse a weak authkey (exit 2) */
    bool authkey_weak;          /* estimate below AUTHKEY_STRONG_BITS */
    const char *authkey_file;   /* --authkey-file whose mode lets others in (into argv) */
    unsigned authkey_file_mode; /* ... its permission bits; else 0 */
    bool no_color;              /* --no-color: a dashboard without colours */
    char metrics_host[64];      /* --metrics: numeric address; "" = off */
    uint16_t metrics_port;
    uint64_t keep_results_ms;   /* finished batches older than this are forgotten */
    uint64_t results_budget;    /* bytes of results retained; the oldest past it go */
};

/* Returns 0, or -1 with a message for the user in err (exit code 2). */
int node_config_parse(struct node_config *cfg, int argc, char **argv,
                      char *err, size_t errlen);
void node_config_free(struct node_config *cfg);
void node_config_usage(FILE *out);

/* Splits "HOST:PORT"; returns -1 when malformed. */
int config_split_hostport(const char *s, char *host, size_t hostlen, uint16_t *port);

#endif
