#include "io/atomic_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "core/error.h"

namespace cnn {

FileOps system_file_ops() { return FileOps{::write, ::fsync, ::rename, ::close}; }

FileOps& file_ops() {
  static FileOps ops = system_file_ops();
  return ops;
}

namespace {

[[noreturn]] void fail(const std::string& path, int err) {
  throw RuntimeError(fmt::format("cannot write '{}': {}", path, std::strerror(err)));
}

// Owns a file descriptor: closes it on destruction; close() reports the error of an explicit close.
class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) file_ops().close(fd_);
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  bool close() {  // false with errno set
    const int fd = fd_;
    fd_ = -1;
    return file_ops().close(fd) == 0;
  }

 private:
  int fd_;
};

// Owns a temporary file name: unlinks it on destruction unless released (after the rename).
class TempFileGuard {
 public:
  explicit TempFileGuard(std::string path) : path_(std::move(path)) {}
  ~TempFileGuard() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  TempFileGuard(const TempFileGuard&) = delete;
  TempFileGuard& operator=(const TempFileGuard&) = delete;
  void release() { path_.clear(); }

 private:
  std::string path_;
};

std::string dir_of(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Removes `<path>.tmp.<pid>` files whose process is gone (a write killed midway). Those of live
// processes (another writer of the same file) are left alone.
void remove_stale_temporaries(const std::string& path) {
  const std::string dir = dir_of(path);
  const size_t slash = path.find_last_of('/');
  const std::string prefix = (slash == std::string::npos ? path : path.substr(slash + 1)) + ".tmp.";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string pid_text = name.substr(prefix.size());
    if (pid_text.empty() || pid_text.size() > 9 || pid_text.find_first_not_of("0123456789") != std::string::npos)
      continue;
    const pid_t pid = static_cast<pid_t>(std::stol(pid_text));
    if (pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH) ::unlink((dir + "/" + name).c_str());
  }
  ::closedir(d);
}

}  // namespace

bool write_all(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    size_t chunk = std::min<size_t>(size, size_t(1) << 30);
    ssize_t n = file_ops().write(fd, p, chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) {
      errno = EIO;
      return false;
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

void atomic_write(const std::string& path, const std::function<bool(int fd)>& emit) {
  remove_stale_temporaries(path);
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
  if (fd.get() < 0) fail(path, errno);
  TempFileGuard guard(tmp);
  if (!emit(fd.get())) fail(path, errno);
  if (file_ops().fsync(fd.get()) != 0) fail(path, errno);
  if (!fd.close()) fail(path, errno);
  if (file_ops().rename(tmp.c_str(), path.c_str()) != 0) fail(path, errno);
  guard.release();
  // Make the rename durable. Some file systems refuse fsync on directories (EINVAL): harmless.
  UniqueFd dir(::open(dir_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() >= 0 && file_ops().fsync(dir.get()) != 0 && errno != EINVAL && errno != EROFS) fail(path, errno);
}

void write_file_atomic(const std::string& path, const std::string& content) {
  atomic_write(path, [&](int fd) { return write_all(fd, content.data(), content.size()); });
}

}  // namespace cnn
