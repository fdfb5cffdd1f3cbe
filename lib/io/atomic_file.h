#pragma once
// Atomic file replacement: the content goes to `<path>.tmp.<pid>` in the same directory, is
// fsync'ed, renamed over `path`, and the directory is fsync'ed. Whatever fails (a full disk, an
// I/O error, a short write, an exception from the writer, SIGKILL), `path` holds either its old
// content or the new one, never a torn file. The temporary is owned by a guard that removes it on
// every failure path; temporaries left by a killed process are removed by the next write of the
// same file. Errors are RuntimeError("cannot write '<path>': <strerror(errno)>").
#include <sys/types.h>

#include <functional>
#include <string>

namespace cnn {

// The system calls an atomic write makes. Tests replace them to inject faults (ENOSPC, EIO,
// short writes) at any call; restore the previous value after.
struct FileOps {
  ssize_t (*write)(int fd, const void* data, size_t size);
  int (*fsync)(int fd);
  int (*rename)(const char* from, const char* to);
  int (*close)(int fd);
};
FileOps& file_ops();         // the process-wide seam (initially the real calls)
FileOps system_file_ops();   // the real calls

// Writes all of `data` to `fd` through file_ops().write, retrying short writes and EINTR.
// Returns false with errno set on failure.
bool write_all(int fd, const void* data, size_t size);

// Runs `emit(fd)` on the temporary (it returns false with errno set, or throws), then makes the
// result the content of `path` atomically.
void atomic_write(const std::string& path, const std::function<bool(int fd)>& emit);

// Writes `content` to `path` atomically. For metrics, configs, reports.
void write_file_atomic(const std::string& path, const std::string& content);

}  // namespace cnn
