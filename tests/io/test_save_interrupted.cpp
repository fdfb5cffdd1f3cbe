// A second Ctrl-C during a checkpoint save (issue 15): the first asks the trainer to stop and save,
// the second exits at once (core/interrupt.h), possibly in the middle of the save. In a child
// process with the real signal handlers, the second SIGINT arrives at every write, fsync, close
// and rename of the save in turn: the file under the final name is always the previous checkpoint
// or the complete new one (never a torn file), and the temporary the killed save left is removed
// by the next save.
#include <signal.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <string>

#include "core/interrupt.h"
#include "io/atomic_file.h"
#include "io/safetensors.h"
#include "../temp_dir.h"

using namespace cnn;
using cnn::test::TempDir;
using cnn::test::slurp;

namespace {

enum Op { kWrite, kFsync, kClose, kRename, kOps };
const char* const kOpNames[kOps] = {"write", "fsync", "close", "rename"};

// In the child: raise the second SIGINT just before the `g_nth` call of `g_op`.
Op g_op = kWrite;
int g_nth = 0;
int g_calls[kOps];
FileOps g_real;

void maybe_signal(Op op) {
  if (++g_calls[op] == g_nth && op == g_op) ::raise(SIGINT);
}
ssize_t sig_write(int fd, const void* p, size_t n) { return maybe_signal(kWrite), g_real.write(fd, p, n); }
int sig_fsync(int fd) { return maybe_signal(kFsync), g_real.fsync(fd); }
int sig_close(int fd) { return maybe_signal(kClose), g_real.close(fd); }
int sig_rename(const char* a, const char* b) { return maybe_signal(kRename), g_real.rename(a, b); }

Tensor filled(float v) {
  Tensor t(Shape{32, 32});
  t.fill(v);
  return t;
}

// Saves `w` to `path` in a child that has had one SIGINT already and gets the second one at the
// nth call of `op` (never, when there are fewer). Returns the child's exit status.
int save_with_second_signal(const std::string& path, const Tensor& w, Op op, int nth, int* calls) {
  int counts[2 * kOps] = {};
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(pipe_fds[0]);
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 2);  // the handler's "interrupted twice" message
    install_interrupt_handlers();
    ::raise(SIGINT);  // the first Ctrl-C: the trainer finishes its step and saves
    g_real = system_file_ops();
    g_op = op, g_nth = nth;
    file_ops() = FileOps{sig_write, sig_fsync, sig_rename, sig_close};
    try {
      write_safetensors(path, {{"w", &w}}, {{"epoch", "2"}}, true);
    } catch (...) {
      ::_exit(3);
    }
    (void)!::write(pipe_fds[1], g_calls, sizeof g_calls);
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  (void)!::read(pipe_fds[0], counts, sizeof g_calls);
  ::close(pipe_fds[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  if (calls) std::copy(counts, counts + kOps, calls);
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

}  // namespace

TEST_CASE("a second SIGINT at any point of a checkpoint save leaves the previous file or the new one",
          "[io][faults][signal]") {
  TempDir dir;
  const std::string path = dir / "last.safetensors";
  const Tensor old_w = filled(1.0f), new_w = filled(2.0f);
  write_safetensors(path, {{"w", &old_w}}, {{"epoch", "1"}}, true);
  const std::string old_bytes = slurp(path);
  write_safetensors(dir / "new.safetensors", {{"w", &new_w}}, {{"epoch", "2"}}, true);
  const std::string new_bytes = slurp(dir / "new.safetensors");

  // A save without the second signal: how many calls of each kind it makes.
  int calls[kOps] = {};
  REQUIRE(save_with_second_signal(dir / "probe.safetensors", new_w, kWrite, 0, calls) == 0);
  REQUIRE(calls[kWrite] >= 2);
  REQUIRE(calls[kRename] == 1);
  int interrupted = 0, kept_old = 0;
  for (int op = 0; op < kOps; ++op)
    for (int nth = 1; nth <= calls[op]; ++nth) {
      INFO("second SIGINT before " << kOpNames[op] << " call " << nth);
      write_safetensors(path, {{"w", &old_w}}, {{"epoch", "1"}}, true);  // the previous checkpoint
      const int status = save_with_second_signal(path, new_w, Op(op), nth, nullptr);
      CHECK(status == 130);  // exited at once
      interrupted += status == 130;
      const std::string now = slurp(path);
      CHECK((now == old_bytes || now == new_bytes));
      kept_old += now == old_bytes;
      // Before the rename the previous file stays; after it the new one is complete.
      if (op != kFsync && op != kClose) CHECK(now == old_bytes);
      const SafetensorsFile back = read_safetensors(path);  // loads, checksums verified
      CHECK(back.tensors.at("w")[0] == (now == old_bytes ? 1.0f : 2.0f));
    }
  CHECK(interrupted == calls[kWrite] + calls[kFsync] + calls[kClose] + calls[kRename]);
  CHECK(kept_old > 0);
  // The killed saves left their temporaries; the next save removes them.
  write_safetensors(path, {{"w", &new_w}}, {{"epoch", "2"}}, true);
  for (const std::string& name : dir.list()) CHECK(name.find(".tmp.") == std::string::npos);
  CHECK(slurp(path) == new_bytes);
}
