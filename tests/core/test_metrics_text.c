/* test_metrics_text.c - the Prometheus text of a view (src/metrics_text.c):
 * hostile names cannot break the format, counters end in _total, every
 * family has HELP and TYPE, bounded per-batch series. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "metrics.h"

static struct mesh_view snap;   /* large: not on the stack */

static void add_node(const char *id, const char *name, bool self)
{
    struct view_node *n = &snap.nodes[snap.n_nodes++];
    snprintf(n->id, sizeof n->id, "%s", id);
    snprintf(n->name, sizeof n->name, "%s", name);
    snprintf(n->role, sizeof n->role, "voter");
    snprintf(n->state, sizeof n->state, "active");
    n->self = self;
    n->connected = true;
    n->workers = 2;
    n->done = 7;
}

static char *render(void)
{
    static const uint64_t by_kind[MESH_EV_KIND_END] = {[MESH_EV_DRAIN] = 3};
    struct metrics_process p = {.version = "1.2.3", .events_by_kind = by_kind,
                                .raft_stalls = 2, .raft_clamped = 41};
    size_t len;
    char *text = metrics_text(&snap, &p, &len);
    CHECK(text != NULL && strlen(text) == len);
    return text;
}

static void test_hostile_names_escaped(void)
{
    add_node("a1", "self", true);
    add_node("b2", "q\"uo\\te\nnew\x1b[2Jline\xff", false);
    char *t = render();
    CHECK(strstr(t, "node=\"q\\\"uo\\\\te?new?[2Jline?\"") != NULL);
    CHECK(strchr(t, '\x1b') == NULL);
    /* every line: a comment, or NAME{labels} VALUE with no raw newline inside */
    for (char *line = strtok(t, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        if (line[0] == '#') {
            CHECK(strncmp(line, "# HELP mesh_", 12) == 0 || strncmp(line, "# TYPE mesh_", 12) == 0 ||
                  strncmp(line, "# HELP process_", 15) == 0 ||
                  strncmp(line, "# TYPE process_", 15) == 0);
            continue;
        }
        CHECK(strncmp(line, "mesh_", 5) == 0 || strncmp(line, "process_", 8) == 0);
        for (const char *c = line; *c; c++)
            CHECK((unsigned char)*c >= 0x20 && (unsigned char)*c < 0x7f);
    }
    free(t);
}

static void test_counters_and_families(void)
{
    char *t = render();
    CHECK(strstr(t, "# TYPE mesh_node_numbers_done_total counter\n") != NULL);
    CHECK(strstr(t, "mesh_node_numbers_done_total{node=\"self\",id=\"a1\"} 7\n") != NULL);
    CHECK(strstr(t, "mesh_events_total{kind=\"drain\"} 3\n") != NULL);
    CHECK(strstr(t, "mesh_build_info{version=\"1.2.3\"} 1\n") != NULL);
    CHECK(strstr(t, "# TYPE mesh_raft_follower_stalls_total counter\n"
                    "mesh_raft_follower_stalls_total 2\n") != NULL);
    CHECK(strstr(t, "mesh_raft_reports_clamped_total 41\n") != NULL);
    /* unfactored numbers: known for this node only */
    CHECK(strstr(t, "mesh_node_numbers_unfactored_total{node=\"self\"") != NULL);
    CHECK(strstr(t, "mesh_node_numbers_unfactored_total{node=\"q") == NULL);
    /* every TYPE line has its HELP line just before */
    for (char *p = strstr(t, "# TYPE "); p != NULL; p = strstr(p + 1, "# TYPE ")) {
        char *prev = p - 2;
        while (prev > t && *prev != '\n')
            prev--;
        CHECK(strncmp(prev == t ? prev : prev + 1, "# HELP ", 7) == 0);
    }
    free(t);
}

static void test_batches_bounded(void)
{
    for (int i = 0; i < 100; i++) {
        struct view_batch *b = &snap.batches[snap.n_batches++];
        b->id = (uint64_t)i + 1;
        snprintf(b->state, sizeof b->state, i == 3 ? "running" : "done");
        b->total = 10;
        b->done = i == 3 ? 5 : 10;
    }
    char *t = render();
    int series = 0;
    for (char *p = strstr(t, "\nmesh_batch_numbers_done{"); p != NULL;
         p = strstr(p + 1, "\nmesh_batch_numbers_done{"))
        series++;
    CHECK_INT_EQ(series, 1 + 16);        /* the running one and 16 finished */
    CHECK(strstr(t, "mesh_batch_progress_ratio{batch=\"4\",state=\"running\"} 0.5\n") != NULL);
    CHECK(strstr(t, "mesh_batch_numbers_done{batch=\"100\",") != NULL);
    CHECK(strstr(t, "mesh_batch_numbers_done{batch=\"1\",") == NULL);
    free(t);
}

/* A hard number on the whole mesh: one series per figure, for_batch empty
 * for a spread batch of its own, no ETA series when it is unknown. */
static void test_spread_series(void)
{
    snap.n_spread = 2;
    snap.spread[0] = (struct view_spread){.batch = 9, .for_batch = 4, .index = 2, .bits = 196,
                                          .found = 300, .needed = 1200, .rate = 150.5,
                                          .eta_known = true, .eta_s = 6, .n_nodes = 3};
    snprintf(snap.spread[0].phase, sizeof snap.spread[0].phase, "sieving");
    snap.spread[1] = (struct view_spread){.batch = 11, .index = 2048, .bits = 200,
                                          .found = 1300, .needed = 1200};
    snprintf(snap.spread[1].phase, sizeof snap.spread[1].phase, "matrix");
    char *t = render();
    CHECK(strstr(t, "# TYPE mesh_spread_found gauge\n") != NULL);
    CHECK(strstr(t, "mesh_spread_found{batch=\"9\",for_batch=\"4\",index=\"2\",bits=\"196\","
                    "phase=\"sieving\"} 300\n") != NULL);
    CHECK(strstr(t, "mesh_spread_found_per_second{batch=\"9\",for_batch=\"4\",index=\"2\","
                    "bits=\"196\",phase=\"sieving\"} 150.5\n") != NULL);
    CHECK(strstr(t, "mesh_spread_nodes_sieving{batch=\"9\",for_batch=\"4\",index=\"2\","
                    "bits=\"196\",phase=\"sieving\"} 3\n") != NULL);
    CHECK(strstr(t, "mesh_spread_needed{batch=\"11\",for_batch=\"\",index=\"2048\","
                    "bits=\"200\",phase=\"matrix\"} 1200\n") != NULL);
    CHECK(strstr(t, "mesh_spread_eta_seconds{batch=\"9\"") != NULL);
    CHECK(strstr(t, "mesh_spread_eta_seconds{batch=\"11\"") == NULL);
    snap.n_spread = 0;
    free(t);
}

int main(void)
{
    test_spread_series();
    test_hostile_names_escaped();
    test_counters_and_families();
    test_batches_bounded();
    return 0;
}
