#pragma once
// Helpers for the data tests: temporary folders, small files, and the real datasets in
// ../shared/data (tests that need one skip with the reason when it is absent).
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <fstream>
#include <string>

#include "skip.h"

#ifndef CNN_SHARED_DATA
#define CNN_SHARED_DATA "../shared/data"
#endif
#ifndef CNN_BINARY_DIR
#define CNN_BINARY_DIR "."
#endif

namespace cnn::test {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "cnn_data_XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string str() const { return path.string(); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

inline void write_bytes(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(f.good());
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

inline bool python_has(const std::string& modules) {
  return ::access("/usr/bin/python3", X_OK) == 0 &&
         std::system(("/usr/bin/python3 -c 'import " + modules + "' >/dev/null 2>&1").c_str()) == 0;
}

inline std::string shared_data(const std::string& rel) { return std::string(CNN_SHARED_DATA) + "/" + rel; }

// The official CIFAR-10 binary layout, made once per build tree from ../shared/data/cifar10 with
// its make_cifar10_bin.py (about 15 s) into <build>/test-data/cifar10/cifar-10-batches-bin. A
// lock file serializes concurrent tests; the folder appears by rename when complete. Skips when
// the shared data or python3 with numpy and PIL is missing.
inline std::string cifar10_root() {
  const std::string src = shared_data("cifar10");
  if (!fs::exists(src + "/cifar10-jpg.tar.gz") || !fs::exists(src + "/make_cifar10_bin.py"))
    skip_test("CIFAR-10 not found at " + src);
  const fs::path base = fs::path(CNN_BINARY_DIR) / "test-data";
  const fs::path done = base / "cifar10" / "cifar-10-batches-bin";
  if (fs::exists(done / "test_batch.bin")) return done.string();
  if (!python_has("numpy, PIL")) skip_test("/usr/bin/python3 with numpy and PIL is needed to make the CIFAR-10 layout");
  fs::create_directories(base);
  const std::string lock_path = (base / "cifar10.lock").string();
  const int fd = ::open(lock_path.c_str(), O_CREAT | O_RDWR, 0644);
  REQUIRE(fd >= 0);
  ::flock(fd, LOCK_EX);
  if (!fs::exists(done / "test_batch.bin")) {
    const fs::path tmp = base / "cifar10.tmp";
    std::error_code ec;
    fs::remove_all(tmp, ec);
    const std::string cmd = "/usr/bin/python3 " + src + "/make_cifar10_bin.py --tar " + src +
                            "/cifar10-jpg.tar.gz --out " + tmp.string() + " >/dev/null";
    const int rc = std::system(cmd.c_str());
    if (rc != 0) {
      ::close(fd);
      FAIL("make_cifar10_bin.py failed: " << cmd);
    }
    fs::remove_all(base / "cifar10", ec);
    fs::rename(tmp, base / "cifar10");
  }
  ::close(fd);
  return done.string();
}

// The reference folder a committed /usr/bin/python3 script writes (`script <dir> <extra_args>`),
// made once per build tree and per version of the script (<build>/test-data/<prefix>-<hash>,
// complete when `marker` exists; a lock keeps parallel tests from writing it twice). Skips
// without the Python modules.
inline std::string python_reference_dir(const std::string& script, const std::string& prefix,
                                        const std::string& marker, const std::string& extra_args = "") {
  const std::string text = read_bytes(script);
  const fs::path dir = fs::path(CNN_BINARY_DIR) / "test-data" /
                       (prefix + "-" + std::to_string(std::hash<std::string>{}(text) % 1000000007));
  if (fs::exists(dir / marker)) return dir.string();
  if (!python_has("torch, torchvision, numpy, PIL"))
    skip_test("/usr/bin/python3 with torch, torchvision, numpy and PIL is needed for the reference pixels");
  fs::create_directories(dir.parent_path());
  const int fd = ::open((dir.string() + ".lock").c_str(), O_CREAT | O_RDWR, 0644);
  REQUIRE(fd >= 0);
  ::flock(fd, LOCK_EX);
  if (!fs::exists(dir / marker)) {
    const fs::path tmp = dir.string() + ".tmp";
    std::error_code ec;
    fs::remove_all(tmp, ec);
    const std::string cmd = "/usr/bin/python3 " + script + " " + tmp.string() + extra_args;
    if (std::system(cmd.c_str()) != 0) {
      ::close(fd);
      FAIL("reference script failed: " << cmd);
    }
    fs::rename(tmp, dir);
  }
  ::close(fd);
  return dir.string();
}

}  // namespace cnn::test
