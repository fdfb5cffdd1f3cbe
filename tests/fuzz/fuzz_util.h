#pragma once
// Shared by the fuzz targets (one per reader, issue 15). Each target is a libFuzzer entry point,
// LLVMFuzzerTestOneInput, built two ways: with clang's -fsanitize=fuzzer (scripts/fuzz.sh), and
// with GCC against replay_main.cpp, which runs the seed corpus and tests/fuzz/regressions/ as
// ctest cases. A bad input must end in ConfigError or RuntimeError; anything else (another
// exception, a crash, a sanitizer report, an allocation beyond the budget) is a finding.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>

#include "core/error.h"
#include "core/memory_budget.h"

namespace cnn::fuzz {

// libFuzzer runs with -malloc_limit_mb=512: the readers' memory budget is set below it, so an
// allocation sized from a hostile header is refused by our checks, not by libFuzzer.
inline void init_budget() {
  static const bool done = [] {
    limit_memory_budget(uint64_t(256) << 20, "fuzzing limit");
    return true;
  }();
  (void)done;
}

// A per-process scratch directory (in /dev/shm when there is one), removed at exit.
inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    std::error_code ec;
    const std::filesystem::path base =
        std::filesystem::is_directory("/dev/shm", ec) ? std::filesystem::path("/dev/shm") : std::filesystem::temp_directory_path();
    std::string tmpl = (base / "cnn_fuzz_XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) std::abort();
    static std::string removed = tmpl;
    std::atexit([] {
      std::error_code e;
      std::filesystem::remove_all(removed, e);
    });
    return tmpl;
  }();
  return dir;
}

inline std::string write_file(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = scratch_dir() + "/" + name;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  return path;
}

// Runs `f`; the project's own errors are the expected outcome of bad input.
template <typename F>
int guarded(F&& f) {
  init_budget();
  static const bool verbose = std::getenv("CNN_FUZZ_VERBOSE") != nullptr;  // print what each input gave
  try {
    f();
    if (verbose) std::fprintf(stderr, "  accepted\n");
  } catch (const ConfigError& e) {
    if (verbose) std::fprintf(stderr, "  refused: %s\n", e.what());
  } catch (const RuntimeError& e) {
    if (verbose) std::fprintf(stderr, "  refused: %s\n", e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "finding: an exception that is not ConfigError/RuntimeError escaped: %s\n", e.what());
    std::abort();
  }
  return 0;
}

}  // namespace cnn::fuzz
