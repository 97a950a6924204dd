/* test_dispatch.c - the runtime's dispatcher (src/node/dispatch.c) and the
 * node's route tables (src/node/routes.c): every link message type the
 * node speaks reaches its module, raft's range reaches consensus, a type
 * nobody routes calls nothing, and the tables run in their order. It links
 * the whole runtime (routes.c names every module's handlers). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "consensus.h"
#include "meshmsg.h"
#include "node/dispatch.h"
#include "node/node.h"

/* ---- the node's own tables ---------------------------------------------------- */

static bool speaks(unsigned type)
{
    return (type >= CONSENSUS_MSG_FIRST && type <= CONSENSUS_MSG_LAST) ||
           (type >= MESH_MSG_CLUSTER && type <= MESH_MSG_PROGRESS) ||
           type == MESH_MSG_FILE_GET || type == MESH_MSG_FILE_PART;
}

/* Each type the node speaks has one handler; REPLY two: the write waiting
 * for it, and a merge that asked the other cluster's leader. */
static void test_every_type_routed(void)
{
    for (unsigned t = 0; t <= 255; t++) {
        size_t want = !speaks(t) ? 0 : t == MESH_MSG_REPLY ? 2 : 1;
        if (dispatch_routes_of(&node_routes, (uint8_t)t) != want)
            fprintf(stderr, "type %u: %zu routes, want %zu\n", t,
                    dispatch_routes_of(&node_routes, (uint8_t)t), want);
        CHECK(dispatch_routes_of(&node_routes, (uint8_t)t) == want);
    }
}

/* No module takes one type twice, and every row is whole: a range, a
 * module's name and exactly one handler. */
static void test_rows_well_formed(void)
{
    size_t rows = 0;
    for (const struct node_msg_route *a = node_routes.messages;
         a->handle != NULL || a->handle_range != NULL; a++, rows++) {
        CHECK(a->first <= a->last);
        CHECK(a->module != NULL);
        CHECK((a->handle == NULL) != (a->handle_range == NULL));
        for (const struct node_msg_route *b = a + 1; b->handle != NULL || b->handle_range != NULL;
             b++)
            CHECK(strcmp(a->module, b->module) != 0 || b->first > a->last ||
                  b->last < a->first);
    }
    CHECK(rows > 0 && rows < 64);
    size_t ticks = 0;
    for (const struct node_tick_route *r = node_routes.ticks; r->tick != NULL; r++, ticks++)
        CHECK(r->module != NULL);
    CHECK(ticks > 0 && ticks < 64);
    /* The cluster organises and follows leadership before anyone leases. */
    CHECK_STR_EQ(node_routes.ticks[0].module, "cluster");
    size_t applied = 0;
    for (const struct node_applied_route *r = node_routes.applied;
         r->entry != NULL || r->then != NULL; r++, applied++) {
        CHECK(r->module != NULL);
        CHECK(r->entry == NULL || r->then == NULL);
    }
    CHECK(applied > 0 && applied < 64);
}

/* A type nobody routes is dropped: 0 handled, nothing called (a handler
 * run on this bare context would crash). */
static void test_unknown_types_dropped(void)
{
    struct node *n = calloc(1, sizeof *n);
    CHECK(n != NULL);
    n->cons = (struct consensus *)n; /* "open": only the rows decide */
    const uint8_t junk[4] = {1, 2, 3, 4};
    for (unsigned t = 0; t <= 255; t++)
        if (!speaks(t))
            CHECK(dispatch_message(&node_routes, n, 42, (uint8_t)t, junk, sizeof junk) == 0);
    free(n);
}

/* ---- the walk, on tables of this test ---------------------------------------------- */

static char calls[256];

static void note(const char *what)
{
    strncat(calls, what, sizeof calls - strlen(calls) - 1);
}

static void on_a(struct node *n, uint64_t peer, const uint8_t *data, size_t len)
{
    (void)n;
    CHECK(peer == 7 && len == 3 && data[0] == 'x');
    note("a");
}

static void on_b(struct node *n, uint64_t peer, const uint8_t *data, size_t len)
{
    (void)n, (void)peer, (void)data, (void)len;
    note("b");
}

/* Closes consensus, as a write's reply that leads to a restart could. */
static void on_closing(struct node *n, uint64_t peer, const uint8_t *data, size_t len)
{
    (void)peer, (void)data, (void)len;
    n->cons = NULL;
    note("c");
}

static void on_range(struct node *n, uint64_t peer, uint8_t type, const uint8_t *data, size_t len)
{
    (void)n, (void)peer, (void)data, (void)len;
    char t[8];
    snprintf(t, sizeof t, "r%u", type);
    note(t);
}

static void tick_1(struct node *n) { (void)n; note("1"); }
static void tick_2(struct node *n) { (void)n; note("2"); }

static void entry_e(struct node *n, const struct consensus_applied *a)
{
    (void)n;
    CHECK(a->batch_id == 9);
    note("e");
}

static const struct node_msg_route test_messages[] = {
    {10, 12, false, "range", NULL, on_range},
    {20, 20, false, "a", on_a, NULL},
    {20, 20, false, "b", on_b, NULL},
    {30, 30, true, "b", on_b, NULL},
    {40, 40, false, "c", on_closing, NULL},
    {40, 40, false, "b", on_b, NULL},
    {0, 0, false, NULL, NULL, NULL},
};
static const struct node_tick_route test_ticks[] = {{"1", tick_1}, {"2", tick_2}, {NULL, NULL}};
static const struct node_applied_route test_applied[] = {
    {"2", NULL, tick_2}, {"e", entry_e, NULL}, {"1", NULL, tick_1}, {NULL, NULL, NULL}};
static const struct node_tick_route test_restored[] = {{"2", tick_2}, {NULL, NULL}};

static uint64_t hook_from;

static void peer_p(struct node *n, uint64_t peer)
{
    (void)n;
    CHECK(peer == 7);
    note("p");
}

static void peer_q(struct node *n, uint64_t peer)
{
    (void)n, (void)peer;
    note("q");
}

static const struct node_peer_route test_up[] = {{"p", peer_p}, {"q", peer_q}, {NULL, NULL}};
static const struct node_peer_route test_down[] = {{"q", peer_q}, {NULL, NULL}};

static void stop_hook(struct node *n) { (void)n; note("s"); }

static void restart_hook(struct node *n, bool discard)
{
    (void)n;
    note(discard ? "R" : "r");
}

static void lease_hook(struct node *n, uint64_t from, const struct msg_lease *l)
{
    (void)n, (void)l;
    hook_from = from;
    note("L");
}

static void results_hook(struct node *n, uint64_t from, uint64_t batch,
                         const struct msg_result *items, size_t count)
{
    (void)n, (void)items;
    CHECK(batch == 3 && count == 2);
    hook_from = from;
    note("M");
}

static void lease_end_hook(struct node *n, uint64_t from, const struct msg_lease_end *e)
{
    (void)n, (void)e;
    hook_from = from;
    note("E");
}

static const struct node_routes test_routes = {
    .messages = test_messages, .ticks = test_ticks, .applied = test_applied,
    .restored = test_restored, .leader = test_ticks, .peer_up = test_up, .peer_down = test_down,
    .stop = stop_hook, .restart = restart_hook,
    .own_lease = lease_hook, .own_results = results_hook, .own_lease_end = lease_end_hook,
};

static void test_walk(void)
{
    struct node *n = calloc(1, sizeof *n);
    CHECK(n != NULL);
    n->cons = (struct consensus *)n;
    const uint8_t x[3] = {'x', 0, 0};

    calls[0] = '\0';
    CHECK(dispatch_message(&test_routes, n, 7, 20, x, 3) == 2); /* both, in order */
    CHECK(dispatch_message(&test_routes, n, 7, 11, x, 3) == 1); /* the range, told its type */
    CHECK(dispatch_message(&test_routes, n, 7, 13, x, 3) == 0);
    CHECK_STR_EQ(calls, "abr11");

    /* Whether consensus is open is asked once, when the message arrives:
     * a handler that closes it does not take it from the rows after. */
    calls[0] = '\0';
    CHECK(dispatch_message(&test_routes, n, 7, 40, x, 3) == 2);
    CHECK_STR_EQ(calls, "cb");
    CHECK(n->cons == NULL);

    /* Consensus closed (a restart): only any_time rows run. */
    calls[0] = '\0';
    CHECK(dispatch_message(&test_routes, n, 7, 20, x, 3) == 0);
    CHECK(dispatch_message(&test_routes, n, 7, 30, x, 3) == 1);
    CHECK_STR_EQ(calls, "b");
    CHECK(dispatch_routes_of(&test_routes, 20) == 2);

    calls[0] = '\0';
    dispatch_tick(&test_routes, n);
    struct consensus_applied a = {.batch_id = 9};
    dispatch_applied(&test_routes, n, &a);
    CHECK_STR_EQ(calls, "122e1");
    calls[0] = '\0';
    dispatch_restored(&test_routes, n);
    dispatch_leader(&test_routes, n);
    CHECK_STR_EQ(calls, "212");

    /* Links come and go: nothing while consensus is closed. */
    calls[0] = '\0';
    dispatch_peer(&test_routes, n, 7, true);
    n->cons = (struct consensus *)n;
    dispatch_peer(&test_routes, n, 7, true);
    dispatch_peer(&test_routes, n, 7, false);
    CHECK_STR_EQ(calls, "pqq");
    free(n);
}

/* The hooks go to the node's routes; what a node hands itself comes from
 * its own id. */
static void test_hooks(void)
{
    struct node *n = calloc(1, sizeof *n);
    CHECK(n != NULL);
    n->routes = &test_routes;
    n->keys.node_id = 0x5eed;
    calls[0] = '\0';
    dispatch_stop(n);
    dispatch_restart(n, true);
    dispatch_restart(n, false);
    struct msg_lease l = {0};
    hook_from = 0;
    dispatch_own_lease(n, &l);
    CHECK(hook_from == 0x5eed);
    struct msg_result items[2] = {{0}};
    hook_from = 0;
    dispatch_own_results(n, 3, items, 2);
    CHECK(hook_from == 0x5eed);
    struct msg_lease_end e = {0};
    hook_from = 0;
    dispatch_own_lease_end(n, &e);
    CHECK(hook_from == 0x5eed);
    CHECK_STR_EQ(calls, "sRrLME");
    /* The node's own routes wire every hook. */
    CHECK(node_routes.restored != NULL && node_routes.restored[0].tick != NULL);
    CHECK(node_routes.leader != NULL && node_routes.leader[0].tick != NULL);
    CHECK(node_routes.peer_up != NULL && node_routes.peer_up[0].on_peer != NULL);
    CHECK(node_routes.peer_down != NULL && node_routes.peer_down[0].on_peer != NULL);
    CHECK(node_routes.stop != NULL && node_routes.restart != NULL);
    CHECK(node_routes.own_lease != NULL && node_routes.own_results != NULL &&
          node_routes.own_lease_end != NULL);
    free(n);
}

int main(void)
{
    test_every_type_routed();
    test_rows_well_formed();
    test_unknown_types_dropped();
    test_walk();
    test_hooks();
    puts("ok");
    return 0;
}
