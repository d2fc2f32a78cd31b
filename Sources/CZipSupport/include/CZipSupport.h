#ifndef TRITONPACK_CZIPSUPPORT_H
#define TRITONPACK_CZIPSUPPORT_H

#include <stddef.h>
#include <zip.h>

/// A libzip source that writes a new archive to `fd` (open for writing, empty) through two buffers
/// of `buffer_size` bytes, one filled while a writer thread writes the other: a large entry costs a
/// few large writes instead of one per 4 KiB, and they overlap libzip's CRC and copying.
/// The archive owns the source; the caller keeps `fd` and closes it after zip_close/zip_discard.
zip_source_t *tp_zip_output_source(int fd, size_t buffer_size, zip_error_t *error);

/// Where a file source records which file failed, since libzip reports only the error itself.
typedef struct {
  char path[4096];
  /// 1 when the file's size differed from the size given (it changed while being bundled).
  int changed;
} tp_zip_failure;

/// A libzip source that reads exactly `size` bytes of the file at `path`, `buffer_size` bytes per
/// read; the file is opened only while libzip copies it, and its buffer freed after, so memory
/// does not grow with the number or size of files. A file that is shorter or longer than `size`
/// when read is an error (it changed while being bundled).
zip_source_t *tp_zip_file_source(zip_t *archive, const char *path, zip_uint64_t size, size_t buffer_size,
                                 tp_zip_failure *failure);

#endif
