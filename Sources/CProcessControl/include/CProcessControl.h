#ifndef C_PROCESS_CONTROL_H
#define C_PROCESS_CONTROL_H

/// Asks the kernel to send `signal` to this process when its parent dies (Linux
/// `prctl(PR_SET_PDEATHSIG)`), so a child of a killed runner does not live on as an orphan.
/// Returns 0 on success, -1 where unsupported or on error.
int backdrop_set_parent_death_signal(int signal);

#endif
