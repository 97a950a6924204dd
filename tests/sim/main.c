/* main.c - mesh-sim: runs seeded simulations and says how to replay a
 * failing one.
 *
 *   mesh-sim --seed S --steps N      one run (replays a failure exactly)
 *   mesh-sim --seed S --seeds K      seeds S..S+K-1
 *   mesh-sim --random --seeds K      K seeds from a random base (printed)
 *   --time-limit SEC                 stop a batch of seeds after SEC s
 *   --jobs J                         J processes, each taking every J-th seed
 *   --twice                          run each seed twice: the digests must match
 *   --verbose                        a line of figures per run
 *   --lasting-liars                  every node that lies does so until the
 *                                    faults end
 *   --strict-raft                    a follower libraft leaves behind fails
 *                                    the run (else a new leader is made: run.c)
 *   --election-timeout MS            raft's election timeout (heartbeat a
 *                                    tenth of it; default libraft's 1000 ms,
 *                                    the node's is 300 ms)
 *   --holds P                        slow-node faults per 1000 steps (default 2:
 *                                    every 5 s on average)
 *   --max-copies N                   fail a run where one result was in more
 *                                    than N committed blocks (default 4; 0:
 *                                    unchecked): a copy per leadership at most
 *                                    (DESIGN "A result proposed once per
 *                                    leadership")
 *   --push-commit                    a leader tells its followers a commit at
 *                                    once, after each step, as the node does
 *                                    (commit_push.h); off by default so the
 *                                    fixed seeds keep the runs they were
 *                                    chosen for
 *   --require-scenarios              fail unless the seeds, together, met each
 *                                    scenario of the cluster tests the
 *                                    simulator took over (scenario_names)
 *
 * Exit 0 when every run passed, 1 at the first failure (with the replay
 * command), 2 on bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"

struct options {
    uint64_t seed;
    unsigned steps, seeds, jobs, election_ms, holds, max_copies;
    bool random, twice, verbose, strict_raft, lasting_liars, require_scenarios, push_commit;
    double time_limit;
};

/* The cluster tests' scenarios the simulator took over (doc/DESIGN.md,
 * "The simulator", Cluster tests it replaced): each must happen in some
 * passing run, else the invariants that replaced those tests were not put
 * to the test. */
enum { SCENARIOS = 6 };
static const char *const scenario_names[SCENARIOS] = {
    "a killed node's leases requeued (cluster_killed_follower_leases_requeued)",
    "a paused node's lease expired (cluster_sigstopped_node_requeued_then_rejoins)",
    "a failover after the heal (cluster_every_survivor_works_again_after_a_leader_kill)",
    "results sent again (cluster_lost_results_are_sent_again)",
    "a range never committed leased again (cluster_results_lost_with_their_node_are_redone)",
    "the leader and another node held at once (a slow node: a loaded host)",
};

static void count_scenarios(const struct sim_stats *st, uint64_t seen[SCENARIOS])
{
    seen[0] += st->requeued_dead;
    seen[1] += st->expired_paused;
    seen[2] += st->failovers;
    seen[3] += st->results_resent;
    seen[4] += st->settled_requeued;
    seen[5] += st->holds_leader;
}

static int check_scenarios(const uint64_t seen[SCENARIOS])
{
    int rc = 0;
    for (unsigned k = 0; k < SCENARIOS; k++) {
        printf("scenario: %llu x %s\n", (unsigned long long)seen[k], scenario_names[k]);
        if (seen[k] == 0) {
            fprintf(stderr, "mesh-sim: no run met: %s\n", scenario_names[k]);
            rc = 1;
        }
    }
    return rc;
}

/* The run in progress, for a CHECK that exits from deep inside: the
 * replay command is still printed (test programs may keep this one global). */
static const struct sim *in_progress;

static void say_replay(void)
{
    char election[40] = "", holds[24] = "", copies[32] = "";
    if (in_progress != NULL && in_progress->election_ms != 0)
        snprintf(election, sizeof election, " --election-timeout %u", in_progress->election_ms);
    if (in_progress != NULL && in_progress->hold_permille != SIM_HOLD_PERMILLE)
        snprintf(holds, sizeof holds, " --holds %u", in_progress->hold_permille);
    if (in_progress != NULL && in_progress->max_copies != SIM_MAX_COPIES)
        snprintf(copies, sizeof copies, " --max-copies %u", in_progress->max_copies);
    if (in_progress != NULL)
        fprintf(stderr, "replay: mesh-sim --seed %llu --steps %u%s%s%s%s%s%s\n",
                (unsigned long long)in_progress->seed, in_progress->steps,
                in_progress->lasting_liars ? " --lasting-liars" : "",
                in_progress->push_commit ? " --push-commit" : "",
                in_progress->strict_raft ? " --strict-raft" : "",
                election, holds, copies);
}

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(void)
{
    fprintf(stderr, "usage: mesh-sim [--seed S] [--steps N] [--seeds K] [--random] "
                    "[--time-limit SEC] [--jobs J] [--twice] [--verbose] "
                    "[--lasting-liars] [--strict-raft] [--election-timeout MS] "
                    "[--holds P] [--push-commit] [--require-scenarios]\n");
    return 2;
}

static int parse(int argc, char **argv, struct options *o)
{
    *o = (struct options){.seed = 1, .steps = 3000, .seeds = 1, .jobs = 1,
                          .holds = SIM_HOLD_PERMILLE, .max_copies = SIM_MAX_COPIES};
    for (int k = 1; k < argc; k++) {
        const char *a = argv[k], *v = k + 1 < argc ? argv[k + 1] : NULL;
        char *end = NULL;
        if (strcmp(a, "--random") == 0) {
            o->random = true;
        } else if (strcmp(a, "--twice") == 0) {
            o->twice = true;
        } else if (strcmp(a, "--verbose") == 0) {
            o->verbose = true;
        } else if (strcmp(a, "--strict-raft") == 0) {
            o->strict_raft = true;
        } else if (strcmp(a, "--require-scenarios") == 0) {
            o->require_scenarios = true;
        } else if (strcmp(a, "--lasting-liars") == 0) {
            o->lasting_liars = true;
        } else if (strcmp(a, "--push-commit") == 0) {
            o->push_commit = true;
        } else if (v != NULL && strcmp(a, "--seed") == 0) {
            o->seed = strtoull(v, &end, 10);
        } else if (v != NULL && strcmp(a, "--steps") == 0) {
            o->steps = (unsigned)strtoul(v, &end, 10);
        } else if (v != NULL && strcmp(a, "--seeds") == 0) {
            o->seeds = (unsigned)strtoul(v, &end, 10);
        } else if (v != NULL && strcmp(a, "--election-timeout") == 0) {
            o->election_ms = (unsigned)strtoul(v, &end, 10);
        } else if (v != NULL && strcmp(a, "--max-copies") == 0) {
            o->max_copies = (unsigned)strtoul(v, &end, 10);
        } else if (v != NULL && strcmp(a, "--holds") == 0) {
            o->holds = (unsigned)strtoul(v, &end, 10);
        } else if (v != NULL && strcmp(a, "--jobs") == 0) {
            o->jobs = (unsigned)strtoul(v, &end, 10);
        } else if (v != NULL && strcmp(a, "--time-limit") == 0) {
            o->time_limit = strtod(v, &end);
        } else {
            return -1;
        }
        if (end != NULL && (*end != '\0' || end == v))
            return -1;
        k += end != NULL;
    }
    if (o->jobs < 1 || o->jobs > 64)
        return -1;
    if (o->random && getrandom(&o->seed, sizeof o->seed, 0) != sizeof o->seed)
        return -1;
    if (o->random)
        o->seed >>= 16; /* short enough to type */
    return 0;
}

static size_t cancels(const struct sim *s)
{
    size_t n = 0;
    for (size_t k = 0; k < s->n_batches; k++)
        n += s->batches[k].cancel;
    return n;
}

static int run_one(struct sim *s, const struct options *o, uint64_t seed,
                   struct factor_ctx *fctx, const struct factor_verifier *v, double *sim_s,
                   uint64_t seen[SCENARIOS])
{
    uint64_t digest, again;
    in_progress = s;
    s->seed = seed;
    s->steps = o->steps;
    int rc = sim_run(s, seed, o->steps, fctx, v, &digest);
    if (rc == 0 && o->twice) {
        rc = sim_run(s, seed, o->steps, fctx, v, &again);
        if (rc == 0 && again != digest) {
            snprintf(s->failure, sizeof s->failure,
                     "not deterministic: digests %016llx and %016llx",
                     (unsigned long long)digest, (unsigned long long)again);
            rc = -1;
        }
    }
    if (rc != 0) {
        fprintf(stderr, "mesh-sim: seed %llu FAILED: %s\n", (unsigned long long)seed,
                s->failure);
        say_replay();
        in_progress = NULL;
        return -1;
    }
    in_progress = NULL;
    *sim_s += (double)sim_now(s) / 1000;
    count_scenarios(&s->stats, seen);
    if (o->verbose)
        printf("seed %llu: %u servers, %.0f s simulated, %zu batches (%zu cancelled, %llu sends), "
               "%llu numbers factored, "
               "%llu committed on replica 0, %llu leader changes, %llu failover after the heal, "
               "%llu kills, %llu pauses, "
               "%llu partitions, %llu drain sends, %llu raft stalls, %llu counts held, %llu lies refused, %llu messages lost, %llu snapshot "
               "restores, %llu leases of dead nodes and %llu of paused ones requeued, %llu "
               "ranges settled again, %llu results resends, %llu holds, %llu duplicates "
               "committed (one result in %llu blocks at most), %llu ms longest without progress after the heal, digest %016llx\n",
               (unsigned long long)seed, s->n, (double)sim_now(s) / 1000, s->n_batches, cancels(s),
               (unsigned long long)s->stats.submits,
               (unsigned long long)s->stats.numbers,
               (unsigned long long)s->stats.results_committed,
               (unsigned long long)s->stats.leader_changes,
               (unsigned long long)s->stats.failovers, (unsigned long long)s->stats.kills,
               (unsigned long long)s->stats.pauses, (unsigned long long)s->stats.partitions,
               (unsigned long long)s->stats.drains,
               (unsigned long long)s->stats.raft_stalls,
               (unsigned long long)s->stats.counts_held,
               (unsigned long long)s->stats.lies_refused,
               (unsigned long long)s->stats.messages_lost,
               (unsigned long long)s->stats.restores,
               (unsigned long long)s->stats.requeued_dead,
               (unsigned long long)s->stats.expired_paused,
               (unsigned long long)s->stats.settled_requeued,
               (unsigned long long)s->stats.results_resent, (unsigned long long)s->stats.holds,
               (unsigned long long)s->stats.duplicates,
               (unsigned long long)s->stats.max_copies,
               (unsigned long long)s->stats.max_stall_ms, (unsigned long long)digest);
    return 0;
}

/* What a share of the seeds came to. */
struct tally {
    unsigned done;
    double sim_s;
    bool failed;
    uint64_t seen[SCENARIOS];   /* times each scenario was met */
};

/* Seeds seed + first, + first + stride, ... until one fails or time is up. */
static struct tally run_share(struct sim *s, const struct options *o, unsigned first,
                              unsigned stride, struct factor_ctx *fctx,
                              const struct factor_verifier *v, double start)
{
    struct tally t = {0};
    for (unsigned k = first; k < o->seeds; k += stride) {
        if (o->time_limit > 0 && wall_s() - start >= o->time_limit)
            break;
        if (run_one(s, o, o->seed + k, fctx, v, &t.sim_s, t.seen) != 0) {
            t.failed = true;
            break;
        }
        t.done++;
    }
    return t;
}

/* --jobs: seeds are independent, so J forked processes take every J-th one
 * (a failure still prints its own replay command) and write their tally
 * back on a pipe. */
static struct tally run_jobs(struct sim *s, const struct options *o, struct factor_ctx *fctx,
                             const struct factor_verifier *v, double start)
{
    struct tally sum = {0};
    int fds[2];
    if (pipe(fds) != 0) {
        perror("mesh-sim: pipe");
        sum.failed = true;
        return sum;
    }
    fflush(stdout);
    for (unsigned j = 0; j < o->jobs; j++) {
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            struct tally t = run_share(s, o, j, o->jobs, fctx, v, start);
            ssize_t w = write(fds[1], &t, sizeof t); /* < PIPE_BUF: atomic */
            _exit(w == (ssize_t)sizeof t ? 0 : 1);
        }
        if (pid < 0) {
            perror("mesh-sim: fork");
            sum.failed = true;
        }
    }
    close(fds[1]);
    struct tally t;
    while (read(fds[0], &t, sizeof t) == (ssize_t)sizeof t) {
        sum.done += t.done;
        sum.sim_s += t.sim_s;
        sum.failed |= t.failed;
        for (unsigned k = 0; k < SCENARIOS; k++)
            sum.seen[k] += t.seen[k];
    }
    close(fds[0]);
    int status;
    while (wait(&status) > 0)
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            sum.failed = true; /* a CHECK that exited, or a crash */
    return sum;
}

int main(int argc, char **argv)
{
    struct options o;
    if (parse(argc, argv, &o) != 0)
        return usage();
    setvbuf(stdout, NULL, _IOLBF, 0);
    atexit(say_replay);
    struct factor_ctx fctx;
    struct factor_verifier *v = factor_verifier_new();
    if (factor_ctx_init(&fctx) != 0 || v == NULL) {
        fprintf(stderr, "mesh-sim: cannot set up the kernel\n");
        return 1;
    }
    struct sim *s = calloc(1, sizeof *s);
    if (s == NULL)
        return 1;
    s->verbose = o.verbose;
    s->strict_raft = o.strict_raft;
    s->election_ms = o.election_ms;
    s->hold_permille = o.holds;
    s->max_copies = o.max_copies;
    s->lasting_liars = o.lasting_liars;
    s->push_commit = o.push_commit;
    if (o.seeds > 1)
        printf("seeds %llu..%llu, %u steps each\n", (unsigned long long)o.seed,
               (unsigned long long)(o.seed + o.seeds - 1), o.steps);
    double start = wall_s();
    struct tally t = o.jobs > 1 ? run_jobs(s, &o, &fctx, v, start)
                                : run_share(s, &o, 0, 1, &fctx, v, start);
    double wall = wall_s() - start;
    printf("%u seed%s passed in %.1f s: %.0f seeds a minute, %.0f simulated s a wall s%s\n",
           t.done, t.done == 1 ? "" : "s", wall, wall > 0 ? t.done * 60 / wall : 0,
           wall > 0 ? t.sim_s / wall : 0, t.failed ? " (then one failed)" : "");
    int rc = t.failed ? 1 : 0;
    if (rc == 0 && o.require_scenarios)
        rc = check_scenarios(t.seen);
    free(s);
    factor_verifier_free(v);
    factor_ctx_free(&fctx);
    return rc;
}
