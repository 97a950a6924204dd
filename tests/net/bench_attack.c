/* bench_attack.c - a key holder attacking a real node, for the README's
 * memory figures (tests/bench/lan_memory.sh):
 *   bench_attack PORT AUTHKEY identities N   N fresh identities link once
 *                                            each (from 250 sources), leave
 *   bench_attack PORT AUTHKEY noread SECS    one member links, then talks
 *                                            but never reads, for SECS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "harness.h"
#include "member.h"
#include "netmsg.h"

static void noread(uv_loop_t *loop, uint16_t port, const struct mesh_keys *mesh,
                   unsigned seconds)
{
    struct member m;
    member_connect(&m, loop, "127.0.0.2", port, mesh, NULL);
    CHECK(members_linked(loop, &m, 1, 10000) && !m.closed);
    member_stop_reading(&m);
    for (unsigned i = 0; i < seconds * 2 && !m.closed; i++) {
        uint8_t st[NET_STATS_BYTES];
        struct net_stats zero = {0};
        member_send(&m, NET_MSG_STATS, st, net_stats_encode(&zero, st));
        run_for(loop, 500);
    }
    printf("noread: %s after %u s\n", m.closed ? "cut off" : "still linked", seconds);
    member_close(&m);
    members_closed(loop, &m, 1, 5000);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: bench_attack PORT AUTHKEY identities N | noread SECS\n");
        return 2;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct mesh_keys mesh;
    harness_derive(&mesh, argv[2]);
    uint16_t port = (uint16_t)atoi(argv[1]);
    if (strcmp(argv[3], "identities") == 0)
        members_in_waves(&loop, port, &mesh, (size_t)atol(argv[4]), NULL, NULL);
    else
        noread(&loop, port, &mesh, (unsigned)atoi(argv[4]));
    uv_loop_close(&loop);
    return 0;
}
