/* test_cpus.c - the CPUs a process may use (src/base/cpus.c): its affinity
 * mask's count, as nproc's, not every online CPU. */
#include <sched.h>
#include <unistd.h>

#include "check.h"
#include "cpus.h"

int main(void)
{
    cpu_set_t all;
    CHECK(sched_getaffinity(0, sizeof all, &all) == 0);
    CHECK_INT_EQ((long long)usable_cpus(), (long long)CPU_COUNT(&all));
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    CHECK(online >= 1 && usable_cpus() <= (unsigned)online);
    /* Pinned to one CPU (taskset -c N, a one-CPU cpuset): one. */
    int first = 0;
    while (!CPU_ISSET(first, &all))
        first++;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    CHECK(sched_setaffinity(0, sizeof one, &one) == 0);
    CHECK_INT_EQ((long long)usable_cpus(), 1);
    CHECK(sched_setaffinity(0, sizeof all, &all) == 0);
    CHECK_INT_EQ((long long)usable_cpus(), (long long)CPU_COUNT(&all));
    return 0;
}
