/* siqs_par_bench.c - not a test: the wall time of one number through the
 * multi-precision SIQS on `jobs` cores (tests/bench/siqs_parallel.sh).
 * usage: siqs_par_bench N JOBS
 * prints "wall_ms factor self_cpu_ms workers_cpu_ms": this process's CPU
 * (setup, merge, combine) and its reaped workers' (the sieving). */
#include <stdio.h> /* before gmp.h */
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include <gmp.h>

#include "siqs.h"

static double cpu_ms(const struct rusage *ru)
{
    return (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1e3 +
           (double)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1e3;
}

int main(int argc, char **argv)
{
    mpz_t n, f;
    mpz_inits(n, f, NULL);
    if (argc != 3 || mpz_set_str(n, argv[1], 10) != 0 || atoi(argv[2]) < 1) {
        fprintf(stderr, "usage: siqs_par_bench N JOBS\n");
        return 2;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int r = siqs_mp_factor_jobs(n, f, 0, (unsigned)atoi(argv[2]));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    if (r != 1 || mpz_cmp_ui(f, 1) <= 0 || mpz_cmp(f, n) >= 0 || !mpz_divisible_p(n, f)) {
        fprintf(stderr, "siqs_par_bench: not split (%d)\n", r);
        return 1;
    }
    struct rusage self, kids;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    gmp_printf("%.1f %Zd %.1f %.1f\n", ms, f, cpu_ms(&self), cpu_ms(&kids));
    mpz_clears(n, f, NULL);
    return 0;
}
