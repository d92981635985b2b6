#if defined(__linux__)
#define _GNU_SOURCE
#include <sched.h>
#include <string.h>
#include <sys/prctl.h>
#endif
#include "CProcessControl.h"

int backdrop_set_parent_death_signal(int signal) {
#if defined(__linux__)
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0, 0, 0);
#else
    (void)signal;
    return -1;
#endif
}

long backdrop_affinity_mask(unsigned char *mask, unsigned long capacity) {
#if defined(__linux__)
    // Any size works that covers the kernel's CPU ids and is a multiple of sizeof(long) (the
    // dynamically sized sets of CPU_ALLOC); glibc zero-fills the bytes past the kernel's mask.
    unsigned long bytes = capacity - capacity % sizeof(unsigned long);
    if (bytes == 0) return -1;
    memset(mask, 0, bytes);
    if (sched_getaffinity(0, bytes, (cpu_set_t *)mask) != 0) return -1;
    return (long)bytes;
#else
    (void)mask; (void)capacity;
    return -1;
#endif
}
