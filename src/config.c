/* config.c - see config.h. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include "authkey.h"
#include "cpus.h"
#include "datadir.h"
#include "units.h"

enum { MAX_AUTHKEY_FILE = 4096 };

enum opt_id {
    OPT_AUTHKEY = 256, OPT_AUTHKEY_FILE, OPT_DATA_DIR, OPT_WORKERS, OPT_NAME,
    OPT_HEADLESS, OPT_LOG_FILE, OPT_LOG_LEVEL, OPT_NUMBER_TIMEOUT, OPT_PORT,
    OPT_PEER, OPT_NO_MDNS, OPT_ELECTION_MS, OPT_HEARTBEAT_MS, OPT_VOTERS,
    OPT_REQUIRE_STRONG_KEY,
    OPT_EXPECT,
    OPT_VOTER_GRACE,
    OPT_REMOVE_AFTER,
    OPT_REJOIN, OPT_NO_COLOR, OPT_METRICS,
    OPT_KEEP_RESULTS, OPT_RESULTS_BUDGET,
};

static const struct option node_options[] = {
    {"authkey", required_argument, NULL, OPT_AUTHKEY},
    {"authkey-file", required_argument, NULL, OPT_AUTHKEY_FILE},
    {"data-dir", required_argument, NULL, OPT_DATA_DIR},
    {"workers", required_argument, NULL, OPT_WORKERS},
    {"name", required_argument, NULL, OPT_NAME},
    {"headless", no_argument, NULL, OPT_HEADLESS},
    {"log-file", required_argument, NULL, OPT_LOG_FILE},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"number-timeout", required_argument, NULL, OPT_NUMBER_TIMEOUT},
    {"port", required_argument, NULL, OPT_PORT},
    {"peer", required_argument, NULL, OPT_PEER},
    {"no-mdns", no_argument, NULL, OPT_NO_MDNS},
    {"election-timeout", required_argument, NULL, OPT_ELECTION_MS},
    {"heartbeat", required_argument, NULL, OPT_HEARTBEAT_MS},
    {"voters", required_argument, NULL, OPT_VOTERS},
    {"require-strong-key", no_argument, NULL, OPT_REQUIRE_STRONG_KEY},
    {"expect", required_argument, NULL, OPT_EXPECT},
    {"voter-grace", required_argument, NULL, OPT_VOTER_GRACE},
    {"remove-after", required_argument, NULL, OPT_REMOVE_AFTER},
    {"rejoin", no_argument, NULL, OPT_REJOIN},
    {"no-color", no_argument, NULL, OPT_NO_COLOR},
    {"metrics", required_argument, NULL, OPT_METRICS},
    {"keep-results", required_argument, NULL, OPT_KEEP_RESULTS},
    {"results-budget", required_argument, NULL, OPT_RESULTS_BUDGET},
    {NULL, 0, NULL, 0},
};

void node_config_usage(FILE *out)
{
    fprintf(out,
        "usage: mesh --authkey KEY [options]      run a node\n"
        "       mesh [--data-dir DIR] COMMAND ...  talk to the local node\n"
        "\n"
        "node options:\n"
        "  --authkey KEY          shared mesh key (or --authkey-file FILE, or $MESH_AUTHKEY);\n"
        "                         make one with `mesh keygen`\n"
        "  --authkey-file FILE    read the key from FILE (trailing newline stripped)\n"
        "  --data-dir DIR         state directory (default $XDG_STATE_HOME/mesh,\n"
        "                         /var/lib/mesh for root)\n"
        "  --workers N            worker processes (default: the CPUs it may use, nproc)\n"
        "  --name NAME            node name (default: host name)\n"
        "  --headless             no dashboard; one log line per event\n"
        "  --no-color             dashboard without colours (also: NO_COLOR set)\n"
        "  --metrics ADDR:PORT    serve Prometheus metrics on http://ADDR:PORT/metrics\n"
        "                         (off by default; e.g. 127.0.0.1:9464, loopback advised)\n"
        "  --log-file FILE        log there instead of stderr\n"
        "  --log-level LEVEL      error, warn, info (default), debug\n"
        "  --number-timeout TIME  per-number budget: 500ms, 5s, 10m; a bare number\n"
        "                         is seconds; none or 0: no limit (default 60s)\n"
        "  --keep-results TIME    forget finished batches this old: 30m, 12h, 7d\n"
        "                         (default 7d)\n"
        "  --results-budget SIZE  results the mesh retains: past it the oldest\n"
        "                         finished batches are forgotten, and with only\n"
        "                         running ones, submits refused (default 256MiB)\n"
        "  --port PORT            listen for peers (default %d, 0 = any free port)\n"
        "  --peer HOST:PORT       dial a static peer (repeatable)\n"
        "  --no-mdns              no mDNS discovery\n"
        "  --require-strong-key   refuse to start with a weak (guessable) authkey\n"
        "  --voters N             Raft voters the mesh keeps: 1, 3 or 5 (default 3)\n"
        "  --expect N             wait for N linked nodes before founding a mesh\n"
        "  --voter-grace SECS     replace a voter unreachable this long, and give up\n"
        "                         a cluster out of sight this long (default %d)\n"
        "  --remove-after SECS    remove a node gone this long (default %d)\n"
        "  --rejoin               if this node was removed or its cluster is gone,\n"
        "                         discard its raft state and join the mesh afresh\n"
        "  --election-timeout MS  Raft election timeout (default %d; LAN)\n"
        "  --heartbeat MS         Raft heartbeat (default %d; under half of the above)\n",
        CONFIG_DEFAULT_PORT, CONFIG_DEFAULT_VOTER_GRACE_S, CONFIG_DEFAULT_REMOVE_AFTER_S,
        CONFIG_DEFAULT_ELECTION_MS, CONFIG_DEFAULT_HEARTBEAT_MS);
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    if (s[0] < '0' || s[0] > '9')
        return -1;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return -1;
    *out = v;
    return 0;
}

int config_split_hostport(const char *s, char *host, size_t hostlen, uint16_t *port)
{
    const char *colon = strrchr(s, ':');
    unsigned long p;
    if (colon == NULL || colon == s || (size_t)(colon - s) >= hostlen ||
        parse_uint(colon + 1, 65535, &p) != 0 || p == 0)
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    *port = (uint16_t)p;
    return 0;
}

/* --metrics ADDR:PORT: a numeric IPv4 or [IPv6] address and a port. */
static int parse_metrics(struct node_config *cfg, const char *arg, char *err, size_t errlen)
{
    char host[64];
    uint16_t port;
    unsigned char addr[sizeof(struct in6_addr)];
    if (config_split_hostport(arg, host, sizeof host, &port) == 0) {
        size_t len = strlen(host);
        if (len > 2 && host[0] == '[' && host[len - 1] == ']') {
            memmove(host, host + 1, len - 2);
            host[len - 2] = '\0';
            if (inet_pton(AF_INET6, host, addr) != 1)
                port = 0;
        } else if (inet_pton(AF_INET, host, addr) != 1) {
            port = 0;
        }
        if (port != 0) {
            snprintf(cfg->metrics_host, sizeof cfg->metrics_host, "%s", host);
            cfg->metrics_port = port;
            return 0;
        }
    }
    snprintf(err, errlen, "invalid value '%s' for --metrics: give ADDR:PORT with a numeric "
             "IPv4 address or [IPv6] address and a port 1-65535, e.g. 127.0.0.1:9464", arg);
    return -1;
}

static int set_authkey(struct node_config *cfg, const char *key, size_t len,
                       char *err, size_t errlen)
{
    if (len == 0) {
        snprintf(err, errlen, "the authkey is empty");
        return -1;
    }
    free(cfg->authkey);
    cfg->authkey = malloc(len + 1);
    if (cfg->authkey == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(cfg->authkey, key, len);
    cfg->authkey[len] = '\0';
    cfg->authkey_len = len;
    return 0;
}

static int read_authkey_file(struct node_config *cfg, const char *path,
                             char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (f == NULL) {
        snprintf(err, errlen, "cannot read authkey file %s: %s", path, strerror(errno));
        return -1;
    }
    /* As ssh does with a private key: a key others can read is told (the
     * node warns at start, node/links.c); fstat of the file read, not a
     * second lookup of the name. */
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077) != 0) {
        cfg->authkey_file = path;
        cfg->authkey_file_mode = (unsigned)(st.st_mode & 0777);
    }
    char buf[MAX_AUTHKEY_FILE + 1];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (n > MAX_AUTHKEY_FILE) {
        snprintf(err, errlen, "authkey file %s is larger than %d bytes", path,
                 MAX_AUTHKEY_FILE);
        return -1;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    int rc = set_authkey(cfg, buf, n, err, errlen);
    memset(buf, 0, sizeof buf);
    return rc;
}

/* Overwrites a secret argv string in place: /proc/PID/cmdline reads these
 * very bytes, so after this `ps` shows an empty argument. */
static void scrub_arg(char *arg)
{
    memset(arg, 0, strlen(arg));
}

static void set_defaults(struct node_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->log_level = LOG_INFO;
    cfg->number_timeout_s = CONFIG_DEFAULT_NUMBER_TIMEOUT_S;
    cfg->port = CONFIG_DEFAULT_PORT;
    cfg->election_ms = CONFIG_DEFAULT_ELECTION_MS;
    cfg->heartbeat_ms = CONFIG_DEFAULT_HEARTBEAT_MS;
    cfg->voters = CONFIG_DEFAULT_VOTERS;
    cfg->voter_grace_ms = CONFIG_DEFAULT_VOTER_GRACE_S * 1000ull;
    cfg->remove_after_ms = CONFIG_DEFAULT_REMOVE_AFTER_S * 1000ull;
    cfg->keep_results_ms = CONFIG_DEFAULT_KEEP_RESULTS_MS;
    cfg->results_budget = CONFIG_DEFAULT_RESULTS_BUDGET;
    cfg->workers = usable_cpus(); /* nproc's count: a cpuset's, not the host's */
    if (gethostname(cfg->name, sizeof cfg->name - 1) != 0 || cfg->name[0] == '\0')
        snprintf(cfg->name, sizeof cfg->name, "node");
}

static int apply_option(struct node_config *cfg, int opt, char *arg,
                        char *err, size_t errlen)
{
    unsigned long v;
    switch (opt) {
    case OPT_AUTHKEY: {
        int rc = set_authkey(cfg, arg, strlen(arg), err, errlen);
        scrub_arg(arg);
        return rc;
    }
    case OPT_AUTHKEY_FILE:
        return read_authkey_file(cfg, arg, err, errlen);
    case OPT_DATA_DIR:
        if (snprintf(cfg->data_dir, sizeof cfg->data_dir, "%s", arg) >=
            (int)sizeof cfg->data_dir)
            break;
        return 0;
    case OPT_WORKERS:
        if (parse_uint(arg, 1024, &v) != 0 || v == 0)
            break;
        cfg->workers = (unsigned)v;
        return 0;
    case OPT_NAME:
        if (arg[0] == '\0' || strlen(arg) >= sizeof cfg->name)
            break;
        snprintf(cfg->name, sizeof cfg->name, "%s", arg);
        return 0;
    case OPT_HEADLESS:
        cfg->headless = true;
        return 0;
    case OPT_LOG_FILE:
        snprintf(cfg->log_file, sizeof cfg->log_file, "%s", arg);
        return 0;
    case OPT_LOG_LEVEL: {
        int level = log_level_parse(arg);
        if (level < 0)
            break;
        cfg->log_level = (enum log_level)level;
        return 0;
    }
    case OPT_NUMBER_TIMEOUT: {
        uint64_t ms;
        if (units_parse_timeout_ms(arg, &ms) != 0 || ms > 86400ull * 365 * 1000)
            break;
        cfg->number_timeout_s = (double)ms / 1000.0;
        return 0;
    }
    case OPT_PORT:
        if (parse_uint(arg, 65535, &v) != 0)
            break;
        cfg->port = (uint16_t)v;
        return 0;
    case OPT_PEER: {
        char host[256];
        uint16_t port;
        if (cfg->n_peers >= CONFIG_MAX_PEERS ||
            config_split_hostport(arg, host, sizeof host, &port) != 0)
            break;
        cfg->peers[cfg->n_peers++] = arg;
        return 0;
    }
    case OPT_NO_MDNS:
        cfg->no_mdns = true;
        return 0;
    case OPT_ELECTION_MS:
        if (parse_uint(arg, 60000, &v) != 0 || v < 50)
            break;
        cfg->election_ms = (unsigned)v;
        return 0;
    case OPT_HEARTBEAT_MS:
        if (parse_uint(arg, 10000, &v) != 0 || v < 5)
            break;
        cfg->heartbeat_ms = (unsigned)v;
        return 0;
    case OPT_VOTERS:
        if (parse_uint(arg, 5, &v) != 0 || (v != 1 && v != 3 && v != 5))
            break;
        cfg->voters = (unsigned)v;
        return 0;
    case OPT_REQUIRE_STRONG_KEY:
        cfg->require_strong_key = true;
        return 0;
    case OPT_EXPECT:
        if (parse_uint(arg, 1024, &v) != 0 || v == 0)
            break;
        cfg->expect = (unsigned)v;
        return 0;
    case OPT_VOTER_GRACE:
        if (parse_uint(arg, 86400, &v) != 0 || v == 0)
            break;
        cfg->voter_grace_ms = v * 1000ull;
        return 0;
    case OPT_REMOVE_AFTER:
        if (parse_uint(arg, 86400 * 365, &v) != 0 || v == 0)
            break;
        cfg->remove_after_ms = v * 1000ull;
        return 0;
    case OPT_REJOIN:
        cfg->rejoin = true;
        return 0;
    case OPT_NO_COLOR:
        cfg->no_color = true;
        return 0;
    case OPT_METRICS:
        return parse_metrics(cfg, arg, err, errlen);
    case OPT_KEEP_RESULTS:
        if (units_parse_duration_ms(arg, &cfg->keep_results_ms) != 0 ||
            cfg->keep_results_ms < 1000)
            break;
        return 0;
    case OPT_RESULTS_BUDGET:
        if (units_parse_size(arg, &cfg->results_budget) != 0 || cfg->results_budget < 4096)
            break;
        return 0;
    default:
        snprintf(err, errlen, "unknown option (see mesh --help)");
        return -1;
    }
    snprintf(err, errlen, "invalid value '%s' for --%s", arg,
             node_options[opt - OPT_AUTHKEY].name);
    return -1;
}

/* Judged here, while the key is still in memory; the node reports the
 * verdict (log, status, dashboard) after the key is wiped. */
static int check_key_strength(struct node_config *cfg, char *err, size_t errlen)
{
    unsigned bits = authkey_strength_bits(cfg->authkey, cfg->authkey_len);
    cfg->authkey_weak = bits < AUTHKEY_STRONG_BITS;
    if (cfg->authkey_weak && cfg->require_strong_key) {
        snprintf(err, errlen, "refusing a weak authkey (about %u bits of entropy, "
                 "--require-strong-key wants %d): %s", bits, AUTHKEY_STRONG_BITS,
                 AUTHKEY_WEAK_RISK);
        return -1;
    }
    return 0;
}

static int finish_config(struct node_config *cfg, char *err, size_t errlen)
{
    if (cfg->authkey == NULL) {
        const char *env = getenv("MESH_AUTHKEY");
        if (env == NULL || env[0] == '\0') {
            snprintf(err, errlen, "no authkey: give --authkey KEY, --authkey-file FILE "
                                  "or set MESH_AUTHKEY");
            return -1;
        }
        if (set_authkey(cfg, env, strlen(env), err, errlen) != 0)
            return -1;
    }
    if (cfg->heartbeat_ms * 2 > cfg->election_ms) {
        snprintf(err, errlen, "--heartbeat must be under half of --election-timeout");
        return -1;
    }
    if (cfg->remove_after_ms < cfg->voter_grace_ms) {
        snprintf(err, errlen, "--remove-after must be at least --voter-grace");
        return -1;
    }
    if (check_key_strength(cfg, err, errlen) != 0)
        return -1;
    if (cfg->data_dir[0] == '\0' &&
        datadir_default(cfg->data_dir, sizeof cfg->data_dir) != 0) {
        snprintf(err, errlen, "no default data dir (set HOME or use --data-dir)");
        return -1;
    }
    return 0;
}

int node_config_parse(struct node_config *cfg, int argc, char **argv,
                      char *err, size_t errlen)
{
    set_defaults(cfg);
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "", node_options, NULL)) != -1) {
        if (opt == '?' || opt == ':') {
            snprintf(err, errlen, "unknown or incomplete option '%s' (see mesh --help)",
                     argv[optind - 1]);
            return -1;
        }
        if (apply_option(cfg, opt, optarg, err, errlen) != 0)
            return -1;
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument '%s' (see mesh --help)", argv[optind]);
        return -1;
    }
    return finish_config(cfg, err, errlen);
}

void node_config_free(struct node_config *cfg)
{
    if (cfg->authkey != NULL) {
        memset(cfg->authkey, 0, cfg->authkey_len);
        free(cfg->authkey);
        cfg->authkey = NULL;
    }
}
