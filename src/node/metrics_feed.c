/* metrics_feed.c - the node's side of --metrics (metrics.h): starts the
 * endpoint and renders the view of the mesh (node_snapshot, the same one
 * `status --json` and the dashboard show) with this process's basics. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "node.h"
#include "metrics_feed.h"
#include "snapshot.h"
#include "metrics.h"
#include "consensus.h"

static unsigned open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    unsigned n = 0;
    if (d == NULL)
        return 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n > 0 ? n - 1 : 0;    /* not the one opendir holds */
}

static double cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static char *render(void *ud, size_t *len)
{
    struct node *n = ud;
    node_snapshot(n, &n->snapshot);
    size_t rss = 0;
    uv_resident_set_memory(&rss);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    double uptime = (double)(uv_now(&n->loop) - n->started_ms) / 1000.0;
    struct consensus_status cs;
    consensus_status(n->cons, &cs);
    struct metrics_process p = {
        .start_time_s = (double)now.tv_sec + (double)now.tv_nsec / 1e9 - uptime,
        .cpu_s = cpu_seconds(), .rss_bytes = rss, .open_fds = open_fds(),
        .uptime_s = uptime, .version = MESH_VERSION, .events_by_kind = n->events.by_kind,
        .raft_stalls = cs.stalls, .raft_clamped = cs.clamped,
    };
    return metrics_text(&n->snapshot, &p, len);
}

int node_metrics_start(struct node *n)
{
    if (n->cfg->metrics_host[0] == '\0')
        return 0;
    struct metrics_config mc = {
        .loop = &n->loop, .log = &n->log, .host = n->cfg->metrics_host,
        .port = n->cfg->metrics_port, .ud = n, .render = render,
    };
    char err[256];
    if (metrics_start(&n->metrics, &mc, err, sizeof err) != 0) {
        mlog(&n->log, LOG_ERROR, "%s", err);
        return -1;
    }
    mlog(&n->log, LOG_INFO, "metrics on http://%s%s%s:%u/metrics",
         strchr(n->cfg->metrics_host, ':') ? "[" : "", n->cfg->metrics_host,
         strchr(n->cfg->metrics_host, ':') ? "]" : "", (unsigned)n->cfg->metrics_port);
    return 0;
}

unsigned node_metrics_stop(struct node *n, void (*on_closed)(void *ud))
{
    if (n->metrics == NULL)
        return 0;
    metrics_stop(n->metrics, on_closed, n);
    n->metrics = NULL;
    return 1;
}
