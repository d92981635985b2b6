// libjpeg(-turbo)'s API. jpeglib.h needs <stdio.h> (FILE) and <stddef.h> first. libjpeg reports
// fatal errors by calling error_exit, whose recovery needs setjmp/longjmp, so Swift never calls
// it directly: CJPEGDecode wraps decoding in C. The include path comes from pkg-config (libjpeg.pc).
#include <stddef.h>
#include <stdio.h>
#include <jpeglib.h>
#include <jerror.h>
