/* forge.c - a key holder that lies to a real node, for the trust tests
 * (tests/net/trust_test.py). It speaks the real link protocol (member.h)
 * with fresh identities that never join the cluster:
 *   forge PORT AUTHKEY results BATCH FIRST COUNT
 *       one identity links and sends RESULTS (lease 0) for indexes
 *       FIRST..FIRST+COUNT-1 of BATCH, three kinds of lie in turn: a prime
 *       that does not divide N ("7"), a product that is not N ("2 2"), a
 *       made-up rest ("unfactored:4"); then it stays linked for a second.
 *   forge PORT AUTHKEY gossip N
 *       N identities (from 250 source addresses) each link once, send one
 *       CLUSTER gossip message, and leave.
 * Prints what it did; exits 0, or 1 when the node never linked it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "harness.h"
#include "member.h"
#include "meshmsg.h"

static int results(uv_loop_t *loop, uint16_t port, const struct mesh_keys *mesh,
                   uint64_t batch, uint64_t first, size_t count)
{
    static const char *lies[] = {"7", "2 2", "unfactored:4"};
    struct member m;
    member_connect(&m, loop, "127.0.0.2", port, mesh, NULL);
    if (!members_linked(loop, &m, 1, 10000) || m.closed) {
        fprintf(stderr, "forge: the node did not link us\n");
        return 1;
    }
    struct msg_result *items = calloc(count, sizeof *items);
    CHECK(items != NULL);
    for (size_t i = 0; i < count; i++) {
        const char *lie = lies[i % 3];
        items[i] = (struct msg_result){first + i, lie, strlen(lie)};
    }
    struct msg_results msg = {0, batch, count, items};
    uint8_t *buf;
    size_t len;
    CHECK(msg_results_encode(&msg, &buf, &len) == 0);
    member_send(&m, MESH_MSG_RESULTS, buf, len);
    free(buf);
    free(items);
    run_for(loop, 1000);
    printf("forge: sent %zu lies for batch %llu as %s\n", count, (unsigned long long)batch,
           m.keys.id_hex);
    member_close(&m);
    members_closed(loop, &m, 1, 5000);
    return 0;
}

static void send_gossip(struct member *m, void *arg)
{
    const struct msg_cluster *info = arg;
    uint8_t *buf;
    size_t len;
    CHECK(msg_cluster_encode(info, &buf, &len) == 0);
    member_send(m, MESH_MSG_CLUSTER, buf, len);
    free(buf);
}

static void gossip(uv_loop_t *loop, uint16_t port, const struct mesh_keys *mesh, size_t count)
{
    struct msg_cluster info = {0};
    size_t linked = members_in_waves(loop, port, mesh, count, send_gossip, &info);
    printf("forge: %zu identities gossiped once\n", linked);
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: forge PORT AUTHKEY results BATCH FIRST COUNT | "
                        "gossip N\n");
        return 2;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct mesh_keys mesh;
    harness_derive(&mesh, argv[2]);
    uint16_t port = (uint16_t)atoi(argv[1]);
    int rc = 0;
    if (strcmp(argv[3], "results") == 0 && argc == 7)
        rc = results(&loop, port, &mesh, strtoull(argv[4], NULL, 10),
                     strtoull(argv[5], NULL, 10), (size_t)strtoull(argv[6], NULL, 10));
    else if (strcmp(argv[3], "gossip") == 0)
        gossip(&loop, port, &mesh, (size_t)strtoull(argv[4], NULL, 10));
    else
        rc = 2;
    uv_loop_close(&loop);
    return rc;
}
