#ifndef C_PROCESS_CONTROL_H
#define C_PROCESS_CONTROL_H

/// Asks the kernel to send `signal` to this process when its parent dies (Linux
/// `prctl(PR_SET_PDEATHSIG)`), so a child of a killed runner does not live on as an orphan.
/// Returns 0 on success, -1 where unsupported or on error.
int backdrop_set_parent_death_signal(int signal);

/// Copies this process's CPU affinity mask (`sched_getaffinity(0, …)`: bit i of byte i / 8 set when
/// the process may run on CPU i) into `mask`, at most `capacity` bytes. Returns the number of bytes
/// written, or -1 where unsupported or on error (e.g. a kernel mask longer than `capacity`).
long backdrop_affinity_mask(unsigned char *mask, unsigned long capacity);

#endif
