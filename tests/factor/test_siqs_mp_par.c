/* test_siqs_mp_par.c - one number on several cores (siqs_mp_par.c): a
 * 150- and a 180-bit balanced semiprime split with 2 and 3 workers, every
 * relation the workers sent checked good (none dropped); a 200-bit one
 * stopped by its deadline; and after each, no worker left behind (no
 * child to reap, zombie or running). */
#include <stdio.h> /* before gmp.h */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#include <gmp.h>

#include "check.h"
#include "siqs.h"
#include "siqs_mp_internal.h"
#include "siqs_mp_wire.h"

static gmp_randstate_t rng;

static void random_prime(mpz_t p, unsigned bits)
{
    do {
        mpz_urandomb(p, rng, bits);
        mpz_setbit(p, bits - 1);
        mpz_nextprime(p, p);
    } while (mpz_sizeinbase(p, 2) != bits);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* No child of ours exists any more: waitpid has nobody to wait for. */
static void check_no_children(void)
{
    CHECK(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD);
}

static int run(const mpz_t n, mpz_t f, uint64_t deadline_ms, unsigned jobs,
               struct siqs_wire_stats *st)
{
    struct mp_ctx ctx;
    siqs_mp_ctx_init(&ctx, n);
    int r = siqs_mp_run_parallel(&ctx, f, deadline_ms, jobs, st);
    siqs_mp_ctx_free(&ctx);
    return r;
}

static void check_split(unsigned bits, unsigned jobs)
{
    mpz_t p, q, n, f;
    mpz_inits(p, q, n, f, NULL);
    random_prime(p, bits / 2);
    random_prime(q, bits - bits / 2);
    mpz_mul(n, p, q);
    struct siqs_wire_stats st = {0};
    uint64_t t0 = now_ms();
    int r = run(n, f, 0, jobs, &st);
    fprintf(stderr, "%zu bits, %u jobs: %d in %llu ms; relations added %zu, repeats %zu, "
            "dropped %zu, malformed %zu\n", mpz_sizeinbase(n, 2), jobs, r,
            (unsigned long long)(now_ms() - t0), st.added, st.repeats, st.dropped, st.malformed);
    CHECK(r == 1);
    CHECK(mpz_cmp(f, p) == 0 || mpz_cmp(f, q) == 0);
    CHECK(st.added > 0 && st.dropped == 0 && st.malformed == 0);
    check_no_children();
    /* The public entry point agrees. */
    CHECK(siqs_mp_factor_jobs(n, f, 0, jobs) == 1);
    CHECK(mpz_cmp(f, p) == 0 || mpz_cmp(f, q) == 0);
    check_no_children();
    mpz_clears(p, q, n, f, NULL);
}

static void test_deadline(void)
{
    mpz_t p, q, n, f;
    mpz_inits(p, q, n, f, NULL);
    random_prime(p, 100);
    random_prime(q, 100);
    mpz_mul(n, p, q);
    struct siqs_wire_stats st = {0};
    uint64_t t0 = now_ms();
    CHECK(run(n, f, t0 + 300, 2, &st) == -1);
    fprintf(stderr, "deadline: stopped after %llu ms\n", (unsigned long long)(now_ms() - t0));
    CHECK(now_ms() - t0 < 3000); /* generous: sanitizers, a loaded machine */
    check_no_children();
    mpz_clears(p, q, n, f, NULL);
}

static double children_cpu_ms(void)
{
    struct rusage ru;
    CHECK(getrusage(RUSAGE_CHILDREN, &ru) == 0);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* Jobs are cut to the CPUs the affinity mask allows: pinned to one CPU,
 * a number asked of 3 jobs is split by this process alone (no reaped
 * child's CPU time appears), and the mask restored gives the jobs back. */
static void test_usable_jobs(void)
{
    cpu_set_t all, one;
    CHECK(sched_getaffinity(0, sizeof all, &all) == 0);
    unsigned cpus = (unsigned)CPU_COUNT(&all);
    CHECK(siqs_mp_usable_jobs(1) == 1);
    CHECK(siqs_mp_usable_jobs(64) == (cpus < 64 ? cpus : 64));
    CPU_ZERO(&one);
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &all)) {
            CPU_SET(c, &one);
            break;
        }
    CHECK(sched_setaffinity(0, sizeof one, &one) == 0);
    CHECK(siqs_mp_usable_jobs(2) == 1 && siqs_mp_usable_jobs(3) == 1);
    mpz_t p, q, n, f;
    mpz_inits(p, q, n, f, NULL);
    random_prime(p, 75);
    random_prime(q, 75);
    mpz_mul(n, p, q);
    double before = children_cpu_ms();
    CHECK(siqs_mp_factor_jobs(n, f, 0, 3) == 1);
    CHECK(mpz_cmp(f, p) == 0 || mpz_cmp(f, q) == 0);
    check_no_children();
    CHECK(children_cpu_ms() == before);
    CHECK(sched_setaffinity(0, sizeof all, &all) == 0);
    CHECK(siqs_mp_usable_jobs(2) == (cpus < 2 ? cpus : 2));
    fprintf(stderr, "usable jobs: %u CPUs, 1 when pinned to one\n", cpus);
    mpz_clears(p, q, n, f, NULL);
}

int main(void)
{
    gmp_randinit_default(rng);
    gmp_randseed_ui(rng, 20261207);
    check_no_children();
    check_split(150, 2);
    check_split(180, 2);
    check_split(160, 3);
    test_deadline();
    test_usable_jobs();
    gmp_randclear(rng);
    return 0;
}
