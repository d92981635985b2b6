// OpenBLAS's CBLAS interface (sgemm and friends) plus openblas_set_num_threads.
// The include path comes from pkg-config (openblas.pc).
#include <cblas.h>
