// Atomic writes under injected faults (issue 15): ENOSPC, EIO and short writes at every write,
// fsync, close and rename of a checkpoint save, through the FileOps seam. After each: the error
// names the file and the errno, the previous checkpoint still loads bit for bit, no temporary is
// left, and an exception from the writer itself leaks neither the descriptor nor the temporary.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/atomic_file.h"
#include "io/safetensors.h"
#include "../temp_dir.h"

using namespace cnn;
using cnn::test::TempDir;
using cnn::test::slurp;
using cnn::test::spit;

namespace {

// Which call fails, how, and on which occurrence (1-based); counts every call.
struct Fault {
  enum Op { none, write, fsync, close, rename } op = none;
  int nth = 0;
  int err = 0;         // errno to fail with
  bool short_write = false;  // write: return half the bytes first (then fail with err on the next call)
};

Fault g_fault;
int g_calls[5];
FileOps g_real;

bool hit(Fault::Op op) {
  const int call = ++g_calls[op];
  return g_fault.op == op && call == g_fault.nth;
}

ssize_t fake_write(int fd, const void* data, size_t size) {
  const int call = ++g_calls[Fault::write];
  if (g_fault.op == Fault::write) {
    if (g_fault.short_write && call == g_fault.nth - 1 && size > 1)
      return g_real.write(fd, data, size / 2);  // a short write: write_all goes on from there
    if (call == g_fault.nth) {
      errno = g_fault.err;
      return -1;
    }
  }
  return g_real.write(fd, data, size);
}
int fake_fsync(int fd) {
  if (hit(Fault::fsync)) {
    errno = g_fault.err;
    return -1;
  }
  return g_real.fsync(fd);
}
int fake_close(int fd) {
  const int rc = g_real.close(fd);  // the descriptor is released either way, as close(2) does
  if (hit(Fault::close)) {
    errno = g_fault.err;
    return -1;
  }
  return rc;
}
int fake_rename(const char* a, const char* b) {
  if (hit(Fault::rename)) {
    errno = g_fault.err;
    return -1;
  }
  return g_real.rename(a, b);
}

// Installs the fault for one scope.
struct Inject {
  explicit Inject(Fault f) {
    g_real = system_file_ops();
    g_fault = f;
    std::memset(g_calls, 0, sizeof g_calls);
    file_ops() = FileOps{fake_write, fake_fsync, fake_rename, fake_close};
  }
  ~Inject() { file_ops() = system_file_ops(); }
  Inject(const Inject&) = delete;
  Inject& operator=(const Inject&) = delete;
};

int open_fds() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  while (d && ::readdir(d)) ++n;
  if (d) ::closedir(d);
  return n;
}

Tensor filled(Shape s, float v) {
  Tensor t(s);
  t.fill(v);
  return t;
}

}  // namespace

TEST_CASE("atomic writes: every injected fault keeps the previous checkpoint", "[io][faults][hostile]") {
  TempDir dir;
  const std::string path = dir / "last.safetensors";
  Tensor old_w = filled({64, 64}, 1.0f), new_w = filled({64, 64}, 2.0f), counter = filled({}, 5.0f);
  write_safetensors(path, {{"w", &old_w}, {"n", &counter, true}}, {{"epoch", "1"}}, true);
  const std::string old_bytes = slurp(path);
  const int fds = open_fds();

  // Count the calls of a clean save, then fail each one in turn, each way.
  int fsyncs = 0;
  {
    Inject probe(Fault{});
    write_safetensors(dir / "probe.safetensors", {{"w", &new_w}, {"n", &counter, true}}, {{"epoch", "2"}}, true);
    fsyncs = g_calls[Fault::fsync];
  }
  std::vector<Fault> faults;
  for (int err : {ENOSPC, EIO}) {
    for (int k = 1; k <= 4; ++k) faults.push_back({Fault::write, k, err, false});  // length, header, w, n
    for (int k = 2; k <= 4; ++k) faults.push_back({Fault::write, k, err, true});   // short, then the error
    faults.push_back({Fault::fsync, 1, err, false});   // the file
    faults.push_back({Fault::close, 1, err, false});
    faults.push_back({Fault::rename, 1, err, false});
  }
  faults.push_back({Fault::rename, 1, EXDEV, false});
  int failed = 0;
  for (const Fault& f : faults) {
    INFO("fault op " << f.op << " call " << f.nth << " errno " << f.err << (f.short_write ? " after a short write" : ""));
    std::string msg;
    {
      Inject inject(f);
      try {
        write_safetensors(path, {{"w", &new_w}, {"n", &counter, true}}, {{"epoch", "2"}}, true);
      } catch (const RuntimeError& e) {
        msg = e.what();
      }
    }
    if (msg.empty()) continue;
    ++failed;
    CHECK(msg == "cannot write '" + path + "': " + std::strerror(f.err));
    CHECK(slurp(path) == old_bytes);
    SafetensorsFile back = read_safetensors(path);
    CHECK(back.tensors.at("w")[0] == 1.0f);
    CHECK(back.metadata.at("epoch") == "1");
    for (const auto& name : dir.list()) CHECK(name.find(".tmp.") == std::string::npos);
  }
  CHECK(failed == int(faults.size()));
  // The directory fsync after the rename: the new file is in place, and the error is still reported.
  {
    Inject inject(Fault{Fault::fsync, fsyncs, EIO, false});
    CHECK_THROWS_WITH(write_safetensors(path, {{"w", &new_w}}, {{"epoch", "2"}}, true),
                      "cannot write '" + path + "': " + std::strerror(EIO));
  }
  CHECK(read_safetensors(path).tensors.at("w")[0] == 2.0f);
  write_safetensors(path, {{"w", &old_w}}, {{"epoch", "3"}}, true);
  CHECK(read_safetensors(path).tensors.at("w")[0] == 1.0f);
  CHECK(open_fds() == fds);  // no descriptor leaked on any path
}

TEST_CASE("atomic writes: short writes are completed", "[io][faults]") {
  TempDir dir;
  struct Halver {
    static ssize_t write(int fd, const void* d, size_t n) { return ::write(fd, d, n > 1 ? n / 2 : n); }
  };
  FileOps ops = system_file_ops();
  ops.write = Halver::write;
  file_ops() = ops;
  const std::string content(100000, 'q');
  write_file_atomic(dir / "m.jsonl", content);
  file_ops() = system_file_ops();
  CHECK(slurp(dir / "m.jsonl") == content);
}

TEST_CASE("atomic writes: an exception from the writer leaks neither descriptor nor temporary", "[io][faults]") {
  TempDir dir;
  const std::string path = dir / "f.txt";
  spit(path, "old");
  const int fds = open_fds();
  CHECK_THROWS_WITH(atomic_write(path, [](int fd) -> bool {
                      REQUIRE(::write(fd, "partial", 7) == 7);
                      throw std::runtime_error("writer failed");
                    }),
                    "writer failed");
  CHECK(open_fds() == fds);
  CHECK(dir.list() == std::vector<std::string>{"f.txt"});
  CHECK(slurp(path) == "old");
}

TEST_CASE("atomic writes: temporaries of killed writers are removed, live ones kept", "[io][faults]") {
  TempDir dir;
  const std::string path = dir / "last.safetensors";
  // A pid that cannot be running (above pid_max) and our parent's (alive).
  spit(path + ".tmp.999999999", "torn");
  spit(path + ".tmp." + std::to_string(::getppid()), "someone else's");
  spit(dir / "other.tmp.999999999", "not ours");
  write_file_atomic(path, "new");
  CHECK(dir.list() == std::vector<std::string>{"last.safetensors", "last.safetensors.tmp." + std::to_string(::getppid()),
                                               "other.tmp.999999999"});
  CHECK(slurp(path) == "new");
}
