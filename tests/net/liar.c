/* liar.c - a mesh node whose workers lie, for the trust tests
 * (tests/net/trust_test.py): the real node (links, Raft, leases) with a
 * worker child that answers every number wrongly, three ways in turn: a
 * prime that does not divide N, a product that is not N, a made-up
 * unfactored rest (to a spread's curve job: a factor that does not divide
 * N). It stands for a broken machine, or a member modified to
 * lie: what the leader must refuse and, when it goes on, drain.
 *   liar [node options]      as `mesh`; its workers are `liar __worker` */
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>

#include "config.h"
#include "node/dispatch.h"
#include "node/node.h"
#include "node/run.h"

static int lying_worker(void)
{
    static const char *lies[] = {"done 7", "done 2 2", "partial 4"};
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    char line[4096];
    for (unsigned long k = 0; fgets(line, sizeof line, stdin) != NULL; k++) {
        unsigned long long id;
        if (sscanf(line, "%llu", &id) != 1)
            continue;
        /* A curve job of a spread's ECM (ecm_range.h): a "factor" 7,
         * which divides no test's N there. */
        if (strstr(line, " ecm:") != NULL)
            printf("%llu done ecm:0:7\n", id);
        else
            printf("%llu %s\n", id, lies[k % 3]);
        fflush(stdout);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "__worker") == 0)
        return lying_worker();
    struct node_config cfg;
    char err[512];
    if (node_config_parse(&cfg, argc, argv, err, sizeof err) != 0) {
        fprintf(stderr, "liar: %s\n", err);
        node_config_free(&cfg);
        return 2;
    }
    int rc = node_run(&cfg, &node_routes);
    node_config_free(&cfg);
    return rc;
}
