#ifndef TRITONPACK_CSYSTEMSHIMS_H
#define TRITONPACK_CSYSTEMSHIMS_H

/// Atomically exchanges two paths on one filesystem (renameat2 RENAME_EXCHANGE).
/// Returns 0 on success, else -1 with errno set.
int tp_rename_exchange(const char *first, const char *second);

#endif
