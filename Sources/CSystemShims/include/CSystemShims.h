#ifndef TRITONPACK_CSYSTEMSHIMS_H
#define TRITONPACK_CSYSTEMSHIMS_H

/// Atomically exchanges two paths on one filesystem (renameat2 RENAME_EXCHANGE).
/// Returns 0 on success, else -1 with errno set.
int tp_rename_exchange(const char *first, const char *second);

/// Renames `from` to `to` unless `to` exists (renameat2 RENAME_NOREPLACE): no window in which
/// another file at `to` could be replaced. Returns 0 on success, else -1 with errno set (EEXIST).
int tp_rename_noreplace(const char *from, const char *to);

#endif
