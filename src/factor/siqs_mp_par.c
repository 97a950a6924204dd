/* siqs_mp_par.c - one number on several cores: the multi-precision SIQS
 * with its polynomial ranges leased to forked workers.
 *
 * The parent sets the context up once (factor base, parameters) and forks
 * K workers, which inherit it copy-on-write. Each worker sieves the A
 * range it is leased, sends the relations found in the wire form
 * (siqs_mp_wire.h) and waits for the next lease; the parent hands out
 * one A at a time, the next on each completion (a worker that is slower
 * or shares its core simply takes fewer), checks and merges every
 * relation, and combines once there are enough sets. Workers are killed
 * and reaped on every way out. Processes rather than threads: the
 * context's sieve, buckets, polynomial and relations are all written
 * while sieving, so threads would each need their own context anyway, and
 * a worker that only speaks bytes over a socket is what a remote node
 * will be (doc/DESIGN.md, "One number on all cores"). The socket pair
 * (not a pipe) lets the parent send with MSG_NOSIGNAL: a worker that died
 * costs an error, not a SIGPIPE. Linux: workers die with the parent
 * (PR_SET_PDEATHSIG). Call it from a single-threaded process. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "siqs_mp_internal.h"
#include "siqs_mp_wire.h"

enum {
    LEASE_A = 1,                 /* A numbers a lease: ~0.1..0.5 s of sieving at 200 bits */
    MAX_FRAME = 64 << 20,        /* a message past this is a broken worker */
    POLL_MS = 200,               /* the parent's deadline check while waiting */
};

struct worker {
    pid_t pid;
    int fd;     /* the parent's end of the socket pair; -1 when gone */
};

struct lease {
    uint32_t a_lo, a_hi;
};

static uint64_t clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool read_all(int fd, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t got = read(fd, p, len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return false;
        p += got, len -= (size_t)got;
    }
    return true;
}

static bool send_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t sent = send(fd, p, len, MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent <= 0)
            return false;
        p += sent, len -= (size_t)sent;
    }
    return true;
}

/* A frame: 4-byte length (host order: both ends are this machine), then
 * the wire message. */
static bool send_relations(struct mp_ctx *ctx, int fd)
{
    uint8_t *msg;
    size_t len;
    if (!siqs_wire_encode(ctx, 0, ctx->rels.nrel, &msg, &len))
        return false;
    uint32_t len32 = (uint32_t)len;
    bool ok = len <= MAX_FRAME && send_all(fd, &len32, sizeof len32) && send_all(fd, msg, len);
    free(msg);
    siqs_mp_relations_free(&ctx->rels); /* sent: the parent keeps them */
    return ok;
}

/* The worker: lease in, relations out, until the parent closes or the
 * deadline passes. Never returns. */
static _Noreturn void work(struct mp_ctx *ctx, int fd, uint64_t deadline_ms)
{
    struct lease lease;
    while (read_all(fd, &lease, sizeof lease)) {
        bool timed_out = false;
        if (!siqs_mp_sieve_range(ctx, lease.a_lo, lease.a_hi, deadline_ms, &timed_out) ||
            !send_relations(ctx, fd))
            _exit(1);
    }
    _exit(0); /* _exit: the context is the parent's copy, not ours to free */
}

static void signal_workers(const struct worker *w, unsigned jobs, int sig)
{
    for (unsigned i = 0; i < jobs; i++)
        if (w[i].pid > 0)
            kill(w[i].pid, sig);
}

static void stop_workers(struct worker *w, unsigned jobs)
{
    for (unsigned i = 0; i < jobs; i++) {
        if (w[i].fd >= 0)
            close(w[i].fd);
        if (w[i].pid > 0) {
            kill(w[i].pid, SIGKILL);
            while (waitpid(w[i].pid, NULL, 0) < 0 && errno == EINTR)
                ;
        }
        w[i] = (struct worker){.pid = 0, .fd = -1};
    }
}

static bool start_workers(struct mp_ctx *ctx, struct worker *w, unsigned jobs, uint64_t deadline_ms)
{
    pid_t parent = getpid();
    for (unsigned i = 0; i < jobs; i++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
            return false;
        pid_t pid = fork();
        if (pid < 0) {
            close(sv[0]);
            close(sv[1]);
            return false;
        }
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent)
                _exit(1);
            for (unsigned j = 0; j < i; j++)
                close(w[j].fd);
            close(sv[0]);
            work(ctx, sv[1], deadline_ms);
        }
        close(sv[1]);
        w[i] = (struct worker){.pid = pid, .fd = sv[0]};
    }
    return true;
}

static bool grant(struct worker *w, uint32_t *next_a)
{
    struct lease lease = {*next_a, *next_a + LEASE_A};
    *next_a += LEASE_A;
    return send_all(w->fd, &lease, sizeof lease);
}

/* One worker's frame in: checked, merged, and the next lease out. False:
 * the worker is gone or broken (the caller drops it). */
static bool take_frame(struct mp_ctx *ctx, struct worker *w, uint32_t *next_a,
                       struct siqs_wire_stats *stats)
{
    uint32_t len;
    if (!read_all(w->fd, &len, sizeof len) || len > MAX_FRAME)
        return false;
    uint8_t *msg = malloc(len ? len : 1);
    bool ok = msg != NULL && read_all(w->fd, msg, len) && siqs_wire_decode(ctx, msg, len, stats);
    free(msg);
    return ok && grant(w, next_a);
}

/* Waits for frames until there are enough sets; 1 enough, 0 every worker
 * gone, -1 deadline. */
static int collect(struct mp_ctx *ctx, struct worker *w, unsigned jobs, uint32_t *next_a,
                   uint64_t deadline_ms, struct siqs_wire_stats *stats)
{
    struct pollfd pfd[SIQS_MP_MAX_JOBS];
    while (!siqs_mp_enough(ctx)) {
        siqs_mp_report(ctx, FACTOR_PHASE_SIEVE);
        unsigned live = 0;
        for (unsigned i = 0; i < jobs; i++) {
            pfd[i] = (struct pollfd){.fd = w[i].fd, .events = POLLIN};
            live += w[i].fd >= 0;
        }
        if (deadline_ms != 0 && clock_ms() >= deadline_ms)
            return -1; /* first: workers past the deadline quit on their own */
        if (live == 0)
            return 0;
        if (poll(pfd, jobs, POLL_MS) < 0 && errno != EINTR)
            return 0;
        for (unsigned i = 0; i < jobs; i++) {
            if (w[i].fd < 0 || (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0)
                continue;
            if (!take_frame(ctx, &w[i], next_a, stats)) {
                close(w[i].fd); /* reaped by stop_workers */
                w[i].fd = -1;
            }
        }
    }
    return 1;
}

int siqs_mp_run_parallel(struct mp_ctx *ctx, mpz_t factor, uint64_t deadline_ms, unsigned jobs,
                         struct siqs_wire_stats *stats)
{
    int ready = siqs_mp_setup(ctx, factor);
    if (ready != 0)
        return ready == 1;
    if (jobs > SIQS_MP_MAX_JOBS)
        jobs = SIQS_MP_MAX_JOBS;
    struct worker w[SIQS_MP_MAX_JOBS];
    for (unsigned i = 0; i < jobs; i++)
        w[i] = (struct worker){.pid = 0, .fd = -1};
    uint32_t next_a = 0;
    int found = 0;
    if (start_workers(ctx, w, jobs, deadline_ms)) {
        for (unsigned i = 0; i < jobs; i++)
            grant(&w[i], &next_a);
        for (int t = 0; t < SIQS_MP_COMBINE_TRIES && found == 0;) {
            int got = collect(ctx, w, jobs, &next_a, deadline_ms, stats);
            if (got != 1) {
                found = got;
                break;
            }
            /* Paused while the matrix runs: on K cores their sieving would
             * only slow the combine down, and mostly is not needed. */
            signal_workers(w, jobs, SIGSTOP);
            siqs_mp_report(ctx, FACTOR_PHASE_MATRIX);
            enum mp_combined r = siqs_mp_combine(ctx, factor);
            found = r == MP_COMBINE_SPLIT;
            t += r == MP_COMBINE_FAILED; /* a short check ran no matrix */
            signal_workers(w, jobs, SIGCONT);
        }
    }
    stop_workers(w, jobs);
    return found;
}
