#ifndef TRITONPACK_CLIBZIP_SHIM_H
#define TRITONPACK_CLIBZIP_SHIM_H
#include <zip.h>
#endif
