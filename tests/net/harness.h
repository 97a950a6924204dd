/* harness.h - helpers for the net tests: temp dirs, keys, net instances on
 * one loop, waiting for conditions, and raw (hostile) TCP clients. */
#ifndef MESH_TEST_NET_HARNESS_H
#define MESH_TEST_NET_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "keys.h"
#include "log.h"
#include "net.h"

/* Keys for a node: node.key in dir, K copied from a derived template (the
 * Argon2id derivation is slow and memory-hungry: do it once per authkey). */
void harness_keys(struct mesh_keys *out, const char *dir, const struct mesh_keys *mesh);
void harness_derive(struct mesh_keys *mesh, const char *authkey);

/* mkdtemp under /tmp; harness_rmdir removes it and its files. */
void harness_tmpdir(char out[64]);
void harness_rmdir(const char *dir);

struct tnode {
    struct mesh_keys keys;
    struct net *net;
    struct net_stats my_stats;
    char name[32];
    char dir[64];
    int ups, downs, msgs;
    uint8_t last_type;
    size_t last_len;
    uint64_t last_from;
    bool stopped;
};

/* Fast timings so tests run in seconds: tick 100 ms, dead after 600 ms,
 * handshake timeout 800 ms, reconnect 50..400 ms. */
void tnode_config(struct tnode *n, uv_loop_t *loop, struct net_config *cfg);
void tnode_start(struct tnode *n, uv_loop_t *loop, const char *name,
                 const char *dir, const struct mesh_keys *mesh);
void tnode_start_cfg(struct tnode *n, const struct net_config *cfg);
void tnode_stop(struct tnode *n, uv_loop_t *loop);
size_t tnode_connected(const struct tnode *n);
const struct net_peer *tnode_peer(const struct tnode *n, const struct tnode *other);

/* Runs the loop until cond(arg) or timeout; returns cond's final value. */
bool run_until(uv_loop_t *loop, bool (*cond)(void *), void *arg, uint64_t timeout_ms);
void run_for(uv_loop_t *loop, uint64_t ms);

/* A raw client: connects, writes the given bytes, then reads until the
 * server closes. */
struct raw_client {
    uv_tcp_t tcp;
    uv_connect_t req;
    uint8_t *send;
    size_t send_len;
    size_t received;
    bool connected, closed, handle_closed;
};
void raw_connect(struct raw_client *c, uv_loop_t *loop, uint16_t port,
                 const void *bytes, size_t len);
void raw_close(struct raw_client *c);

#endif
