// libpng's simplified API (png_image_*), which reports errors in png_image.message and never
// longjmps into Swift. The include path comes from pkg-config (libpng.pc).
#include <png.h>
