/* wallclock.h - the wall clock in milliseconds since the epoch: the one
 * reading for what must be a date (event times, the time a proposer puts
 * in a log entry, the age of a finished batch); intervals use the loop's
 * monotonic clock instead. */
#ifndef MESH_WALLCLOCK_H
#define MESH_WALLCLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t wallclock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#endif
