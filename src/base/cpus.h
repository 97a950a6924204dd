/* cpus.h - how many CPUs this process may run on.
 *
 * The CPUs of its affinity mask (a cpuset, taskset, systemd's CPUAffinity),
 * as nproc(1) counts them, not every online CPU: a node started in a
 * 2-CPU cpuset of a 64-CPU host runs 2 workers, and `mesh factor` forks
 * no more sieving jobs than it has CPUs. The online count when the mask
 * cannot be read; never 0. */
#ifndef MESH_BASE_CPUS_H
#define MESH_BASE_CPUS_H

unsigned usable_cpus(void);

#endif
