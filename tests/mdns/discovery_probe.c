/* discovery_probe.c - one discovery instance as a process, for tests that
 * put instances in different network namespaces.
 *
 *   discovery_probe NAME ID_HEX TAG_HEX PORT PEERS LINGER_MS DEADLINE_MS
 *
 * Prints "peer <id> <address> <port>" for each report. Once PEERS distinct
 * peers were seen it stays published LINGER_MS more (so slower probes can
 * see it too) and exits 0; exits 1 if DEADLINE_MS passes first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "discovery.h"

struct probe {
    uv_loop_t *loop;
    struct discovery *d;
    unsigned want;
    uint64_t linger_ms;
    uv_timer_t linger, deadline;
    int result;
};

static void on_stopped(void *ud)
{
    struct probe *p = ud;
    uv_close((uv_handle_t *)&p->linger, NULL);
    uv_close((uv_handle_t *)&p->deadline, NULL);
}

static void finish(struct probe *p, int result)
{
    p->result = result;
    uv_timer_stop(&p->linger);
    uv_timer_stop(&p->deadline);
    discovery_stop(p->d, on_stopped);
}

static void on_linger_over(uv_timer_t *t)
{
    finish(t->data, 0);
}

static void on_deadline(uv_timer_t *t)
{
    fprintf(stderr, "probe: deadline passed\n");
    finish(t->data, 1);
}

static void on_peer(void *ud, const struct discovery_peer *peer)
{
    struct probe *p = ud;
    printf("peer %s %s %u\n", peer->id_hex, peer->address, peer->port);
    fflush(stdout);
    struct discovery_status st;
    discovery_status(p->d, &st);
    if (st.peers_seen >= p->want && !uv_is_active((uv_handle_t *)&p->linger))
        uv_timer_start(&p->linger, on_linger_over, p->linger_ms, 0);
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: %s NAME ID TAG PORT PEERS LINGER_MS "
                        "DEADLINE_MS\n", argv[0]);
        return 2;
    }
    static const char pk[] =
        "0000000000000000000000000000000000000000000000000000000000000000";
    struct mesh_log lg = {.out = stderr, .level = LOG_INFO};
    struct probe p = {.loop = uv_default_loop(), .result = 1};
    p.want = (unsigned)strtoul(argv[5], NULL, 10);
    p.linger_ms = strtoull(argv[6], NULL, 10);
    uv_timer_init(p.loop, &p.linger);
    uv_timer_init(p.loop, &p.deadline);
    p.linger.data = p.deadline.data = &p;
    uv_timer_start(&p.deadline, on_deadline, strtoull(argv[7], NULL, 10), 0);
    struct discovery_config cfg = {
        .loop = p.loop, .log = &lg, .name = argv[1],
        .port = (uint16_t)strtoul(argv[4], NULL, 10), .id_hex = argv[2],
        .pk_hex = pk, .tag_hex = argv[3], .version = 1, .ud = &p,
        .on_peer = on_peer,
    };
    if (discovery_start(&p.d, &cfg) != 0) {
        fprintf(stderr, "probe: bad arguments\n");
        return 2;
    }
    uv_run(p.loop, UV_RUN_DEFAULT);
    uv_loop_close(p.loop);
    return p.result;
}
