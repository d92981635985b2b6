// The module's umbrella header: every public header of CKernels. An umbrella header (not the
// directory) so that adding a header here changes a file the compiler's module cache checks,
// and incremental builds pick the new declarations up.
#include "implicit_conv.h"
#include "softmax_rows.h"
#include "stratified_infonce.h"
#include "batch_norm_passes.h"
#include "winograd_conv.h"
