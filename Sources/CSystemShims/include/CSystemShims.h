#ifndef TRITONPACK_CSYSTEMSHIMS_H
#define TRITONPACK_CSYSTEMSHIMS_H

/// Atomically exchanges two paths on one filesystem (renameat2 RENAME_EXCHANGE).
/// Returns 0 on success, else -1 with errno set.
int tp_rename_exchange(const char *first, const char *second);

/// Renames `from` to `to` unless `to` exists (renameat2 RENAME_NOREPLACE): no window in which
/// another file at `to` could be replaced. Returns 0 on success, else -1 with errno set (EEXIST).
int tp_rename_noreplace(const char *from, const char *to);

/// Copies up to `count` bytes from the current offset of `input` to that of `output` inside the
/// kernel (copy_file_range), without passing them through user memory. Returns the bytes copied,
/// 0 at end of input, else -1 with errno set (EXDEV, EINVAL, ENOSYS, EOPNOTSUPP: not supported here).
long tp_copy_file_range(int input, int output, unsigned long count);

/// Makes malloc map allocations of at least `bytes` on their own and unmap them when freed
/// (mallopt M_MMAP_THRESHOLD, which also stops glibc from raising that threshold as it goes).
void tp_return_large_allocations(int bytes);

/// Makes SIGINT and SIGTERM only record themselves, so that work in progress can notice, clean up
/// and exit; the signal is then reported by tp_interruption_signal.
void tp_interruption_install(void);

/// The signal (SIGINT or SIGTERM) received since tp_interruption_install, or 0. Async-signal-safe.
int tp_interruption_signal(void);

#endif
